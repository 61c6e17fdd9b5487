//! Processes and cgroups: moving processes or threads in, listing who is inside.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use nix::errno::Errno;

use crate::cgroup::retry::{Backoff, Budget};
use crate::cgroup::CgroupDir;
use crate::error::{Error, Result};
use crate::held::Held;
use crate::hook;
use crate::layout::Version;

/// Parses a PID: a positive whole number (blanks around it are allowed).
pub fn parse_pid(s: &str) -> Result<i32> {
    nsproc::target::parse_pid(s.trim())
        .map_err(|_| Error::value("PID", s, "expected a positive whole number"))
}

/// Whether `s` looks like a PID (digits only), rather than a cgroup name.
pub fn looks_like_pid(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads PIDs from `input`, one a line; blank lines are skipped.
pub fn read_pids(input: impl BufRead) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    for line in input.lines() {
        let line = line.map_err(|e| Error::file("read", "standard input", e))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_pid(&line)?);
    }
    Ok(out)
}

/// Moves the process (or thread) `held` into the cgroup `dir`, after checking that it
/// is still the process looked up. A brief EINVAL (a process still being set up by
/// fork) is retried.
pub fn attach(dir: &CgroupDir, version: Version, held: &Held) -> Result<()> {
    hook::checkpoint("move")?;
    held.ensure_same()?;
    write_pid(dir, version, held.pid(), held.thread(), || {
        held.ensure_same().is_ok()
    })
}

/// Writes `pid` to the file of `dir` that moves it; `alive` tells a process still
/// being set up (EINVAL, retried) from one that has gone.
fn write_pid(
    dir: &CgroupDir,
    version: Version,
    pid: i32,
    thread: bool,
    alive: impl Fn() -> bool,
) -> Result<()> {
    let file = match (thread, version) {
        (false, _) => "cgroup.procs",
        (true, Version::V1) => "tasks",
        (true, Version::V2) => "cgroup.threads",
    };
    let kind = if thread { "thread" } else { "PID" };
    let forking = Backoff {
        first: Duration::from_millis(1),
        max_delay: Duration::from_millis(128),
        budget: Budget::Retries(8),
    };
    let write = || {
        dir.write(file, &pid.to_string())
            .map_err(|e| e.errno().unwrap_or(Errno::EIO))
    };
    let still_forking = |e: &Errno| *e == Errno::EINVAL && alive();
    let Err(err) = forking.retry(write, still_forking) else {
        return Ok(());
    };
    let hint = match (err, version) {
        (Errno::ESRCH, _) => format!(
            " (no {} {pid} exists: it may have exited)",
            if thread { "thread" } else { "process" }
        ),
        (Errno::ENOENT, _) => " (the cgroup was removed meanwhile)".to_string(),
        (Errno::EBUSY, Version::V2) => " (cgroup v2's \"no internal processes\" rule: this cgroup has controllers enabled in cgroup.subtree_control, so it may only hold child cgroups; put the process in a child, e.g. 'cgctl add GROUP/leaf PID')".to_string(),
        (Errno::EOPNOTSUPP, Version::V2) if thread => " (single threads can only move between cgroups of a threaded subtree; write 'threaded' to cgroup.type first)".to_string(),
        (Errno::ENOSPC, _) => " (the cgroup's cpuset has no CPUs or memory nodes; set them with 'cgctl limit cpuset' and 'cgctl limit mems')".to_string(),
        (Errno::EINVAL, _) => " (a kernel thread, or a process that cannot be moved)".to_string(),
        _ => String::new(),
    };
    Err(Error::Attach {
        kind,
        pid,
        path: dir.path().to_path_buf(),
        source: err,
        hint,
    })
}

/// Processes (or threads) moved by this call. Unless [`Moves::keep`] is called, each
/// is moved back, newest first, into the cgroup it came from when this is dropped: a
/// failure halfway through `add`, `limit` or `exec` leaves every process where it was.
/// Drop it before the [`crate::cgfs::Created`] guard of the cgroups they were moved
/// into, so that those are empty when they are removed.
#[derive(Default)]
pub struct Moves {
    back: Vec<(PathBuf, Version, Rc<Held>)>,
}

impl Moves {
    /// Moves `held` into `dir`, remembering `from` (its cgroup before, in the same
    /// hierarchy) to move it back to.
    pub fn attach(
        &mut self,
        dir: &CgroupDir,
        from: Option<&Path>,
        version: Version,
        held: &Rc<Held>,
    ) -> Result<()> {
        attach(dir, version, held)?;
        if let Some(from) = from.filter(|f| *f != dir.path()) {
            self.back
                .push((from.to_path_buf(), version, Rc::clone(held)));
        }
        hook::checkpoint("moved")
    }

    /// The work succeeded: leave the processes where they are now.
    pub fn keep(mut self) {
        self.back.clear();
    }
}

impl Drop for Moves {
    /// Moves each process back, newest first; one that exited meanwhile is not
    /// written (its PID may name another process now). Every failure is reported on
    /// stderr, and the others are still moved back.
    fn drop(&mut self) {
        for (dir, version, held) in self.back.iter().rev() {
            let back = hook::checkpoint("rollback")
                .and_then(|()| CgroupDir::open(dir))
                .and_then(|d| attach(&d, *version, held));
            if let Err(e) = back {
                let e = format!("cannot move {} {} back: {e}", held.kind(), held.pid());
                nscli::report::error("cgctl", &e);
            }
        }
    }
}

/// The PIDs in `dir`'s cgroup.procs.
pub fn pids(dir: &Path) -> Result<Vec<i32>> {
    let text = crate::cgfs::read(&dir.join("cgroup.procs"))?;
    Ok(parse_pids(&text))
}

/// Like [`pids`], but a cgroup removed meanwhile (by someone else) has none.
pub fn pids_if_there(dir: &Path) -> Result<Vec<i32>> {
    match std::fs::read_to_string(dir.join("cgroup.procs")) {
        Ok(text) => Ok(parse_pids(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::file("read", dir.join("cgroup.procs"), e)),
    }
}

fn parse_pids(text: &str) -> Vec<i32> {
    text.lines().filter_map(|l| l.trim().parse().ok()).collect()
}

/// A process's command line (or its name in brackets for a kernel thread), read
/// through nsproc (control characters shown as spaces); None if it has gone.
pub fn command(pid: i32) -> Option<String> {
    command_of(&nsproc::Process::open(pid).ok()?)
}

/// [`command`] of a process already open.
pub fn command_of(proc: &nsproc::Process) -> Option<String> {
    let cmdline = proc.read(c"cmdline").ok()?;
    if !cmdline.is_empty() {
        return Some(nsproc::procinfo::format_cmdline(&cmdline));
    }
    Some(format!("[{}]", proc.comm().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_writes_the_file_of_the_version() {
        use crate::cgroup::testdir::cgroup;
        let cg = cgroup(
            &[("cgroup.procs", ""), ("tasks", ""), ("cgroup.threads", "")],
            &[],
        );
        let yes = || true;
        write_pid(&cg.dir, Version::V2, 42, false, yes).unwrap();
        assert_eq!(cg.file("cgroup.procs"), "42");
        write_pid(&cg.dir, Version::V1, 43, true, yes).unwrap();
        assert_eq!(cg.file("tasks"), "43");
        write_pid(&cg.dir, Version::V2, 44, true, yes).unwrap();
        assert_eq!(cg.file("cgroup.threads"), "44");
        let me = Held::open(std::process::id() as i32, false).unwrap();
        attach(&cg.dir, Version::V2, &me).unwrap();
        assert_eq!(cg.file("cgroup.procs"), std::process::id().to_string());
        let gone = cgroup(&[], &[]);
        let err = write_pid(&gone.dir, Version::V1, 42, false, yes).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cannot move PID 42 into "), "{msg}");
        assert!(msg.ends_with("(the cgroup was removed meanwhile)"), "{msg}");
    }

    #[test]
    fn commands() {
        let me = command(std::process::id() as i32).unwrap();
        assert!(!me.is_empty() && !me.contains('\0'), "{me}");
        assert_eq!(command(i32::MAX), None);
    }

    #[test]
    fn pids_parse() {
        assert_eq!(parse_pid("42").unwrap(), 42);
        assert_eq!(parse_pid(" 42\n").unwrap(), 42);
        for bad in ["0", "-1", "x", "", "99999999999"] {
            assert!(parse_pid(bad).is_err(), "{bad}");
        }
        assert!(looks_like_pid("123"));
        assert!(!looks_like_pid("box"));
        assert!(!looks_like_pid("12a"));
        let pids = read_pids("1\n\n 22 \n".as_bytes()).unwrap();
        assert_eq!(pids, [1, 22]);
        assert!(read_pids("1\nx\n".as_bytes()).is_err());
    }
}
