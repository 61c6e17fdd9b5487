//! TARGET arguments: a PID, `self`, or the path of a namespace file; and the process
//! handle that reads only that process's own /proc entries.

use std::ffi::{CStr, OsStr};
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstatat, Mode};

use crate::error::Error;
use crate::nsid::{NsFile, NsId};
use nskind::Kind;

/// What a TARGET argument names, before anything is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Pid(i32),
    /// nsinspect itself, which shares its caller's namespaces.
    SelfProcess,
    Path(PathBuf),
}

/// Parses a TARGET: digits are a PID, `self` is nsinspect, anything else is a path.
pub fn parse_spec(text: &OsStr) -> Result<Spec, Error> {
    let bytes = text.as_bytes();
    let bad = |reason| Error::BadTarget {
        text: text.to_string_lossy().into_owned(),
        reason,
    };
    if bytes.is_empty() {
        return Err(bad("empty (expected a PID, 'self' or a namespace file)"));
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        return match std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse::<i32>().ok())
        {
            Some(pid) if pid > 0 => Ok(Spec::Pid(pid)),
            _ => Err(bad("not a valid PID")),
        };
    }
    if bytes == b"self" {
        return Ok(Spec::SelfProcess);
    }
    Ok(Spec::Path(PathBuf::from(text)))
}

/// The namespace link of `kind` below /proc/PID, relative to that directory.
pub fn ns_link(kind: Kind) -> &'static CStr {
    match kind {
        Kind::Cgroup => c"ns/cgroup",
        Kind::Ipc => c"ns/ipc",
        Kind::Mount => c"ns/mnt",
        Kind::Net => c"ns/net",
        Kind::Pid => c"ns/pid",
        Kind::Time => c"ns/time",
        Kind::User => c"ns/user",
        Kind::Uts => c"ns/uts",
    }
}

/// An open /proc/PID directory. Everything is read relative to it, so a PID reused by
/// a new process after ours exited is never mistaken for it.
#[derive(Debug)]
pub struct Process {
    pid: i32,
    dir: OwnedFd,
}

impl Process {
    pub fn open(pid: i32) -> Result<Process, Error> {
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
        Ok(Process { pid, dir })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    fn shown(&self, name: &CStr) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{}", self.pid, name.to_string_lossy()))
    }

    /// The identity of the namespace behind `name` (e.g. `ns/net`); `None` when the
    /// link is missing (a zombie, or a kernel without that type).
    pub fn ns_id_at(&self, name: &CStr) -> Result<Option<NsId>, Error> {
        match fstatat(&self.dir, name, nix::fcntl::AtFlags::empty()) {
            Ok(st) => Ok(Some(NsId::of(&st))),
            Err(Errno::ENOENT) => Ok(None),
            Err(Errno::ESRCH) => Err(Error::NoSuchProcess { pid: self.pid }),
            Err(e) => Err(Error::sys("stat", self.shown(name), e)),
        }
    }

    pub fn ns_id(&self, kind: Kind) -> Result<Option<NsId>, Error> {
        self.ns_id_at(ns_link(kind))
    }

    /// Opens the namespace of `kind`; `None` when the link is missing.
    pub fn open_ns(&self, kind: Kind) -> Result<Option<NsFile>, Error> {
        let name = ns_link(kind);
        match NsFile::open_at(self.dir.as_fd(), name, &self.shown(name)) {
            Ok(ns) => Ok(Some(ns)),
            Err(e) if e.errno() == Some(Errno::ENOENT) => Ok(None),
            Err(e) if e.errno() == Some(Errno::ESRCH) => {
                Err(Error::NoSuchProcess { pid: self.pid })
            }
            Err(e) => Err(e),
        }
    }

    /// Reads a file below /proc/PID whole.
    pub fn read(&self, name: &CStr) -> Result<Vec<u8>, Error> {
        let fd = openat(
            &self.dir,
            name,
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::sys("open", self.shown(name), e))?;
        read_all(std::fs::File::from(fd))
            .map_err(|e| Error::sys("read", self.shown(name), crate::error::io_errno(&e)))
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

/// A TARGET, opened.
#[derive(Debug)]
pub enum Target {
    Process(Process),
    File(NsFile),
}

/// A TARGET as the user typed it, and what it opened to.
#[derive(Debug)]
pub struct Resolved {
    pub label: String,
    pub target: Target,
}

impl Resolved {
    /// The types this target has: all of them for a process, one for a file.
    pub fn kinds(&self) -> Vec<Kind> {
        match &self.target {
            Target::Process(_) => Kind::ALL.to_vec(),
            Target::File(ns) => vec![ns.kind()],
        }
    }
}

/// Opens a TARGET. A path must be a namespace file.
pub fn resolve(text: &OsStr) -> Result<Resolved, Error> {
    let label = text.to_string_lossy().into_owned();
    let target = match parse_spec(text)? {
        Spec::Pid(pid) => Target::Process(Process::open(pid)?),
        Spec::SelfProcess => Target::Process(Process::open(std::process::id() as i32)?),
        Spec::Path(path) => Target::File(open_file(&path)?),
    };
    Ok(Resolved { label, target })
}

fn open_file(path: &Path) -> Result<NsFile, Error> {
    // Only regular files are opened: nsfs files are, and opening a FIFO or a device
    // could block or have side effects.
    match nix::sys::stat::stat(path) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => NsFile::open(path),
        Ok(_) => Err(Error::NotANamespace {
            path: path.to_path_buf(),
        }),
        Err(Errno::ENOENT) => Err(Error::BadTarget {
            text: path.to_string_lossy().into_owned(),
            reason: "no such file (a TARGET is a PID, 'self' or a namespace file)",
        }),
        Err(e) => Err(Error::sys("stat", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Result<Spec, Error> {
        parse_spec(OsStr::new(s))
    }

    #[test]
    fn pids_self_and_paths() {
        assert_eq!(spec("1").unwrap(), Spec::Pid(1));
        assert_eq!(spec("4242").unwrap(), Spec::Pid(4242));
        assert_eq!(spec("self").unwrap(), Spec::SelfProcess);
        assert_eq!(
            spec("/run/netns/x").unwrap(),
            Spec::Path("/run/netns/x".into())
        );
        assert_eq!(spec("netfile").unwrap(), Spec::Path("netfile".into()));
    }

    #[test]
    fn bad_numbers() {
        for s in ["0", "99999999999", ""] {
            assert!(matches!(spec(s), Err(Error::BadTarget { .. })), "{s}");
        }
    }

    #[test]
    fn links_name_every_kind() {
        for kind in Kind::ALL {
            assert_eq!(
                ns_link(kind).to_str().unwrap(),
                format!("ns/{}", kind.proc_name())
            );
        }
    }

    #[test]
    fn own_namespaces_are_readable() {
        let me = Process::open(std::process::id() as i32).unwrap();
        let net = me.ns_id(Kind::Net).unwrap().unwrap();
        let st = std::fs::metadata("/proc/self/ns/net").unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!((net.dev, net.ino), (st.dev(), st.ino()));
        let file = me.open_ns(Kind::Net).unwrap().unwrap();
        assert_eq!(file.id(), net);
        assert_eq!(file.kind(), Kind::Net);
    }

    #[test]
    fn regular_file_is_not_a_namespace() {
        let file = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(
            resolve(file.path().as_os_str()),
            Err(Error::NotANamespace { .. })
        ));
        assert!(matches!(
            resolve(OsStr::new("/nonexistent/nsinspect")),
            Err(Error::BadTarget { .. })
        ));
    }
}
