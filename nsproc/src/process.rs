//! A process held by a pidfd and its /proc/PID directory, and everything read about it
//! relative to that directory.
//!
//! [`Process::open`] opens the pidfd first, then /proc/PID, then checks through the
//! pidfd that the process still exists: had it been reaped in between, /proc/PID could
//! belong to a newcomer with the same PID. So the directory provably belongs to the
//! held process, and [`Process::ensure_same`] tells, before acting on the PID, that the
//! process has not exited since.
//!
//! Without pidfds (Linux < 5.3, ENOSYS) and for a thread ID (pidfd_open takes process
//! IDs only), the directory alone holds the process: it is opened by PID, so a process
//! reaped and replaced by another of the same PID just before the open goes unnoticed.

use std::ffi::{CStr, OsString};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::signal::{kill, Signal};
use nix::sys::stat::{fstat, fstatat, Mode};
use nix::unistd::Pid;

use crate::cgroup::{self, Membership};
use crate::error::{io_errno, Error, Result};
use crate::kind::Kind;
use crate::mountinfo::{self, Mount};
use crate::nsid::{NsFile, NsId};
use crate::pidfd;
use crate::procinfo::{self, Stat, Status};

/// One process, held from open to drop.
#[derive(Debug)]
pub struct Process {
    pid: i32,
    /// `None` without pidfd support, or for a thread ID.
    pidfd: Option<OwnedFd>,
    dir: OwnedFd,
}

impl Process {
    /// Opens process `pid`: [`Error::NoSuchProcess`] when there is none.
    pub fn open(pid: i32) -> Result<Process> {
        let gone = Error::NoSuchProcess { pid };
        let pidfd = match pidfd::open(pid) {
            Ok(fd) => fd,
            Err(Errno::ESRCH) => return Err(gone),
            // A thread ID: /proc has a hidden directory for it, pidfd_open refuses it.
            Err(Errno::EINVAL) => None,
            Err(source) => {
                return Err(Error::Process {
                    what: "open a pidfd of",
                    pid,
                    source,
                })
            }
        };
        let path = format!("/proc/{pid}");
        let dir = nix::fcntl::open(
            path.as_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::ENOENT | Errno::ESRCH => Error::NoSuchProcess { pid },
            e => Error::sys("open", path, e),
        })?;
        if let Some(fd) = &pidfd {
            // Reaped between the two opens: the directory may be another process's.
            match pidfd::exists(fd.as_fd()) {
                Ok(true) => {}
                Ok(false) => return Err(gone),
                Err(source) => {
                    return Err(Error::Process {
                        what: "signal",
                        pid,
                        source,
                    })
                }
            }
        }
        Ok(Process { pid, pidfd, dir })
    }

    /// The calling process.
    pub fn current() -> Result<Process> {
        Process::open(std::process::id() as i32)
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The pidfd, when the kernel has them and `pid` named a process.
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// The /proc/PID directory (an `O_PATH` descriptor).
    pub fn dir(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }

    /// Checks that the process is still the one opened, and running: [`Error::Exited`]
    /// once it has exited (a zombie included), when its PID may soon name another.
    pub fn ensure_same(&self) -> Result<()> {
        let exited = match &self.pidfd {
            Some(fd) => pidfd::has_exited(fd.as_fd()).map_err(|source| Error::Process {
                what: "poll the pidfd of",
                pid: self.pid,
                source,
            })?,
            None => match self.stat() {
                Ok(stat) => stat.is_zombie(),
                Err(Error::NoSuchProcess { .. }) => true,
                Err(e) => return Err(e),
            },
        };
        if exited {
            return Err(Error::Exited { pid: self.pid });
        }
        Ok(())
    }

    /// Sends `sig` to the process held: through the pidfd, so never to a process that
    /// took over its PID ([`Error::Exited`] once it has been reaped). Without a pidfd,
    /// by PID after [`ensure_same`](Self::ensure_same), with the race that leaves.
    pub fn send_signal(&self, sig: Signal) -> Result<()> {
        let sent = match &self.pidfd {
            Some(fd) => pidfd::send_signal(fd.as_fd(), sig),
            None => {
                self.ensure_same()?;
                kill(Pid::from_raw(self.pid), sig)
            }
        };
        sent.map_err(|source| match source {
            Errno::ESRCH => Error::Exited { pid: self.pid },
            source => Error::Process {
                what: "signal",
                pid: self.pid,
                source,
            },
        })
    }

    /// Whether the process has exited and awaits its parent's wait (state `Z`).
    /// [`Error::NoSuchProcess`] once it has been reaped.
    pub fn is_zombie(&self) -> Result<bool> {
        Ok(self.stat()?.is_zombie())
    }

    fn shown(&self, name: &CStr) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{}", self.pid, name.to_string_lossy()))
    }

    /// The identity of the namespace behind `name` (e.g. `ns/pid_for_children`);
    /// `None` when the link is missing (a zombie, or a kernel without that type).
    pub fn ns_id_at(&self, name: &CStr) -> Result<Option<NsId>> {
        match fstatat(&self.dir, name, AtFlags::empty()) {
            Ok(st) => Ok(Some(NsId::of(&st))),
            Err(Errno::ENOENT) => Ok(None),
            Err(Errno::ESRCH) => Err(Error::NoSuchProcess { pid: self.pid }),
            Err(e) => Err(Error::sys("stat", self.shown(name), e)),
        }
    }

    /// The identity of its namespace of `kind`; `None` when the link is missing.
    pub fn ns_id(&self, kind: Kind) -> Result<Option<NsId>> {
        self.ns_id_at(kind.ns_link())
    }

    /// Opens its namespace of `kind`; `None` when the link is missing.
    pub fn open_ns(&self, kind: Kind) -> Result<Option<NsFile>> {
        let name = kind.ns_link();
        match NsFile::open_at(self.dir.as_fd(), name, &self.shown(name)) {
            Ok(ns) => Ok(Some(ns)),
            Err(e) if e.errno() == Some(Errno::ENOENT) => Ok(None),
            Err(e) if e.errno() == Some(Errno::ESRCH) => {
                Err(Error::NoSuchProcess { pid: self.pid })
            }
            Err(e) => Err(e),
        }
    }

    /// Reads a file below /proc/PID whole (`status`, `uid_map`...).
    pub fn read(&self, name: &CStr) -> Result<Vec<u8>> {
        let fd = openat(
            &self.dir,
            name,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::sys("open", self.shown(name), e))?;
        read_all(std::fs::File::from(fd))
            .map_err(|e| Error::sys("read", self.shown(name), io_errno(&e)))
    }

    /// Like [`read`](Self::read), but a process that is gone is [`Error::NoSuchProcess`].
    fn read_live(&self, name: &CStr) -> Result<Vec<u8>> {
        self.read(name).map_err(|e| match e.errno() {
            Some(Errno::ENOENT | Errno::ESRCH) => Error::NoSuchProcess { pid: self.pid },
            _ => e,
        })
    }

    fn parse_error(&self, name: &CStr, why: &str) -> Error {
        Error::Parse {
            path: self.shown(name),
            why: why.to_string(),
        }
    }

    /// Command name, state and parent PID, from /proc/PID/stat.
    pub fn stat(&self) -> Result<Stat> {
        let raw = self.read_live(c"stat")?;
        procinfo::parse_stat(&raw)
            .ok_or_else(|| self.parse_error(c"stat", "not PID (COMM) STATE PPID ..."))
    }

    /// Whether it is a kernel thread (`PF_KTHREAD` in /proc/PID/stat).
    pub fn is_kernel_thread(&self) -> Result<bool> {
        let raw = self.read_live(c"stat")?;
        let flags = procinfo::parse_stat_flags(&raw)
            .ok_or_else(|| self.parse_error(c"stat", "no flags field"))?;
        Ok(flags & procinfo::PF_KTHREAD != 0)
    }

    /// PPid, Uid and NSpid, from /proc/PID/status.
    pub fn status(&self) -> Result<Status> {
        let raw = self.read_live(c"status")?;
        Ok(procinfo::parse_status(&String::from_utf8_lossy(&raw)))
    }

    /// The arguments, from /proc/PID/cmdline; empty for kernel threads and zombies.
    pub fn cmdline(&self) -> Result<Vec<OsString>> {
        Ok(procinfo::split_cmdline(&self.read_live(c"cmdline")?))
    }

    /// The command name (at most 15 bytes), from /proc/PID/comm.
    pub fn comm(&self) -> Result<String> {
        let raw = self.read_live(c"comm")?;
        let raw = raw.strip_suffix(b"\n").unwrap_or(&raw);
        Ok(String::from_utf8_lossy(raw).into_owned())
    }

    /// The owner of /proc/PID: the process's effective uid, as ps and lsns show it.
    pub fn uid(&self) -> Result<u32> {
        fstat(&self.dir)
            .map(|st| st.st_uid)
            .map_err(|e| Error::sys("stat", format!("/proc/{}", self.pid), e))
    }

    /// Its cgroup in each hierarchy, from /proc/PID/cgroup.
    pub fn cgroups(&self) -> Result<Vec<Membership>> {
        let raw = self.read_live(c"cgroup")?;
        cgroup::parse(&String::from_utf8_lossy(&raw))
            .map_err(|why| self.parse_error(c"cgroup", &why))
    }

    /// The mounts of its mount namespace, from /proc/PID/mountinfo.
    pub fn mounts(&self) -> Result<Vec<Mount>> {
        Ok(mountinfo::parse(&self.read_live(c"mountinfo")?).collect())
    }
}

/// Reads a /proc file to its end. Unlike `read_to_end`, asks nothing else first (a
/// /proc file has no size to ask for).
pub fn read_all(mut file: std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn current_process() {
        let me = Process::current().unwrap();
        assert_eq!(me.pid(), std::process::id() as i32);
        me.ensure_same().unwrap();
        assert!(!me.is_zombie().unwrap());
        assert!(!me.is_kernel_thread().unwrap());
        let net = me.ns_id(Kind::Net).unwrap().unwrap();
        let st = std::fs::metadata("/proc/self/ns/net").unwrap();
        assert_eq!((net.dev, net.ino), (st.dev(), st.ino()));
        let file = me.open_ns(Kind::Net).unwrap().unwrap();
        assert_eq!((file.id(), file.kind()), (net, Kind::Net));
        let status = me.status().unwrap();
        assert_eq!(
            status.ppid,
            Some(std::os::unix::process::parent_id() as i32)
        );
        assert_eq!(status.uid, Some(nix::unistd::getuid().as_raw()));
        assert_eq!(me.uid().unwrap(), nix::unistd::geteuid().as_raw());
        assert!(!me.cmdline().unwrap().is_empty());
        assert!(!me.comm().unwrap().is_empty());
        assert!(!me.cgroups().unwrap().is_empty());
        assert!(me
            .mounts()
            .unwrap()
            .iter()
            .any(|m| m.mount_point == std::path::Path::new("/")));
    }

    #[test]
    fn kthreadd_is_a_kernel_thread() {
        // PID 2 is kthreadd in the initial PID namespace; elsewhere it may be anything.
        let Ok(two) = Process::open(2) else { return };
        if two.comm().is_ok_and(|c| c == "kthreadd") {
            assert!(two.is_kernel_thread().unwrap());
        }
    }

    #[test]
    fn no_such_process() {
        // PIDs never reach i32::MAX (pid_max is at most 2^22).
        assert!(matches!(
            Process::open(i32::MAX),
            Err(Error::NoSuchProcess { pid: i32::MAX })
        ));
    }

    fn sleeper() -> std::process::Child {
        Command::new("sleep")
            .arg("60")
            .stdin(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Waits until `cond` holds (a child's state changes asynchronously).
    fn eventually(cond: impl Fn() -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn a_killed_child_is_no_longer_the_same() {
        let mut child = sleeper();
        let proc = Process::open(child.id() as i32).unwrap();
        proc.ensure_same().unwrap();
        assert!(!proc.is_zombie().unwrap());
        proc.send_signal(Signal::SIGKILL).unwrap();
        // Not yet waited for: a zombie, which counts as exited.
        assert!(eventually(|| proc.is_zombie().unwrap_or(false)));
        assert!(matches!(proc.ensure_same(), Err(Error::Exited { .. })));
        // A zombie can still be opened (its PID is not free yet).
        let again = Process::open(child.id() as i32).unwrap();
        assert!(again.is_zombie().unwrap());
        child.wait().unwrap();
        assert!(matches!(proc.ensure_same(), Err(Error::Exited { .. })));
        assert!(matches!(proc.is_zombie(), Err(Error::NoSuchProcess { .. })));
        assert!(matches!(
            proc.send_signal(Signal::SIGKILL),
            Err(Error::Exited { .. })
        ));
        assert!(matches!(
            Process::open(child.id() as i32),
            Err(Error::NoSuchProcess { .. })
        ));
    }

    #[test]
    fn without_a_pidfd_the_directory_tells() {
        let mut child = sleeper();
        let mut proc = Process::open(child.id() as i32).unwrap();
        // As on a kernel without pidfd_open.
        proc.pidfd = None;
        proc.ensure_same().unwrap();
        proc.send_signal(Signal::SIGKILL).unwrap();
        assert!(eventually(|| proc.ensure_same().is_err()));
        assert!(matches!(proc.ensure_same(), Err(Error::Exited { .. })));
        child.wait().unwrap();
        assert!(matches!(proc.ensure_same(), Err(Error::Exited { .. })));
    }
}
