//! TARGET arguments: a PID, `self`, or the path of a namespace file (parsed by
//! [`nsproc::target`]), opened: a process held by [`Process`], or a namespace file.

use std::ffi::OsStr;
use std::path::Path;

use nix::errno::Errno;
use nsproc::target::{self, Policy, TargetError};
use nsproc::{Kind, NsFile, Process};

use crate::error::Error;

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

/// Parses a TARGET: digits are a PID, `self` is nsinspect, anything else is a path.
pub fn parse(text: &OsStr) -> Result<nsproc::Target, Error> {
    target::parse(text, Policy::PATHS).map_err(|e| Error::BadTarget {
        text: text.to_string_lossy().into_owned(),
        reason: match e {
            TargetError::Empty => "empty (expected a PID, 'self' or a namespace file)",
            TargetError::BadPid(_) | TargetError::BadName(_) => "not a valid PID",
        },
    })
}

/// Opens a TARGET. A path must be a namespace file.
pub fn resolve(text: &OsStr) -> Result<Resolved, Error> {
    let label = text.to_string_lossy().into_owned();
    let target = match parse(text)? {
        nsproc::Target::Pid(pid) => Target::Process(Process::open(pid)?),
        nsproc::Target::SelfProcess => Target::Process(Process::current()?),
        nsproc::Target::Path(path) => Target::File(open_file(&path)?),
        // Not under Policy::PATHS, where a bare word is a path.
        nsproc::Target::Named(name) => Target::File(open_file(Path::new(&name))?),
    };
    Ok(Resolved { label, target })
}

fn open_file(path: &Path) -> Result<NsFile, Error> {
    // Only regular files are opened: nsfs files are, and opening a FIFO or a device
    // could block or have side effects.
    match nix::sys::stat::stat(path) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => Ok(NsFile::open(path)?),
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

    fn spec(s: &str) -> Result<nsproc::Target, Error> {
        parse(OsStr::new(s))
    }

    #[test]
    fn pids_self_and_paths() {
        assert_eq!(spec("1").unwrap(), nsproc::Target::Pid(1));
        assert_eq!(spec("4242").unwrap(), nsproc::Target::Pid(4242));
        assert_eq!(spec("self").unwrap(), nsproc::Target::SelfProcess);
        assert_eq!(
            spec("/run/netns/x").unwrap(),
            nsproc::Target::Path("/run/netns/x".into())
        );
        assert_eq!(
            spec("netfile").unwrap(),
            nsproc::Target::Path("netfile".into())
        );
    }

    #[test]
    fn bad_numbers() {
        for s in ["0", "99999999999", ""] {
            assert!(matches!(spec(s), Err(Error::BadTarget { .. })), "{s}");
        }
        assert_eq!(
            spec("0").unwrap_err().to_string(),
            "bad target '0': not a valid PID"
        );
        assert_eq!(
            spec("").unwrap_err().to_string(),
            "bad target '': empty (expected a PID, 'self' or a namespace file)"
        );
    }

    #[test]
    fn own_namespaces_are_readable() {
        let me = resolve(OsStr::new("self")).unwrap();
        let Target::Process(me) = me.target else {
            panic!("self is a process");
        };
        let net = me.ns_id(Kind::Net).unwrap().unwrap();
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
