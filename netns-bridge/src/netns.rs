//! TARGET: a PID, a named namespace, or a namespace file, parsed by nsproc's one
//! parser, opened and checked to be a network namespace. A PID target's process is held
//! by a pidfd from lookup to the last use, so a PID reused meanwhile is noticed.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nsproc::target::{self, Policy, Target};
use nsproc::{Kind, NsFile, NsId, Process};

use crate::error::Error;

/// Parses TARGET (a usage error when it cannot name anything).
pub fn parse(text: &str) -> Result<Target, Error> {
    target::parse(OsStr::new(text), Policy::NAMED_NETNS).map_err(|e| Error::invalid(e.to_string()))
}

/// Turns TARGET into the path of its namespace file.
pub fn target_path(text: &str) -> Result<PathBuf, Error> {
    Ok(parse(text)?.ns_path(Kind::Net))
}

/// An open network namespace.
#[derive(Debug)]
pub struct Netns {
    file: NsFile,
    pub id: NsId,
    pub path: PathBuf,
    /// The process a PID target named, held while the namespace is used.
    process: Option<Process>,
}

impl Netns {
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// The process a PID target named.
    pub fn process(&self) -> Option<&Process> {
        self.process.as_ref()
    }

    /// Whether the target still leads to this namespace: the process named is still the
    /// one opened and in it, or the path still leads to it. Our open fd keeps a namespace
    /// alive after `ip netns delete` or its last process's exit; what is attached to it
    /// then dies with it as soon as we close the fd.
    pub fn still_there(&self) -> bool {
        match &self.process {
            Some(p) => p.ensure_same().is_ok() && p.ns_id(Kind::Net).ok() == Some(Some(self.id)),
            None => NsId::of_path(&self.path).is_ok_and(|id| id == self.id),
        }
    }
}

/// Opens TARGET. `Ok(None)`: it does not exist (any more). An existing file that is not
/// a network namespace is an [`Error::Invalid`].
pub fn open(text: &str) -> Result<Option<Netns>, Error> {
    let target = parse(text)?;
    let path = target.ns_path(Kind::Net);
    let (file, process) = match target {
        Target::Pid(pid) => {
            let process = match Process::open(pid) {
                Ok(p) => p,
                Err(nsproc::Error::NoSuchProcess { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let file = match process.open_ns(Kind::Net) {
                Ok(Some(file)) => file,
                Ok(None) | Err(nsproc::Error::NoSuchProcess { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            // The namespace opened is the one of the process held, not of a successor.
            match process.ensure_same() {
                Ok(()) => {}
                Err(nsproc::Error::Exited { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            (file, Some(process))
        }
        _ => match NsFile::open(&path) {
            Ok(file) => (file, None),
            Err(e) if matches!(e.errno(), Some(Errno::ENOENT | Errno::ESRCH)) => return Ok(None),
            Err(nsproc::Error::NotANamespace { .. }) => return Err(not_netns(&path)),
            Err(e) => return Err(e.into()),
        },
    };
    if file.kind() != Kind::Net {
        return Err(not_netns(&path));
    }
    Ok(Some(Netns {
        id: file.id(),
        file,
        path,
        process,
    }))
}

fn not_netns(path: &Path) -> Error {
    Error::invalid(format!("{} is not a network namespace", path.display()))
}

/// The namespace the tool runs in, which plays the host.
pub fn own_id() -> Result<NsId, Error> {
    Ok(NsId::of_path(Path::new("/proc/self/ns/net"))?)
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

    #[test]
    fn own_pid_leads_to_own_namespace() {
        let own = own_id().expect("own namespace");
        let ns = open(&std::process::id().to_string())
            .expect("opens")
            .expect("exists");
        assert_eq!(ns.id, own);
        assert!(ns.still_there());
        assert!(ns.process().is_some());
        let user = open("/proc/self/ns/user").expect_err("not a network namespace");
        assert_eq!(user.exit_code(), 2);
        assert!(open("/nonexistent/netns-bridge")
            .expect("no error")
            .is_none());
    }
}
