//! nsproc's error type: what was attempted, on what (a path or a PID), and the errno.
//! Messages use `Errno::desc()`, never Rust's "(os error N)".

use std::path::PathBuf;

use nix::errno::Errno;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call on a path failed: `cannot open /proc/42/ns/net: Permission denied`.
    #[error("cannot {what} {}: {}", path.display(), source.desc())]
    Sys {
        what: &'static str,
        path: PathBuf,
        source: Errno,
    },

    /// A system call on a process failed: `cannot open a pidfd of PID 42: ...`.
    #[error("cannot {what} PID {pid}: {}", source.desc())]
    Process {
        what: &'static str,
        pid: i32,
        source: Errno,
    },

    /// An ioctl on a namespace file failed.
    #[error("ioctl {request} on {}: {}", path.display(), source.desc())]
    Ioctl {
        request: &'static str,
        path: PathBuf,
        source: Errno,
    },

    #[error("{} is not a namespace file", path.display())]
    NotANamespace { path: PathBuf },

    /// There is no process with this PID (it never existed, or was reaped).
    #[error("no process with PID {pid}")]
    NoSuchProcess { pid: i32 },

    /// The process held has exited (a zombie counts): its PID may name another one.
    #[error("PID {pid} has exited")]
    Exited { pid: i32 },

    /// A /proc file did not have the shape the kernel gives it.
    #[error("cannot parse {}: {why}", path.display())]
    Parse { path: PathBuf, why: String },
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
            Error::Sys { source, .. }
            | Error::Process { source, .. }
            | Error::Ioctl { source, .. } => Some(*source),
            _ => None,
        }
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
    fn messages_carry_no_os_error_number() {
        let e = Error::sys("open", "/proc/1/ns/net", Errno::EACCES);
        assert_eq!(
            e.to_string(),
            "cannot open /proc/1/ns/net: Permission denied"
        );
        let e = Error::Process {
            what: "open a pidfd of",
            pid: 7,
            source: Errno::EMFILE,
        };
        assert_eq!(
            e.to_string(),
            "cannot open a pidfd of PID 7: Too many open files"
        );
        assert_eq!(e.errno(), Some(Errno::EMFILE));
        assert_eq!(Error::Exited { pid: 7 }.errno(), None);
    }
}
