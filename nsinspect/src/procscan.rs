//! The scan of every process behind `--all`: for each /proc/PID, one `readlinkat` of
//! `PID/ns/TYPE` per namespace type, relative to an open /proc — the floor, as no call
//! gives more than one namespace of a process — and nothing else per process (the
//! uid, PPID and command are read later, for the lowest PID of each namespace only).
//! The link's target (`net:[4026531840]`) names the namespace's inode; every namespace
//! file is on nsfs, whose device is read once. A `readlink` costs the kernel about
//! half of a `stat` of the same link, which makes an nsfs inode and dentry each time.
//! Processes that exit meanwhile are skipped; those that cannot be read are counted.

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

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
        let nsfs_dev = self.nsfs_dev()?;
        let mut parts =
            crate::parallel::chunked(&pids, 256, |part| self.scan_pids(part, kinds, nsfs_dev));
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

    /// The device of nsfs, which holds every namespace file (from our own user namespace).
    pub fn nsfs_dev(&self) -> Result<u64, Error> {
        fstatat(self.fd.as_fd(), c"self/ns/user", AtFlags::empty())
            .map(|st| st.st_dev)
            .map_err(|e| Error::sys("stat", "/proc/self/ns/user", e))
    }

    fn scan_pids(&self, pids: &[i32], kinds: &[Kind], nsfs_dev: u64) -> Scan {
        let mut scan = Scan {
            procs: Vec::with_capacity(pids.len()),
            ..Scan::default()
        };
        for &pid in pids {
            match self.read_process(pid, kinds, nsfs_dev) {
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

    /// Reads one process: the namespaces of `kinds`, one `readlinkat` each; `nsfs_dev`
    /// is [`ProcRoot::nsfs_dev`]. No allocation.
    pub fn read_process(&self, pid: i32, kinds: &[Kind], nsfs_dev: u64) -> Outcome {
        let mut path = [0u8; 32];
        let mut target = [0u8; 64];
        let mut ns = [None; 8];
        let mut any = false;
        for &kind in kinds {
            let link = ns_path(pid, kind, &mut path);
            match readlink_at(self.fd.as_fd(), link, &mut target) {
                Ok(target) => match parse_ns_link(target) {
                    Some(ino) => {
                        ns[kind.index()] = Some(NsId { dev: nsfs_dev, ino });
                        any = true;
                    }
                    None => return Outcome::Unreadable(Errno::EINVAL),
                },
                // Gone, a zombie with no namespaces left, or a kernel without the type.
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

/// `PID/ns/TYPE` as a C string in `buf`, without allocating.
fn ns_path(pid: i32, kind: Kind, buf: &mut [u8; 32]) -> &CStr {
    let mut name = [0u8; 16];
    let pid = pid_name(pid, &mut name).to_bytes();
    let link = kind.ns_link().to_bytes_with_nul();
    let len = pid.len() + 1 + link.len();
    buf[..pid.len()].copy_from_slice(pid);
    buf[pid.len()] = b'/';
    buf[pid.len() + 1..len].copy_from_slice(link);
    // Digits, '/', and a link name that ends in its only NUL: a valid C string.
    CStr::from_bytes_with_nul(&buf[..len]).unwrap_or(c"0")
}

/// `readlinkat(2)` into `buf`: the link's target (cut at `buf`'s length).
fn readlink_at<'a>(
    dir: BorrowedFd<'_>,
    path: &CStr,
    buf: &'a mut [u8; 64],
) -> Result<&'a [u8], Errno> {
    // SAFETY: `path` is NUL-terminated and `buf` is writable for `buf.len()` bytes; the
    // kernel writes at most that many and returns how many it wrote.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            path.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    match usize::try_from(n) {
        Ok(n) => Ok(&buf[..n.min(buf.len())]),
        Err(_) => Err(Errno::last()),
    }
}

/// The inode in a namespace link's target: `net:[4026531840]` gives 4026531840.
pub fn parse_ns_link(target: &[u8]) -> Option<u64> {
    let (&last, rest) = target.split_last()?;
    if last != b']' {
        return None;
    }
    let open = rest.iter().position(|&b| b == b'[')?;
    let digits = &rest[open + 1..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
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
    fn ns_paths() {
        let mut buf = [0u8; 32];
        assert_eq!(ns_path(1, Kind::Net, &mut buf).to_bytes(), b"1/ns/net");
        assert_eq!(
            ns_path(i32::MAX, Kind::Cgroup, &mut buf).to_bytes(),
            b"2147483647/ns/cgroup"
        );
    }

    #[test]
    fn ns_link_targets() {
        assert_eq!(parse_ns_link(b"net:[4026531840]"), Some(4026531840));
        assert_eq!(parse_ns_link(b"time_for_children:[1]"), Some(1));
        assert_eq!(parse_ns_link(b"net:[]"), None);
        assert_eq!(parse_ns_link(b"net:[12a]"), None);
        assert_eq!(parse_ns_link(b"net:[4026531840"), None);
        assert_eq!(parse_ns_link(b"4026531840]"), None);
        assert_eq!(parse_ns_link(b"net:[99999999999999999999999]"), None);
        assert_eq!(parse_ns_link(b""), None);
    }

    #[test]
    fn reads_every_kind_like_stat() {
        let root = ProcRoot::open().unwrap();
        let dev = root.nsfs_dev().unwrap();
        let me = std::process::id() as i32;
        let Outcome::Read(p) = root.read_process(me, &Kind::ALL, dev) else {
            panic!("cannot read myself");
        };
        for kind in Kind::ALL {
            let path = format!("/proc/{me}/{}", kind.ns_link().to_str().unwrap());
            let Ok(st) = nix::sys::stat::stat(path.as_str()) else {
                continue;
            };
            assert_eq!(p.ns[kind.index()], Some(NsId::of(&st)), "{kind:?}");
        }
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
        let dev = root.nsfs_dev().unwrap();
        let Outcome::Read(p) = root.read_process(me, &Kind::ALL, dev) else {
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
        let dev = root.nsfs_dev().unwrap();
        assert_eq!(root.read_process(pid, &Kind::ALL, dev), Outcome::Gone);
    }

    #[test]
    fn only_the_asked_kinds() {
        let root = ProcRoot::open().unwrap();
        let dev = root.nsfs_dev().unwrap();
        let me = std::process::id() as i32;
        let Outcome::Read(p) = root.read_process(me, &[Kind::Net], dev) else {
            panic!("cannot read myself");
        };
        assert!(p.ns[Kind::Net.index()].is_some());
        assert_eq!(p.ns.iter().filter(|n| n.is_some()).count(), 1);
    }
}
