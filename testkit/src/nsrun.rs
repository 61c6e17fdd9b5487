//! Processes started by nsrun in chosen namespaces, for tests of the tools that inspect
//! or wire them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::{read_pid_file, ProcessGuard};

/// The binary `name` of the same build as `exe` (a test's `env!("CARGO_BIN_EXE_...")`).
/// Cargo builds only the library of a dev-dependency, so when the binary is missing it is
/// built once, with the same cargo, profile and target directory.
fn sibling_bin(exe: &str, name: &str) -> PathBuf {
    let exe = PathBuf::from(exe);
    let profile_dir = exe.parent().expect("the binary is in a directory");
    bin_of_profile(profile_dir, name)
}

/// The workspace binary `name` of the same build as the running test, for tests of
/// crates that have no binary of their own (testkit's: `tests/examples.rs`). The test
/// runs from `TARGET/PROFILE/deps/`; the binary is looked for in `TARGET/PROFILE/` and
/// built there, as [`nsrun_bin`] does, when it is missing.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("cannot find the test executable");
    let deps = exe.parent().expect("the test is in a directory");
    let profile_dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps is in a profile directory")
    } else {
        deps
    };
    bin_of_profile(profile_dir, name)
}

/// `PROFILE_DIR/name`, built with the same cargo, profile and target directory if missing.
fn bin_of_profile(profile_dir: &Path, name: &str) -> PathBuf {
    let bin = profile_dir.join(name);
    if bin.exists() {
        return bin;
    }
    let target_dir = profile_dir
        .parent()
        .expect("the profile is in a target directory");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "--offline", "-p", name, "--bin", name])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd.status().expect("cannot run cargo");
    assert!(status.success(), "building {name} for the tests failed");
    assert!(
        bin.exists(),
        "cargo built {name}, but not at {}",
        bin.display()
    );
    bin
}

/// The nsrun binary of the same build as `exe`, found (or built) once per test process.
pub fn nsrun_bin(exe: &str) -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| sibling_bin(exe, "nsrun"))
}

/// A command started by `nsrun ARGS --kill-child --pid-file F -- COMMAND`. On drop the
/// command (held by a pidfd since its start) and then nsrun are killed and reaped; with
/// a new PID namespace, the kernel ends everything else in it.
pub struct NsProcess {
    /// The command's PID, as the test sees it.
    pub pid: i32,
    command: Option<nsproc::Process>,
    /// Killed and reaped on drop, after the command.
    _nsrun: ProcessGuard,
    _dir: tempfile::TempDir,
}

impl NsProcess {
    pub fn start(nsrun: &Path, args: &[&str], command: &[&str]) -> NsProcess {
        let dir = tempfile::tempdir().expect("cannot create a temporary directory");
        let pid_file = dir.path().join("pid");
        let child = Command::new(nsrun)
            .args(args)
            .arg("--kill-child")
            .arg("--pid-file")
            .arg(&pid_file)
            .arg("--")
            .args(command)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("cannot start nsrun");
        let mut nsrun = ProcessGuard::new(child);
        let Some(pid) = read_pid_file(&pid_file, Duration::from_secs(10)) else {
            let status = nsrun.child().try_wait();
            panic!("nsrun {args:?} {command:?} wrote no PID file (status {status:?})");
        };
        // Held only while it is nsrun's child: the PID must not have been reused.
        let command = nsproc::Process::open(pid)
            .ok()
            .filter(|p| p.stat().is_ok_and(|s| s.ppid == nsrun.pid()));
        NsProcess {
            pid,
            command,
            _nsrun: nsrun,
            _dir: dir,
        }
    }
}

impl Drop for NsProcess {
    fn drop(&mut self) {
        // Through the pidfd, so a PID reused meanwhile is never hit.
        if let Some(command) = &self.command {
            let _ = command.send_signal(nix::sys::signal::Signal::SIGKILL);
        }
    }
}
