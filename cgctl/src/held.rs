//! Processes and threads held from lookup to their last write (and rollback): each
//! target is an [`nsproc::Process`], opened by pidfd, and checked to be the same
//! process right before its PID is written anywhere. A PID whose process exited in
//! between (and may now name another process) is refused, nothing written.
//!
//! A thread ID (`add --threads`) cannot have a pidfd (pidfd_open takes process IDs):
//! the /proc/TID directory alone holds it, so a thread that exits and whose TID is
//! reused before the directory is opened goes unnoticed; after that, its end is seen.
//! The same holds for every target on kernels without pidfds (before 5.3).

use nsproc::cgroup::Membership;
use nsproc::Process;

use crate::error::{Error, Result};

/// One process (or thread) cgctl is about to move.
#[derive(Debug)]
pub struct Held {
    proc: Process,
    thread: bool,
}

impl Held {
    /// Opens `pid` (a TID with `thread`). A PID with no process is an error, and so is
    /// a zombie: it has exited, and moving it would change nothing.
    pub fn open(pid: i32, thread: bool) -> Result<Held> {
        let proc = Process::open(pid)?;
        if proc.is_zombie()? {
            return Err(Error::Refused(format!(
                "{} {pid} has exited (a zombie, not yet reaped by its parent): nothing to move",
                kind(thread)
            )));
        }
        Ok(Held { proc, thread })
    }

    pub fn pid(&self) -> i32 {
        self.proc.pid()
    }

    pub fn thread(&self) -> bool {
        self.thread
    }

    /// "PID" or "thread".
    pub fn kind(&self) -> &'static str {
        kind(self.thread)
    }

    /// Its cgroup in each hierarchy, read through the handle.
    pub fn cgroups(&self) -> Result<Vec<Membership>> {
        Ok(self.proc.cgroups()?)
    }

    /// Checks that it is still the process looked up, before its PID is written.
    pub fn ensure_same(&self) -> Result<()> {
        self.proc.ensure_same().map_err(|e| match e {
            nsproc::Error::Exited { pid } => Error::Refused(format!(
                "{} {pid} exited after it was looked up (its number may now name another process): not written",
                self.kind()
            )),
            e => e.into(),
        })
    }

    /// Refuses PID 1, a kernel thread and cgctl's own ancestors unless `force`: moving
    /// them is almost always a mistake (a typo, or a script's empty variable).
    pub fn refuse_protected(&self, force: bool) -> Result<()> {
        if force {
            return Ok(());
        }
        let pid = self.pid();
        let why = if pid == 1 {
            Some("it is init, the first process".to_string())
        } else if self.proc.is_kernel_thread()? {
            Some("it is a kernel thread".to_string())
        } else if !self.thread && ancestors()?.contains(&pid) {
            Some("it is one of cgctl's own ancestors (its parent, or further up)".to_string())
        } else {
            None
        };
        match why {
            Some(why) => Err(Error::Usage(format!(
                "will not move {} {pid}: {why}; add --force to move it anyway",
                self.kind()
            ))),
            None => Ok(()),
        }
    }
}

fn kind(thread: bool) -> &'static str {
    if thread {
        "thread"
    } else {
        "PID"
    }
}

/// cgctl's parent, its parent, and so on up to the top of its PID namespace.
fn ancestors() -> Result<Vec<i32>> {
    let mut out = Vec::new();
    let mut pid = std::os::unix::process::parent_id() as i32;
    // A chain longer than this would be a loop; pid_max bounds the real ones far below.
    while pid > 0 && out.len() < 4096 && !out.contains(&pid) {
        out.push(pid);
        pid = match Process::open(pid).and_then(|p| p.stat()) {
            Ok(stat) => stat.ppid,
            // Gone meanwhile: its children went to a reaper, the chain ends here.
            Err(nsproc::Error::NoSuchProcess { .. } | nsproc::Error::Exited { .. }) => break,
            // Any other failure must not let an ancestor through unchecked.
            Err(e) => return Err(e.into()),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_targets() {
        let parent = std::os::unix::process::parent_id() as i32;
        let held = Held::open(parent, false).unwrap();
        let msg = held.refuse_protected(false).unwrap_err().to_string();
        assert!(msg.contains("cgctl's own ancestors"), "{msg}");
        held.refuse_protected(true).unwrap();
        assert!(ancestors().unwrap().contains(&parent));
        let me = Held::open(std::process::id() as i32, false).unwrap();
        me.refuse_protected(false).unwrap();
        me.ensure_same().unwrap();
        assert!(!me.cgroups().unwrap().is_empty());
    }

    #[test]
    fn missing_and_zombie_targets() {
        let msg = Held::open(i32::MAX, false).unwrap_err().to_string();
        assert_eq!(msg, format!("no process with PID {}", i32::MAX));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        // Not waited for: a zombie once it has run.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while Process::open(pid).and_then(|p| p.is_zombie()).ok() != Some(true)
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let msg = Held::open(pid, false).unwrap_err().to_string();
        assert!(msg.contains("zombie"), "{msg}");
        child.wait().unwrap();
    }
}
