//! Errno text: what `strerror` says, never Rust's "(os error N)".

use std::fmt;
use std::io;

use nix::errno::Errno;

/// The errno inside an I/O error (EIO when it carries none).
pub fn io_errno(e: &io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// An errno as text: `No such file or directory`.
pub fn errno_text(e: Errno) -> &'static str {
    e.desc()
}

/// An I/O error as text: its errno's description, or the message of an error that
/// carries no errno (`stream did not contain valid UTF-8`).
pub fn io_text(e: &io::Error) -> IoText<'_> {
    IoText(e)
}

/// See [`io_text`].
pub struct IoText<'a>(&'a io::Error);

impl fmt::Display for IoText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.raw_os_error() {
            Some(n) => f.write_str(Errno::from_raw(n).desc()),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_os_error_suffix() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert!(e.to_string().contains("os error"));
        assert_eq!(io_text(&e).to_string(), "No such file or directory");
        assert_eq!(io_errno(&e), Errno::ENOENT);
        let custom = io::Error::new(io::ErrorKind::InvalidData, "bad bytes");
        assert_eq!(io_text(&custom).to_string(), "bad bytes");
        assert_eq!(io_errno(&custom), Errno::EIO);
        assert_eq!(errno_text(Errno::EPERM), "Operation not permitted");
    }
}
