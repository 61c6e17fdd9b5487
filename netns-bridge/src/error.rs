//! netns-bridge's error type: each variant says what was attempted, on what, and why it
//! failed. The kind of failure decides the exit status (see [`Error::exit_code`]).

use std::path::PathBuf;

use nix::errno::Errno;
use nscli::errno::io_text;
use nscli::error::Joined;
use nscli::output::OutputError;

/// Exit status when an operation failed (nothing it made is left behind).
pub const EXIT_FAILED: i32 = 1;
/// Exit status for bad input: arguments, names, CIDRs, a TARGET that is no network
/// namespace. Nothing was touched.
pub const EXIT_USAGE: i32 = 2;
/// Exit status when no address can be handed out: the subnet is full or the static
/// address is taken.
pub const EXIT_NO_ADDRESS: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input, found before anything was touched.
    #[error("{0}")]
    Invalid(String),

    /// The subnet has no free address, or the requested one is taken.
    #[error("{0}")]
    NoAddress(String),

    /// A netlink request was refused by the kernel.
    #[error("{what}: {}", source.desc())]
    Netlink { what: String, source: Errno },

    /// The netlink conversation itself went wrong (bad reply, wrong sequence).
    #[error("{what}: {why}")]
    Protocol { what: String, why: String },

    /// A system call failed.
    #[error("{what}: {}", source.desc())]
    Sys { what: String, source: Errno },

    /// Reading or writing a file failed.
    #[error("{what} {}: {}", path.display(), io_text(source))]
    File {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    /// A state file holds something we cannot read.
    #[error("corrupt state file {}: {why}", path.display())]
    State { path: PathBuf, why: String },

    /// `nft` failed or could not be run.
    #[error("{what}: {why}")]
    Nft { what: String, why: String },

    /// The target namespace went away while it was being attached.
    #[error("{0}")]
    Vanished(String),

    /// Something refused because of what exists (e.g. `down` with attachments left).
    #[error("{0}")]
    Busy(String),

    /// Several steps of a teardown failed; each is listed.
    #[error("{}", Joined(.0))]
    Many(Vec<Error>),

    /// A process or namespace file could not be opened or read (nsproc's words).
    #[error(transparent)]
    Process(#[from] nsproc::Error),

    /// Writing the result to stdout failed.
    #[error(transparent)]
    Output(#[from] OutputError),

    /// The result of an attach could not be written: the attach was rolled back.
    #[error("{0}; the attach was rolled back")]
    Undelivered(OutputError),
}

impl Error {
    /// The exit status the binary ends with after this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) => EXIT_USAGE,
            Error::NoAddress(_) => EXIT_NO_ADDRESS,
            _ => EXIT_FAILED,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    pub fn sys(what: impl Into<String>, source: Errno) -> Self {
        Error::Sys {
            what: what.into(),
            source,
        }
    }

    /// The kernel's errno, when the error carries one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Netlink { source, .. } | Error::Sys { source, .. } => Some(*source),
            Error::Process(e) => e.errno(),
            _ => None,
        }
    }

    /// Collapses a list of teardown errors: none is success, one is itself.
    pub fn from_list(errors: Vec<Error>) -> Result<(), Error> {
        nscli::error::collapse(errors, Error::Many)
    }
}

impl nscli::exit::Failure for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }

    fn is_closed_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.is_closed_pipe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_without_the_os_error_number() {
        let e = Error::File {
            what: "cannot read",
            path: "/x".into(),
            source: std::io::Error::from_raw_os_error(libc::ENOENT),
        };
        assert_eq!(e.to_string(), "cannot read /x: No such file or directory");
        let many = Error::Many(vec![Error::invalid("a"), Error::invalid("b")]);
        assert_eq!(many.to_string(), "a; b");
    }
}
