//! nsrun's error type: each variant says what was attempted, on what, and why it failed.

use std::path::PathBuf;

use nix::errno::Errno;
use nscli::errno::io_text;
use nscli::error::SysError;
use nscli::exit::{Failure, EXIT_USAGE};

use nsproc::Kind;

/// The errno inside an I/O error.
pub use nscli::errno::io_errno;
/// `nix_call().context(|| ...)?`: a failed system call, with what was being done.
pub use nscli::error::Context;

/// Exit statuses when nsrun itself fails (125), and when COMMAND cannot be executed
/// (126) or was not found (127), as `env`, `chroot`, `timeout` have them.
pub use nscli::exit::{EXIT_BEFORE_COMMAND as EXIT_FAILED, EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line makes no sense; nothing was done.
    #[error("{0}")]
    Usage(String),

    #[error("{what}: {}{hint}", source.desc())]
    Sys {
        what: String,
        source: Errno,
        hint: &'static str,
    },

    #[error("cannot write {}: {}{hint}", path.display(), io_text(source))]
    Write {
        path: PathBuf,
        source: std::io::Error,
        hint: &'static str,
    },

    #[error("cannot persist the {kind} namespace at {}: {}{hint}", path.display(), source.desc())]
    Persist {
        kind: Kind,
        path: PathBuf,
        source: Errno,
        hint: &'static str,
    },

    /// A `--join` target cannot be opened.
    #[error("cannot join {target}: {source}")]
    Join {
        target: String,
        source: nsproc::Error,
    },

    /// nsrun will not do what was asked, for the reason given; nothing was made.
    #[error("{0}")]
    Refused(String),

    /// A fatal signal reached nsrun before COMMAND started; all was undone.
    #[error("{} received {during}; what nsrun made was undone and COMMAND was not started", signal.as_str())]
    Interrupted {
        signal: nix::sys::signal::Signal,
        during: &'static str,
    },

    /// A step inside the new namespaces failed; the child said what.
    #[error("{0}")]
    Child(String),

    #[error("the child process exited before COMMAND started")]
    ChildVanished,

    #[error("setup command {0}; COMMAND was not started")]
    Setup(String),

    #[error("cannot execute '{command}': {}", source.desc())]
    Exec { command: String, source: Errno },
}

impl Failure for Error {
    /// The exit status nsrun ends with after this error.
    fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Exec { source, .. } => match source {
                Errno::ENOENT | Errno::ENOTDIR => EXIT_NOT_FOUND,
                _ => EXIT_CANNOT_EXECUTE,
            },
            Error::Interrupted { signal, .. } => crate::signals::exit_code(*signal as i32),
            _ => EXIT_FAILED,
        }
    }
}

impl Error {
    /// A failed system call, with what was being done.
    pub fn sys(what: impl Into<String>, source: Errno) -> Self {
        Error::Sys {
            what: what.into(),
            source,
            hint: "",
        }
    }
}

impl From<SysError> for Error {
    fn from(e: SysError) -> Self {
        Error::sys(e.what, e.errno)
    }
}
