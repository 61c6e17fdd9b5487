//! Namespace identity and the nsfs ioctls.
//!
//! A namespace is identified by the (device, inode) pair of its nsfs file as stat(2)
//! reports it, never by the `net:[4026531840]` text of a /proc link. An opened nsfs
//! file ([`NsFile`]) answers the `NS_GET_*` ioctls: its type, the user namespace that
//! owns it, its parent (PID and user namespaces) and a user namespace's owner uid.
//! The ioctl numbers come from `libc`, which defines all four.

use std::ffi::CStr;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, FileStat, Mode};

use crate::error::{Error, Result};
use crate::kind::Kind;

/// The identity of a namespace: device and inode of its nsfs file. In JSON it is an
/// object of two numbers, `{"dev":4,"ino":4026531840}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct NsId {
    pub dev: u64,
    pub ino: u64,
}

impl NsId {
    pub fn of(st: &FileStat) -> NsId {
        NsId {
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }

    /// The identity of the namespace file at `path` (stat follows a /proc link).
    pub fn of_path(path: &Path) -> Result<NsId> {
        nix::sys::stat::stat(path)
            .map(|st| NsId::of(&st))
            .map_err(|e| Error::sys("stat", path, e))
    }
}

/// Shows the inode, the number lsns and /proc links show.
impl fmt::Display for NsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.ino)
    }
}

/// An open namespace file, with its identity and type.
#[derive(Debug)]
pub struct NsFile {
    fd: OwnedFd,
    id: NsId,
    kind: Kind,
    /// What was opened, for error messages (the parent of X is shown as "parent of X").
    path: PathBuf,
}

impl NsFile {
    /// Opens `name` relative to the directory `dir` (`shown` names it in errors) and
    /// checks that it is a namespace file.
    pub fn open_at(dir: BorrowedFd<'_>, name: &CStr, shown: &Path) -> Result<NsFile> {
        let fd = openat(dir, name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Error::sys("open", shown, e))?;
        Self::from_fd(fd, shown.to_path_buf())
    }

    /// Opens a namespace file named by the user.
    pub fn open(path: &Path) -> Result<NsFile> {
        let fd = nix::fcntl::open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Error::sys("open", path, e))?;
        Self::from_fd(fd, path.to_path_buf())
    }

    /// Takes an open descriptor (`path` names it in errors) and checks that it is a
    /// namespace file.
    pub fn from_fd(fd: OwnedFd, path: PathBuf) -> Result<NsFile> {
        let st = fstat(&fd).map_err(|e| Error::sys("stat", &path, e))?;
        // SAFETY: NS_GET_NSTYPE takes no argument and only returns a value.
        let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
        if ret < 0 {
            return match Errno::last() {
                // Not an nsfs file: the ioctl is unknown to its file system.
                Errno::ENOTTY | Errno::EINVAL | Errno::ENOSYS => Err(Error::NotANamespace { path }),
                e => Err(Error::Ioctl {
                    request: "NS_GET_NSTYPE",
                    path,
                    source: e,
                }),
            };
        }
        let kind = Kind::from_clone_flag(ret).ok_or(Error::NotANamespace { path: path.clone() })?;
        Ok(NsFile {
            fd,
            id: NsId::of(&st),
            kind,
            path,
        })
    }

    pub fn id(&self) -> NsId {
        self.id
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parent namespace (PID and user namespaces only); `None` for the initial
    /// namespace, for one whose parent lies outside our view, and for other types.
    pub fn parent(&self) -> Result<Option<NsFile>> {
        if !matches!(self.kind, Kind::Pid | Kind::User) {
            return Ok(None);
        }
        self.related(libc::NS_GET_PARENT, "NS_GET_PARENT", "parent of")
    }

    /// The user namespace that owns this one (for a user namespace: its parent); `None`
    /// when that lies outside our view.
    pub fn owner(&self) -> Result<Option<NsFile>> {
        self.related(libc::NS_GET_USERNS, "NS_GET_USERNS", "owner of")
    }

    fn related(
        &self,
        request: libc::Ioctl,
        name: &'static str,
        relation: &str,
    ) -> Result<Option<NsFile>> {
        // SAFETY: these requests take no argument and return a new file descriptor.
        let ret = unsafe { libc::ioctl(self.fd.as_raw_fd(), request) };
        if ret < 0 {
            return match Errno::last() {
                // EPERM: no parent we may see (the initial namespace, or outside ours).
                Errno::EPERM | Errno::EINVAL => Ok(None),
                e => Err(Error::Ioctl {
                    request: name,
                    path: self.path.clone(),
                    source: e,
                }),
            };
        }
        // SAFETY: the kernel just returned this descriptor to us, and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(ret) };
        let shown = PathBuf::from(format!("{relation} {}", self.path.display()));
        Self::from_fd(fd, shown).map(Some)
    }

    /// The uid that created this user namespace (as seen from ours).
    pub fn owner_uid(&self) -> Result<Option<u32>> {
        if self.kind != Kind::User {
            return Ok(None);
        }
        let mut uid: libc::uid_t = 0;
        // SAFETY: NS_GET_OWNER_UID writes one uid_t through the pointer, which is valid.
        let ret = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::NS_GET_OWNER_UID,
                &mut uid as *mut libc::uid_t,
            )
        };
        if ret < 0 {
            return Err(Error::Ioctl {
                request: "NS_GET_OWNER_UID",
                path: self.path.clone(),
                source: Errno::last(),
            });
        }
        Ok(Some(uid))
    }

    /// How many parents a user or PID namespace has within our view (0 for the
    /// initial one).
    pub fn depth(&self) -> Result<u32> {
        let mut depth = 0;
        let mut current = self.parent()?;
        while let Some(ns) = current {
            depth += 1;
            // Nesting is limited to 32 levels by the kernel; stop well past it regardless.
            if depth > 64 {
                break;
            }
            current = ns.parent()?;
        }
        Ok(depth)
    }
}

impl AsFd for NsFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_two_numbers() {
        let id = NsId {
            dev: 4,
            ino: 4026531840,
        };
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"dev":4,"ino":4026531840}"#
        );
        assert_eq!(id.to_string(), "4026531840");
    }

    #[test]
    fn own_net_namespace() {
        let ns = NsFile::open(Path::new("/proc/self/ns/net")).unwrap();
        assert_eq!(ns.kind(), Kind::Net);
        assert_eq!(
            ns.id(),
            NsId::of_path(Path::new("/proc/self/ns/net")).unwrap()
        );
        // A network namespace has no parent and no owner uid.
        assert!(ns.parent().unwrap().is_none());
        assert_eq!(ns.owner_uid().unwrap(), None);
        let user = NsFile::open(Path::new("/proc/self/ns/user")).unwrap();
        assert!(user.owner_uid().unwrap().is_some());
        assert!(ns.owner().unwrap().is_none_or(|o| o.kind() == Kind::User));
    }

    #[test]
    fn a_regular_file_is_not_a_namespace() {
        let file = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(
            NsFile::open(file.path()),
            Err(Error::NotANamespace { .. })
        ));
    }
}
