//! examples/container.sh and examples/rootfs.sh, run the way a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::{workspace_bin, NetnsGuard};

/// The repository's examples/ directory.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The directory of the built nsrun, cgctl and netns-bridge (built if missing).
pub fn container_bin_dir() -> PathBuf {
    let nsrun = workspace_bin("nsrun");
    for tool in ["cgctl", "netns-bridge"] {
        workspace_bin(tool);
    }
    nsrun
        .parent()
        .expect("nsrun is in a directory")
        .to_path_buf()
}

/// Runs container.sh with `args` and `env`, its host namespace `host`, its name `name`
/// and netns-bridge's state in `state`; stdin is /dev/null.
pub fn run_container_sh(
    host: &NetnsGuard,
    state: &Path,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    Command::new("bash")
        .arg(examples_dir().join("container.sh"))
        .args(args)
        .env("NSTOOLS_BIN", container_bin_dir())
        .env("CONTAINER_HOST_NETNS", host.name())
        .env("CONTAINER_NAME", name)
        .env("NETNS_BRIDGE_STATE_DIR", state)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("cannot run examples/container.sh")
}

/// A root filesystem made by examples/rootfs.sh in a new temporary directory, or
/// `None` (skipped; a failure under CI=true) without busybox.
pub fn busybox_rootfs() -> Option<tempfile::TempDir> {
    if !crate::have_program("busybox") {
        return None;
    }
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let out = Command::new("bash")
        .arg(examples_dir().join("rootfs.sh"))
        .arg(dir.path())
        .output()
        .expect("cannot run examples/rootfs.sh");
    assert!(
        out.status.success(),
        "rootfs.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(dir)
}
