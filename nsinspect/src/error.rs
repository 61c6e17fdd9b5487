//! nsinspect's error type: each variant says what was attempted, on what, and why it
//! failed, keeping the failing call's errno.

use std::path::PathBuf;

use nix::errno::Errno;

use nscli::columns::UnknownColumn;
use nscli::exit::Failure;
use nscli::output::OutputError;

/// The errno inside an I/O error.
pub use nscli::errno::io_errno;

/// Exit status when every compared type is shared (and in the other modes, success).
pub const EXIT_OK: i32 = nscli::exit::EXIT_OK;
/// Exit status when compared targets differ, or `--strict` found unreadable processes.
pub const EXIT_DIFFERENT: i32 = 1;
/// Exit status for a usage error, a bad target or a failure (nsinspect's own rule:
/// 1 says "differs").
pub const EXIT_ERROR: i32 = nscli::exit::EXIT_USAGE;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line makes no sense; nothing was read.
    #[error("{0}")]
    Usage(String),

    /// A TARGET that is neither a PID, `self` nor a path.
    #[error("bad target '{text}': {reason}")]
    BadTarget { text: String, reason: &'static str },

    #[error("cannot inspect PID {pid}: No such process")]
    NoSuchProcess { pid: i32 },

    #[error(
        "cannot inspect PID {pid}: it has exited (a zombie keeps only its pid and user namespaces)"
    )]
    Zombie { pid: i32 },

    #[error(
        "{} is not a namespace file (expected /proc/PID/ns/TYPE, /run/netns/NAME or a bind mount of one)",
        path.display()
    )]
    NotANamespace { path: PathBuf },

    /// A system call, an ioctl or a /proc file that went wrong, in nsproc's words:
    /// `cannot open /proc/42/ns/net: Permission denied`.
    #[error(transparent)]
    Process(nsproc::Error),

    /// A write to stdout failed (a closed pipe ends quietly).
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl From<UnknownColumn> for Error {
    fn from(e: UnknownColumn) -> Self {
        Error::Usage(e.to_string())
    }
}

impl Error {
    pub fn sys(what: &'static str, path: impl Into<PathBuf>, source: Errno) -> Self {
        Error::Process(nsproc::Error::sys(what, path, source))
    }

    /// The errno of a failed system call or ioctl, if that is what this is.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Process(e) => e.errno(),
            _ => None,
        }
    }
}

impl Failure for Error {
    /// Every error ends nsinspect with status 2.
    fn exit_code(&self) -> i32 {
        EXIT_ERROR
    }

    fn is_closed_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.is_closed_pipe())
    }
}

/// nsproc's errors: those of a target named by the user in nsinspect's words, the
/// rest as nsproc says them.
impl From<nsproc::Error> for Error {
    fn from(e: nsproc::Error) -> Self {
        match e {
            nsproc::Error::NotANamespace { path } => Error::NotANamespace { path },
            nsproc::Error::NoSuchProcess { pid } | nsproc::Error::Exited { pid } => {
                Error::NoSuchProcess { pid }
            }
            e => Error::Process(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nsproc_errors_keep_their_messages() {
        let e = Error::from(nsproc::Error::NoSuchProcess { pid: 42 });
        assert_eq!(e.to_string(), "cannot inspect PID 42: No such process");
        let e = Error::from(nsproc::Error::sys("open", "/proc/42/ns/net", Errno::EACCES));
        assert_eq!(
            e.to_string(),
            "cannot open /proc/42/ns/net: Permission denied"
        );
        let e = Error::from(nsproc::Error::NotANamespace { path: "/x".into() });
        assert!(e
            .to_string()
            .starts_with("/x is not a namespace file (expected"));
        assert_eq!(e.exit_code(), EXIT_ERROR);
    }
}
