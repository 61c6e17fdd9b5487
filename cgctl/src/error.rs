//! cgctl's error type: each variant says what was attempted, on what, and why it failed.

use std::path::PathBuf;

use nix::errno::Errno;

/// Exit status when an operation failed.
pub const EXIT_FAILED: i32 = nscli::exit::EXIT_FAILURE;
/// Exit status for a usage error: bad arguments, a bad value or a bad name; nothing
/// was written.
pub const EXIT_USAGE: i32 = nscli::exit::EXIT_USAGE;
/// Exit statuses of `exec` when COMMAND did not run, as `env(1)` has them.
pub use nscli::exit::{
    EXIT_BEFORE_COMMAND as EXIT_EXEC_FAILED, EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line makes no sense; nothing was done.
    #[error("{0}")]
    Usage(String),

    /// A value (size, CPU list, weight...) that cannot be used; nothing was written.
    #[error("invalid {what} '{value}': {why}")]
    Value {
        what: &'static str,
        value: String,
        why: String,
    },

    /// A cgroup name or path that cannot be used; nothing was written.
    #[error("invalid cgroup '{name}': {why}")]
    Name { name: String, why: String },

    /// Reading, writing, creating or removing a file or directory failed.
    #[error("cannot {op} {}: {}{hint}", path.display(), nscli::errno::io_text(source))]
    File {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
        hint: String,
    },

    /// Moving a process or thread into a cgroup failed.
    #[error("cannot move {kind} {pid} into {}: {}{hint}", path.display(), source.desc())]
    Attach {
        kind: &'static str,
        pid: i32,
        path: PathBuf,
        source: Errno,
        hint: String,
    },

    /// A system call failed.
    #[error("{what}: {}{hint}", source.desc())]
    Sys {
        what: String,
        source: Errno,
        hint: String,
    },

    /// A file of the kernel or of a cgroup says something cgctl cannot read.
    #[error("cannot parse {}: {why}", path.display())]
    Parse { path: PathBuf, why: String },

    /// The cgroup does not exist (in any hierarchy that was asked for).
    #[error("no cgroup '{name}'{detail}")]
    NoCgroup { name: String, detail: String },

    /// The kernel does not offer what was asked for on this host.
    #[error("{0}")]
    Unsupported(String),

    /// cgctl refuses to do this, and says why.
    #[error("{0}")]
    Refused(String),

    /// A call to systemd over D-Bus failed.
    #[error("{what}: {why}")]
    Bus { what: String, why: String },

    /// Waiting for the kernel to get somewhere took too long.
    #[error("timed out: {0}")]
    Timeout(String),

    /// `exec` could not run COMMAND.
    #[error("cannot execute '{command}': {}", source.desc())]
    Exec { command: String, source: Errno },

    /// The result could not be written to stdout (or encoded as JSON).
    #[error(transparent)]
    Output(#[from] nscli::output::OutputError),

    /// `exec` failed before COMMAND ran (exit status 125, not 1).
    #[error(transparent)]
    BeforeExec(Box<Error>),

    /// Looking up or reading a process failed (no such process, one that exited...).
    #[error(transparent)]
    Proc(#[from] nsproc::Error),

    /// Several independent steps failed (teardown keeps going and reports all).
    #[error("{}", nscli::error::Joined(.0))]
    Many(Vec<Error>),
}

impl Error {
    /// The exit status cgctl ends with after this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Value { .. } | Error::Name { .. } => EXIT_USAGE,
            Error::Exec { source, .. } => match source {
                Errno::ENOENT | Errno::ENOTDIR => EXIT_NOT_FOUND,
                _ => EXIT_CANNOT_EXECUTE,
            },
            Error::BeforeExec(_) => EXIT_EXEC_FAILED,
            _ => EXIT_FAILED,
        }
    }

    /// For `exec`: an error of cgctl's own, before COMMAND ran, ends with 125 rather
    /// than 1 (usage errors stay 2, COMMAND's own 126/127).
    pub fn before_exec(self) -> Self {
        match self.exit_code() {
            EXIT_FAILED => Error::BeforeExec(Box::new(self)),
            _ => self,
        }
    }

    /// An I/O error on `path` while doing `op` ("read", "write 100 to", "create"...).
    pub fn file(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            op,
            path: path.into(),
            source,
            hint: String::new(),
        }
    }

    /// A failed system call, with what was being done.
    pub fn sys(what: impl Into<String>, source: Errno) -> Self {
        Error::Sys {
            what: what.into(),
            source,
            hint: String::new(),
        }
    }

    pub fn value(what: &'static str, value: impl Into<String>, why: impl Into<String>) -> Self {
        Error::Value {
            what,
            value: value.into(),
            why: why.into(),
        }
    }

    pub fn name(name: impl Into<String>, why: impl Into<String>) -> Self {
        Error::Name {
            name: name.into(),
            why: why.into(),
        }
    }

    /// The errno inside, if this error carries one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::File { source, .. } => source.raw_os_error().map(Errno::from_raw),
            Error::Attach { source, .. } | Error::Sys { source, .. } => Some(*source),
            _ => None,
        }
    }
}

/// A failed system call with what was being done (`nix_call().context(|| ...)?`).
impl From<nscli::error::SysError> for Error {
    fn from(e: nscli::error::SysError) -> Self {
        Error::Sys {
            what: e.what,
            source: e.errno,
            hint: String::new(),
        }
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

pub use nscli::errno::io_errno;

pub type Result<T, E = Error> = std::result::Result<T, E>;
