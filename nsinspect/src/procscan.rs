//! The scan of every process behind `--all`: for each /proc/PID, one open of the
//! directory, one fstatat per namespace type and a close — nothing else is read per
//! process (the uid, PPID and command are read later, for the lowest PID of each
//! namespace only). Processes that exit meanwhile are skipped;
//! those that cannot be read are counted.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode};

use crate::error::Error;
use nsproc::{Kind, NsId};

/// One process's namespaces, by [`Kind::index`]; `None` where the link was missing or
/// the type was not asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcNs {
    pub pid: i32,
    pub ns: [Option<NsId>; 8],
}

/// What reading one process gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Read(ProcNs),
    /// It exited (or is a zombie without namespaces): skipped quietly.
    Gone,
    /// It exists but may not be read (e.g. EACCES without ptrace rights over it).
    Unreadable(Errno),
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Scan {
    pub procs: Vec<ProcNs>,
    /// Processes that could not be read, and the first reason.
    pub unreadable: usize,
    pub unreadable_errno: Option<Errno>,
    /// Every PID seen in /proc, readable or not (for `--fds`).
    pub pids: Vec<i32>,
}

/// An open /proc, the directory every scan works relative to.
pub struct ProcRoot {
    fd: OwnedFd,
}

impl ProcRoot {
    pub fn open() -> Result<ProcRoot, Error> {
        let fd = nix::fcntl::open(
            "/proc",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::sys("open", "/proc", e))?;
        Ok(ProcRoot { fd })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The PIDs of every process (thread group leaders), in /proc's order.
    pub fn pids(&self) -> Result<Vec<i32>, Error> {
        let dup = self
            .fd
            .try_clone()
            .map_err(|e| Error::sys("read the directory", "/proc", nsproc::error::io_errno(&e)))?;
        let mut dir = nix::dir::Dir::from_fd(dup)
            .map_err(|e| Error::sys("read the directory", "/proc", e))?;
        let mut pids = Vec::with_capacity(1024);
        for entry in dir.iter() {
            let entry = entry.map_err(|e| Error::sys("read the directory", "/proc", e))?;
            if let Some(pid) = parse_pid(entry.file_name().to_bytes()) {
                pids.push(pid);
            }
        }
        Ok(pids)
    }

    /// Reads the namespaces of `kinds` for every process.
    pub fn scan(&self, kinds: &[Kind]) -> Result<Scan, Error> {
        let pids = self.pids()?;
        let mut parts = crate::parallel::chunked(&pids, 256, |part| self.scan_pids(part, kinds));
        let mut scan = Scan {
            procs: Vec::with_capacity(pids.len()),
            ..Scan::default()
        };
        for part in parts.iter_mut() {
            scan.procs.append(&mut part.procs);
            scan.unreadable += part.unreadable;
            scan.unreadable_errno = scan.unreadable_errno.or(part.unreadable_errno);
        }
        scan.pids = pids;
        Ok(scan)
    }

    fn scan_pids(&self, pids: &[i32], kinds: &[Kind]) -> Scan {
        let mut scan = Scan {
            procs: Vec::with_capacity(pids.len()),
            ..Scan::default()
        };
        for &pid in pids {
            match self.read_process(pid, kinds) {
                Outcome::Read(p) => scan.procs.push(p),
                Outcome::Gone => {}
                Outcome::Unreadable(e) => {
                    scan.unreadable += 1;
                    scan.unreadable_errno.get_or_insert(e);
                }
            }
        }
        scan
    }

    /// Reads one process: the namespaces of `kinds`. No allocation.
    pub fn read_process(&self, pid: i32, kinds: &[Kind]) -> Outcome {
        let mut buf = [0u8; 16];
        let name = pid_name(pid, &mut buf);
        let dir = match nix::fcntl::openat(
            self.fd.as_fd(),
            name,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(dir) => dir,
            Err(Errno::ENOENT | Errno::ESRCH) => return Outcome::Gone,
            Err(e) => return Outcome::Unreadable(e),
        };
        let mut ns = [None; 8];
        let mut any = false;
        for &kind in kinds {
            match fstatat(&dir, kind.ns_link(), AtFlags::empty()) {
                Ok(st) => {
                    ns[kind.index()] = Some(NsId::of(&st));
                    any = true;
                }
                // A zombie has no namespaces left; a kernel may lack a type.
                Err(Errno::ENOENT) => {}
                Err(Errno::ESRCH) => return Outcome::Gone,
                Err(e) => return Outcome::Unreadable(e),
            }
        }
        if !any && !kinds.is_empty() {
            return Outcome::Gone;
        }
        Outcome::Read(ProcNs { pid, ns })
    }
}

/// A /proc entry name that is a PID.
pub fn parse_pid(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 10 || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut pid: i64 = 0;
    for &d in name {
        pid = pid * 10 + i64::from(d - b'0');
    }
    i32::try_from(pid).ok().filter(|&p| p > 0)
}

/// Writes `pid` as a C string into `buf` without allocating.
fn pid_name(pid: i32, buf: &mut [u8; 16]) -> &CStr {
    let mut digits = [0u8; 12];
    let mut n = pid.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[i] = digits[len - 1 - i];
    }
    buf[len] = 0;
    // A run of digits followed by one NUL: always a valid C string.
    CStr::from_bytes_with_nul(&buf[..=len]).unwrap_or(c"0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_names() {
        let mut buf = [0u8; 16];
        assert_eq!(pid_name(1, &mut buf).to_bytes(), b"1");
        assert_eq!(pid_name(4194304, &mut buf).to_bytes(), b"4194304");
        assert_eq!(pid_name(i32::MAX, &mut buf).to_bytes(), b"2147483647");
    }

    #[test]
    fn proc_entries() {
        assert_eq!(parse_pid(b"1"), Some(1));
        assert_eq!(parse_pid(b"4194304"), Some(4194304));
        assert_eq!(parse_pid(b"self"), None);
        assert_eq!(parse_pid(b"0"), None);
        assert_eq!(parse_pid(b""), None);
        assert_eq!(parse_pid(b"99999999999"), None);
        assert_eq!(parse_pid(b"2147483648"), None);
    }

    #[test]
    fn reads_itself() {
        let root = ProcRoot::open().unwrap();
        let me = std::process::id() as i32;
        assert!(root.pids().unwrap().contains(&me));
        let Outcome::Read(p) = root.read_process(me, &Kind::ALL) else {
            panic!("cannot read myself");
        };
        use std::os::unix::fs::MetadataExt;
        let st = std::fs::metadata("/proc/self/ns/uts").unwrap();
        assert_eq!(
            p.ns[Kind::Uts.index()],
            Some(NsId {
                dev: st.dev(),
                ino: st.ino()
            })
        );
    }

    #[test]
    fn a_process_that_exited_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        let root = ProcRoot::open().unwrap();
        assert_eq!(root.read_process(pid, &Kind::ALL), Outcome::Gone);
    }

    #[test]
    fn only_the_asked_kinds() {
        let root = ProcRoot::open().unwrap();
        let Outcome::Read(p) = root.read_process(std::process::id() as i32, &[Kind::Net]) else {
            panic!("cannot read myself");
        };
        assert!(p.ns[Kind::Net.index()].is_some());
        assert_eq!(p.ns.iter().filter(|n| n.is_some()).count(), 1);
    }
}
