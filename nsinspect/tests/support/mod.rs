//! Helpers for nsinspect's integration tests: the built binaries, processes started by
//! nsrun in chosen namespaces (killed and reaped when dropped, also on failure), and
//! the kernel's own view of a namespace.
//!

#![allow(dead_code)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use testkit::children_of;
use testkit::{NsProcess, Tool};

/// The nsinspect binary under test.
pub fn nsinspect() -> Tool {
    Tool::new(env!("CARGO_BIN_EXE_nsinspect"))
}

/// The nsrun binary of the same build (built first if missing).
pub fn nsrun_path() -> &'static Path {
    testkit::nsrun_bin(env!("CARGO_BIN_EXE_nsinspect"))
}

/// A command started by nsrun in new namespaces, killed on drop (see testkit).
pub type InNamespaces = NsProcess;

/// `NsProcess::start` with this build's nsrun.
pub fn start_in(nsrun_args: &[&str], command: &[&str]) -> NsProcess {
    NsProcess::start(nsrun_path(), nsrun_args, command)
}

/// Waits until `p` runs `program` (it has exec'd) and, if `children` is not zero, until
/// it has that many children.
pub fn wait_ready(p: &NsProcess, program: &str, children: usize) {
    let ready = testkit::wait_until(Duration::from_secs(10), || {
        let exe = std::fs::read_link(format!("/proc/{}/exe", p.pid)).unwrap_or_default();
        exe.file_name().is_some_and(|n| n == program) && children_of(p.pid).len() >= children
    });
    assert!(
        ready,
        "PID {} did not become {program} with {children} children",
        p.pid
    );
}

/// The kernel's view: the inode of `path` (a namespace file), followed through links.
pub fn ino(path: impl AsRef<Path>) -> u64 {
    let path = path.as_ref();
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()))
        .ino()
}

/// The inode of the namespace of type `kind` (`net`, `mnt`, ...) of `pid`.
pub fn ns_ino(pid: i32, kind: &str) -> u64 {
    ino(format!("/proc/{pid}/ns/{kind}"))
}

/// Parses a tool's JSON output, showing it when it does not parse.
#[track_caller]
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("output is not JSON ({e}):\n{text}"))
}

/// A file on a fresh tmpfs that a namespace can be bind-mounted on. The tmpfs goes
/// (with the bind mount below it) when the returned guard drops.
pub fn ns_file_on_tmpfs(name: &str) -> (testkit::TempMount, PathBuf) {
    let mount = testkit::TempMount::tmpfs();
    let file = mount.path().join(name);
    std::fs::write(&file, b"").expect("cannot create the mount target");
    (mount, file)
}
