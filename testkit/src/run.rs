//! Running a built binary the way a user would, and reading what it did.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A built binary, e.g. `Tool::new(env!("CARGO_BIN_EXE_nsrun"))`.
#[derive(Clone, Debug)]
pub struct Tool {
    path: PathBuf,
}

impl Tool {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Tool { path: path.into() }
    }

    /// A command for the binary with `args`; stdin empty.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.path);
        cmd.args(args).stdin(Stdio::null());
        cmd
    }

    /// Runs the binary with `args` to the end and collects its output.
    pub fn run<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Outcome::of(&mut self.command(args))
    }
}

/// What a finished command did.
#[derive(Debug)]
pub struct Outcome {
    pub output: Output,
}

impl Outcome {
    /// Runs `cmd` to the end.
    pub fn of(cmd: &mut Command) -> Self {
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        Outcome { output }
    }

    /// The exit status; a death by signal N is reported as 128+N, as a shell would.
    pub fn code(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        self.output
            .status
            .code()
            .or_else(|| self.output.status.signal().map(|s| 128 + s))
            .unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Panics, showing both streams, unless the command exited with `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "expected exit status {code}\nstdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// Panics unless the command succeeded; returns its stdout.
    #[track_caller]
    pub fn success(&self) -> String {
        self.expect_code(0);
        self.stdout()
    }
}
