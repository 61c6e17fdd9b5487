//! COMMAND: its argument vector, prepared before the fork, and the last steps before exec.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

use nix::sys::signal::SigSet;
use nscli::exit::Failure;

use crate::channel::{ChildEnd, Report};
use crate::error::Error;
use crate::lockdown::{self, Lockdown};
use crate::signals;
use crate::terminal::Terminal;

pub struct Command {
    argv: Vec<CString>,
}

/// How the process that becomes COMMAND prepares itself.
#[derive(Clone, Copy)]
pub struct ExecOptions<'a> {
    /// The signal mask to restore (nsrun's mask before it blocked signals).
    pub mask: &'a SigSet,
    /// Take the terminal's foreground.
    pub foreground: bool,
    /// Session, capabilities, no_new_privs, seccomp.
    pub lockdown: &'a Lockdown,
}

impl Command {
    pub fn new(args: &[OsString]) -> Result<Self, Error> {
        let argv = args
            .iter()
            .map(|a| CString::new(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                Error::Usage("COMMAND and its arguments cannot contain NUL bytes".into())
            })?;
        if argv.is_empty() {
            return Err(Error::Usage("no COMMAND to run".into()));
        }
        Ok(Command { argv })
    }

    /// The program name, for messages.
    pub fn name(&self) -> String {
        self.argv[0].to_string_lossy().into_owned()
    }

    /// The last steps before exec(2), then exec; returns only on failure.
    pub fn replace_process(&self, opts: ExecOptions<'_>) -> Error {
        if opts.foreground && !opts.lockdown.new_session {
            Terminal::take_for_command();
        }
        let last = match opts.lockdown.apply() {
            Ok(last) => last,
            Err(e) => return e,
        };
        signals::reset_for_exec(opts.mask);
        if let Err(e) = lockdown::install_last(last) {
            return e;
        }
        let source = match nix::unistd::execvp(&self.argv[0], &self.argv) {
            Err(e) => e,
            Ok(never) => match never {},
        };
        Error::Exec {
            command: self.name(),
            source,
        }
    }

    /// In nsrun's child: [`Command::replace_process`], and on failure a report to nsrun
    /// and the matching exit status (126, 127 or 125).
    pub fn exec(&self, opts: ExecOptions<'_>, end: &mut ChildEnd) -> ! {
        let err = self.replace_process(opts);
        end.report(&match &err {
            Error::Exec { source, .. } => Report::ExecFailed(*source),
            other => Report::Failed(other.to_string()),
        });
        exit(err.exit_code())
    }
}

/// Ends a forked process without running the parent's atexit handlers or destructors.
pub fn exit(code: i32) -> ! {
    // SAFETY: _exit is always safe to call.
    unsafe { libc::_exit(code) }
}
