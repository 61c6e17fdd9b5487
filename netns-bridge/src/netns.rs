//! TARGET: a PID, a named namespace, or a namespace file, opened and checked to be a
//! network namespace.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use nix::errno::Errno;

use crate::error::{io_errno, Error};
use crate::names::NetnsId;

/// Where named namespaces live (`ip netns`).
pub const NAMED_DIR: &str = "/run/netns";

/// `NS_GET_NSTYPE`, _IO(0xb7, 0x3): the kind of namespace an nsfs file refers to.
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// Turns TARGET into the path of its namespace file.
pub fn target_path(target: &str) -> Result<PathBuf, Error> {
    if target.is_empty() {
        return Err(Error::invalid("empty TARGET"));
    }
    if target.bytes().all(|b| b.is_ascii_digit()) {
        let pid: u32 = target
            .parse()
            .map_err(|_| Error::invalid(format!("invalid PID '{target}'")))?;
        if pid == 0 || pid > i32::MAX as u32 {
            return Err(Error::invalid(format!("invalid PID '{target}'")));
        }
        return Ok(PathBuf::from(format!("/proc/{pid}/ns/net")));
    }
    if target.contains('/') {
        return Ok(PathBuf::from(target));
    }
    if target == "." || target == ".." || target.contains('\0') {
        return Err(Error::invalid(format!("invalid namespace name '{target}'")));
    }
    Ok(PathBuf::from(NAMED_DIR).join(target))
}

/// An open network namespace.
#[derive(Debug)]
pub struct Netns {
    file: File,
    pub id: NetnsId,
    pub path: PathBuf,
}

impl Netns {
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// Whether the path it was opened through still leads to this namespace. Our open
    /// fd keeps a namespace alive after `ip netns delete` or its last process's exit;
    /// what is attached to it then dies with it as soon as we close the fd.
    pub fn still_there(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| {
            NetnsId {
                dev: m.dev(),
                ino: m.ino(),
            } == self.id
        })
    }
}

/// Opens TARGET. `Ok(None)`: it does not exist (any more). An existing file that is not
/// a network namespace is an [`Error::Invalid`].
pub fn open(target: &str) -> Result<Option<Netns>, Error> {
    let path = target_path(target)?;
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if matches!(io_errno(&e), Errno::ENOENT | Errno::ESRCH) => return Ok(None),
        Err(e) => {
            return Err(Error::File {
                what: "cannot open namespace",
                path,
                source: e,
            })
        }
    };
    // SAFETY: the fd is open for the duration of the call; the ioctl takes no argument.
    let kind = unsafe { libc::ioctl(file.as_raw_fd(), NS_GET_NSTYPE as _) };
    if kind < 0 || kind != libc::CLONE_NEWNET {
        return Err(Error::invalid(format!(
            "{} is not a network namespace",
            path.display()
        )));
    }
    let meta = file.metadata().map_err(|e| Error::File {
        what: "cannot stat namespace",
        path: path.clone(),
        source: e,
    })?;
    Ok(Some(Netns {
        id: NetnsId {
            dev: meta.dev(),
            ino: meta.ino(),
        },
        file,
        path,
    }))
}

/// The namespace the tool runs in, which plays the host.
pub fn own_id() -> Result<NetnsId, Error> {
    let meta = std::fs::metadata("/proc/self/ns/net").map_err(|e| Error::File {
        what: "cannot stat",
        path: "/proc/self/ns/net".into(),
        source: e,
    })?;
    Ok(NetnsId {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_namespace_files() {
        assert_eq!(
            target_path("42").ok(),
            Some(PathBuf::from("/proc/42/ns/net"))
        );
        assert_eq!(
            target_path("red").ok(),
            Some(PathBuf::from("/run/netns/red"))
        );
        assert_eq!(
            target_path("/run/netns/red").ok(),
            Some(PathBuf::from("/run/netns/red"))
        );
        assert_eq!(target_path("./x").ok(), Some(PathBuf::from("./x")));
        for bad in ["", "0", "99999999999", "..", "."] {
            assert!(target_path(bad).is_err(), "{bad}");
        }
    }
}
