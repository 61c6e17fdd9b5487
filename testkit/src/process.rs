//! A child process that is killed and reaped when the guard drops.

use std::process::Child;

/// Owns a spawned process: on drop, SIGKILL to that PID (only) and a wait.
pub struct ProcessGuard {
    child: Child,
}

impl ProcessGuard {
    pub fn new(child: Child) -> Self {
        ProcessGuard { child }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Waits for the process to end, up to `timeout`; returns its status if it did.
    pub fn wait_timeout(
        &mut self,
        timeout: std::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Whether a process with this PID exists (and is not a zombie).
pub fn is_alive(pid: i32) -> bool {
    !matches!(state_of(pid), 'Z' | 'X' | '?')
}

/// The children of `pid`, from /proc/PID/task/*/children.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut kids = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return kids;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            kids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    kids
}

/// The state letter of a process (R, S, D, T, Z...), or '?' when it is gone.
pub fn state_of(pid: i32) -> char {
    std::fs::read(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| nsproc::procinfo::parse_stat(&s))
        .map_or('?', |s| s.state)
}

/// Polls `cond` every 10 ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    cond()
}

/// Waits up to `timeout` until `path` holds a PID (as `--pid-file` writes it).
pub fn read_pid_file(path: &std::path::Path, timeout: std::time::Duration) -> Option<i32> {
    let mut pid = None;
    wait_until(timeout, || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        pid.is_some()
    });
    pid
}
