//! Test support for nstools' integration tests: a privilege check that fails under CI
//! instead of skipping, helpers to run the built binaries, and guards that remove what a
//! test made (network namespaces, cgroups, mounts, processes) when dropped, also when
//! the test panics.

mod cgroup;
mod container;
mod mount;
mod netns;
mod nsrun;
mod process;
mod run;

pub use cgroup::{
    cgroup_layout, cgroup_layout_is, cgroup_mount_of, cgroup_mounts, cgroup_of, own_cgroup,
    CgroupGuard, CgroupLayout, CgroupMount, CgroupScope,
};
pub use container::{busybox_rootfs, container_bin_dir, examples_dir, run_container_sh};
pub use mount::{mount_points, TempMount};
pub use netns::NetnsGuard;
pub use nsrun::{nsrun_bin, workspace_bin, NsProcess};
pub use process::{children_of, is_alive, read_pid_file, state_of, wait_until, ProcessGuard};
pub use run::{Outcome, Tool};

/// Notes on stderr that the test is skipped, and returns false; under `CI=true` it
/// panics instead: CI must never skip silently.
pub fn skip(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}, and CI=true forbids skipping this test");
    }
    eprintln!("skipped: {why}");
    false
}

/// Whether the test may go on: true as root, else [`skip`].
pub fn have_root() -> bool {
    nix::unistd::geteuid().is_root() || skip("this test needs root")
}

/// Whether `program` is on PATH (true), else [`skip`] (.ci/run installs what tests use).
pub fn have_program(program: &str) -> bool {
    let found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    });
    found || skip(&format!("{program} is not installed"))
}

/// Returns from the test early (skipping) unless [`have_program`] finds `program`.
#[macro_export]
macro_rules! require_program {
    ($program:expr) => {
        if !$crate::have_program($program) {
            return;
        }
    };
}

/// Returns from the test early (skipping) unless [`have_root`] says it may go on.
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::have_root() {
            return;
        }
    };
}

/// A name unique to this process and call, for namespaces, cgroups and files.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
