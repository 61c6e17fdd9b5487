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
mod user;

pub use cgroup::{
    cgroup_home, cgroup_layout, cgroup_layout_is, cgroup_mount_of, cgroup_mounts, cgroup_of,
    own_cgroup, CgroupGuard, CgroupLayout, CgroupMount, CgroupParent, CgroupScope,
};
pub use container::{busybox_rootfs, container_bin_dir, examples_dir, run_container_sh};
pub use mount::{mount_points, TempMount};
pub use netns::NetnsGuard;
pub use nsrun::{nsrun_bin, workspace_bin, NsProcess};
pub use process::{children_of, is_alive, read_pid_file, state_of, wait_until, ProcessGuard};
pub use run::{Outcome, Tool};
pub use user::UserGuard;

/// Notes on stderr that the test is skipped, and returns false; under `CI=true` it
/// panics instead: CI must never skip silently. With `TESTKIT_SKIP_LOG=FILE` the note
/// is also appended to FILE as one line, `TEST: WHY` (.ci/run lists them).
pub fn skip(why: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}, and CI=true forbids skipping this test");
    }
    eprintln!("skipped: {why}");
    if let Some(log) = std::env::var_os("TESTKIT_SKIP_LOG") {
        use std::io::Write;
        let test = std::thread::current().name().unwrap_or("?").to_string();
        let line = format!("{test}: {why}\n");
        // One write of one line to a file opened for appending: lines never interleave.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "cannot append to {}: {e}",
                std::path::Path::new(&log).display()
            );
        }
    }
    false
}

/// Whether the test may go on: true as root, else [`skip`].
pub fn have_root() -> bool {
    nix::unistd::geteuid().is_root() || skip("this test needs root")
}

/// Whether `program` is installed (true), else [`skip`] with a note naming the Debian
/// package that provides it (.ci/run installs every one of them). `program` is a name
/// looked up on PATH, or an absolute path (e.g. a CNI plugin's). A file covered by
/// something that is not an executable file (CI hides programs under /dev/null) is missing.
pub fn have_program(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |path: &std::path::Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let found = if program.contains('/') {
        runnable(std::path::Path::new(program))
    } else {
        std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| runnable(&dir.join(program)))
        })
    };
    found
        || skip(&format!(
            "{program} is not installed (Debian package: {})",
            debian_package(program)
        ))
}

/// The Debian package that provides `program` (a name or an absolute path), for skip notes.
pub fn debian_package(program: &str) -> &'static str {
    let name = program.rsplit('/').next().unwrap_or(program);
    if program.starts_with("/usr/lib/cni/") || program.starts_with("/opt/cni/") {
        return "containernetworking-plugins";
    }
    match name {
        "nft" => "nftables",
        "ip" | "bridge" => "iproute2",
        "ping" => "iputils-ping",
        "ps" | "pgrep" | "pkill" => "procps",
        "lsns" | "nsenter" | "unshare" | "setpriv" | "ipcmk" | "ipcs" | "mount" => "util-linux",
        "busybox" => "busybox-static",
        "qemu-system-x86_64" => "qemu-system-x86",
        "strace" => "strace",
        "stress-ng" => "stress-ng",
        "perl" => "perl",
        "useradd" | "userdel" => "passwd",
        "hyperfine" => "hyperfine",
        "python3" => "python3",
        "dpkg-deb" => "dpkg",
        "podman" => "podman",
        "runc" => "runc",
        "containerd" | "ctr" => "containerd",
        _ => "unknown: see .ci/run",
    }
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

#[cfg(test)]
mod tests {
    use super::debian_package;

    #[test]
    fn packages_are_named_for_names_and_paths() {
        assert_eq!(debian_package("nft"), "nftables");
        assert_eq!(debian_package("/usr/sbin/nft"), "nftables");
        assert_eq!(
            debian_package("/usr/lib/cni/bridge"),
            "containernetworking-plugins"
        );
        assert_eq!(debian_package("bridge"), "iproute2");
        assert_eq!(debian_package("busybox"), "busybox-static");
        assert_eq!(debian_package("ctr"), "containerd");
        assert_eq!(debian_package("no-such-tool"), "unknown: see .ci/run");
    }
}
