//! netns-bridge's error type: each variant says what was attempted, on what, and why it
//! failed. The kind of failure decides the exit status (see [`Error::exit_code`]).

use std::path::PathBuf;

use nix::errno::Errno;

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
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Many(Vec<Error>),
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
            _ => None,
        }
    }

    /// Collapses a list of teardown errors: none is success, one is itself.
    pub fn from_list(mut errors: Vec<Error>) -> Result<(), Error> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Many(errors)),
        }
    }
}

/// Shorthand for turning a nix result into [`Error::Sys`].
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T> Context<T> for nix::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|source| Error::sys(what(), source))
    }
}

/// An I/O error's text without Rust's "(os error N)": the errno's description, or the
/// error's own words when it carries no errno.
pub fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(_) => io_errno(e).desc().to_string(),
        None => e.to_string(),
    }
}

/// The errno inside an I/O error (EIO when it carries none).
pub fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
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
        let plain = std::io::Error::other("odd");
        assert_eq!(io_text(&plain), "odd");
    }
}
