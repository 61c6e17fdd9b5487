//! nsinspect's error type: each variant says what was attempted, on what, and why it
//! failed, keeping the failing call's errno.

use std::path::PathBuf;

use nix::errno::Errno;

/// Exit status when every compared type is shared (and in the other modes, success).
pub const EXIT_OK: u8 = 0;
/// Exit status when compared targets differ, or `--strict` found unreadable processes.
pub const EXIT_DIFFERENT: u8 = 1;
/// Exit status for a usage error, a bad target or a failure.
pub const EXIT_ERROR: u8 = 2;

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

    /// A system call on a path failed: `cannot open /proc/42/ns/net: Permission denied`.
    #[error("cannot {what} {}: {}", path.display(), source.desc())]
    Sys {
        what: &'static str,
        path: PathBuf,
        source: Errno,
    },

    /// An ioctl on a namespace file failed.
    #[error("ioctl {request} on {}: {}", path.display(), source.desc())]
    Ioctl {
        request: &'static str,
        path: PathBuf,
        source: Errno,
    },

    /// A write to stdout failed (other than a closed pipe, which ends quietly).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

impl Error {
    pub fn sys(what: &'static str, path: impl Into<PathBuf>, source: Errno) -> Self {
        Error::Sys {
            what,
            path: path.into(),
            source,
        }
    }

    /// The errno of a failed system call or ioctl, if that is what this is.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Sys { source, .. } | Error::Ioctl { source, .. } => Some(*source),
            _ => None,
        }
    }

    /// The exit status nsinspect ends with after this error.
    pub fn exit_code(&self) -> u8 {
        EXIT_ERROR
    }
}

/// The errno inside an I/O error (EIO when it carries none).
pub fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}
