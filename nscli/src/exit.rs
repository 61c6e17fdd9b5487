//! The exit statuses every tool shares, and how `main` ends after an error.
//!
//! A tool that runs a COMMAND (nsrun, `cgctl exec`) ends as `env(1)` and `chroot(1)` do
//! when it cannot: 125, 126, 127. Tools add their own next to their error type
//! (nsinspect's "differs" 1, netns-bridge's "no address" 3).

use std::fmt::Display;
use std::process::ExitCode;

use crate::report;

/// Success.
pub const EXIT_OK: i32 = 0;
/// The operation failed.
pub const EXIT_FAILURE: i32 = 1;
/// Bad arguments: clap's errors and the tool's own usage errors; nothing was done.
pub const EXIT_USAGE: i32 = 2;
/// The tool itself failed before COMMAND ran.
pub const EXIT_BEFORE_COMMAND: i32 = 125;
/// COMMAND was found but cannot be executed.
pub const EXIT_CANNOT_EXECUTE: i32 = 126;
/// COMMAND was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// What `main` needs to know of a tool's error type.
pub trait Failure: Display {
    /// The exit status after this error.
    fn exit_code(&self) -> i32;

    /// Whether stdout's reader went away (`tool | head`): the tool then ends quietly,
    /// with status 0.
    fn is_closed_pipe(&self) -> bool {
        false
    }
}

/// The end of a tool's `main`: the status of `result`, after reporting an error as
/// one line `tool: message` on stderr.
pub fn status<E: Failure>(tool: &str, result: Result<i32, E>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) if e.is_closed_pipe() => EXIT_OK,
        Err(e) => {
            report::error(tool, &e);
            e.exit_code()
        }
    }
}

/// A status for `fn main() -> ExitCode` (clamped to 0..=255).
pub fn exit_code(status: i32) -> ExitCode {
    ExitCode::from(status.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum E {
        Bad,
        Pipe,
    }

    impl Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl Failure for E {
        fn exit_code(&self) -> i32 {
            3
        }
        fn is_closed_pipe(&self) -> bool {
            matches!(self, E::Pipe)
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(status::<E>("t", Ok(7)), 7);
        assert_eq!(status("t", Err::<i32, _>(E::Bad)), 3);
        assert_eq!(status("t", Err::<i32, _>(E::Pipe)), EXIT_OK);
        assert_eq!(exit_code(300), ExitCode::from(255));
        assert_eq!(exit_code(-1), ExitCode::from(0));
    }
}
