//! examples/container.sh end to end, the way a user runs it: a container made by the
//! four tools, inside a throwaway network namespace that plays the host. From inside,
//! COMMAND reports its hostname, its PID, the limits of its cgroup and its address; from
//! outside, the test checks that everything is gone afterwards. Needs root; fails (never
//! skips) under CI=true without it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testkit::{
    busybox_rootfs, cgroup_mounts, is_alive, own_cgroup, require_root, run_container_sh, NetnsGuard,
};

const SUBNET: &str = "10.213.77.0/24";

/// Runs container.sh with `args`, its host namespace `host` and state in `state`.
fn run_container(host: &NetnsGuard, state: &Path, name: &str, args: &[&str]) -> Output {
    run_container_sh(host, state, name, args, &[])
}

/// `key=value` lines of COMMAND's output.
fn report(stdout: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// Every path where a cgroup `name` below this test's own cgroup would be.
fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    cgroup_mounts()
        .into_iter()
        .filter_map(|m| {
            let own = own_cgroup(&m.mount_point)?;
            Some(m.mount_point.join(own.trim_start_matches('/')).join(name))
        })
        .collect()
}

/// The links of the host namespace, one name each.
fn host_links(host: &NetnsGuard) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-n", host.name(), "-o", "link", "show"])
        .output()
        .expect("cannot run ip");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(':').nth(1))
        .map(|n| n.trim().split('@').next().unwrap_or("").to_string())
        .collect()
}

/// Nothing of the container is left: no cgroup, no link but lo in the host namespace,
/// no lease, no NAT table.
fn assert_all_gone(host: &NetnsGuard, state: &Path, name: &str) {
    for dir in cgroup_dirs(name) {
        assert!(!dir.exists(), "{} is left behind", dir.display());
    }
    assert_eq!(
        host_links(host),
        ["lo"],
        "links are left in the host namespace"
    );
    let leases = std::fs::read_dir(state)
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default();
    assert!(leases.is_empty(), "state is left behind: {leases:?}");
    if let Ok(out) = Command::new("ip")
        .args(["netns", "exec", host.name(), "nft", "list", "tables"])
        .output()
    {
        let tables = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            !tables.contains("netns-bridge"),
            "a NAT table is left: {tables}"
        );
    }
}

#[test]
fn container_sh_isolates_limits_and_connects_then_removes_everything() {
    require_root!();
    let host = NetnsGuard::new();
    let state = tempfile::tempdir().expect("cannot create a temporary directory");
    let name = testkit::unique_name("ctr");
    let inside = r#"
        echo "hostname=$(hostname)"
        echo "pid=$$"
        echo "uid=$(id -u)"
        echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"
        echo "pids=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"
        echo "addr=$(ip -4 -o addr show dev eth0 | awk '{print $4}')"
        echo "route=$(ip route show default)"
        echo "links=$(ip -o link show | wc -l)"
        exit 3
    "#;
    let out = run_container(
        &host,
        state.path(),
        &name,
        &[
            "--memory", "64M", "--pids", "32", "--subnet", SUBNET, "none", "--", "sh", "-c", inside,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(3),
        "container.sh must exit with COMMAND's status\nstdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let seen = report(&out.stdout);
    let get = |k: &str| seen.get(k).map(String::as_str).unwrap_or("(missing)");
    assert_eq!(get("hostname"), name, "its own hostname");
    assert_eq!(get("pid"), "1", "COMMAND is PID 1 of its PID namespace");
    assert_eq!(get("uid"), "0", "root inside its user namespace");
    assert_eq!(get("mem"), "67108864", "the memory limit, seen inside");
    assert_eq!(get("pids"), "32", "the pids limit, seen inside");
    assert_eq!(
        get("addr"),
        "10.213.77.2/24",
        "the first address of the subnet"
    );
    assert!(
        get("route").contains("via 10.213.77.1"),
        "default route via the bridge: {}",
        get("route")
    );
    assert_eq!(get("links"), "2", "lo and eth0 only");

    // The host PID the script reported: the container's process is gone.
    let host_pid: i32 = stderr
        .split(" is PID ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("container.sh did not say the PID: {stderr}"));
    assert!(!is_alive(host_pid), "PID {host_pid} is still alive");
    assert_all_gone(&host, state.path(), &name);
}

#[test]
fn container_sh_leaves_nothing_when_the_setup_fails() {
    require_root!();
    let host = NetnsGuard::new();
    let state = tempfile::tempdir().expect("cannot create a temporary directory");
    let name = testkit::unique_name("ctr");
    // A bad subnet: the cgroup and its limits are made first, then the attach fails.
    let out = run_container(
        &host,
        state.path(),
        &name,
        &["--subnet", "10.213.78.0/33", "none", "--", "true"],
    );
    assert_eq!(
        out.status.code(),
        Some(125),
        "a failed setup is status 125\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_all_gone(&host, state.path(), &name);
}

#[test]
fn container_sh_pivots_into_a_busybox_root_with_a_volume() {
    require_root!();
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    let volume = tempfile::tempdir().expect("cannot create a temporary directory");
    std::fs::write(volume.path().join("hello"), "from outside").expect("cannot write");
    let host = NetnsGuard::new();
    let state = tempfile::tempdir().expect("cannot create a temporary directory");
    let name = testkit::unique_name("ctr");
    let inside = r#"
        echo "hostname=$(hostname)"
        echo "pid=$$"
        echo "uid=$(id -u)"
        echo "root=$(ls / | tr '\n' ' ')"
        echo "volume=$(cat /data/hello)"
        touch /data/new 2>/dev/null && echo volume_rw=yes || echo volume_rw=no
        touch /tmp/new && echo tmp_rw=yes
        echo "caps=$(grep CapBnd /proc/self/status | cut -f2)"
        echo "effective=$(grep CapEff /proc/self/status | cut -f2)"
        echo "nnp=$(grep NoNewPrivs /proc/self/status | cut -f2)"
        echo "seccomp=$(grep 'Seccomp:' /proc/self/status | cut -f2)"
        echo "mounts=$(cut -d' ' -f5 /proc/self/mountinfo | sort -u | tr '\n' ' ')"
        echo "addr=$(ip -4 -o addr show dev eth0 | awk '{print $4}')"
        exit 3
    "#;
    let volume_arg = format!("{}:/data:ro", volume.path().display());
    let rootfs_arg = rootfs.path().to_str().expect("a UTF-8 path");
    let out = run_container(
        &host,
        state.path(),
        &name,
        &[
            "--subnet",
            SUBNET,
            "--volume",
            &volume_arg,
            rootfs_arg,
            "--",
            "sh",
            "-c",
            inside,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(3),
        "container.sh must exit with COMMAND's status\nstdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    let seen = report(&out.stdout);
    let get = |k: &str| seen.get(k).map(String::as_str).unwrap_or("(missing)");
    assert_eq!(get("hostname"), name);
    assert_eq!(get("pid"), "1");
    assert_eq!(get("uid"), "0");
    let mut expected: Vec<String> = std::fs::read_dir(rootfs.path())
        .expect("cannot list the rootfs")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    let mut root: Vec<&str> = get("root").split_whitespace().collect();
    root.sort();
    assert_eq!(
        root, expected,
        "/ inside is the rootfs, with /data made in it"
    );
    assert_eq!(get("volume"), "from outside");
    assert_eq!(get("volume_rw"), "no", "a :ro volume is read-only");
    assert_eq!(get("tmp_rw"), "yes", "/tmp is a writable tmpfs");
    // Docker's default set: chown, dac_override, fowner, fsetid, kill, setgid, setuid,
    // setpcap, net_bind_service, net_raw, sys_chroot, mknod, audit_write, setfcap.
    assert_eq!(get("caps"), "00000000a80425fb");
    assert_eq!(get("effective"), "00000000a80425fb");
    assert_eq!(get("nnp"), "1");
    assert_eq!(get("seccomp"), "2");
    let mounts: Vec<&str> = get("mounts").split_whitespace().collect();
    for want in [
        "/",
        "/data",
        "/dev",
        "/dev/null",
        "/dev/pts",
        "/proc",
        "/proc/sys",
        "/tmp",
    ] {
        assert!(mounts.contains(&want), "{want} is not mounted: {mounts:?}");
    }
    for host_only in ["/sys/fs/cgroup", "/run", "/boot"] {
        assert!(
            !mounts.contains(&host_only),
            "the host's {host_only} is seen"
        );
    }
    assert_eq!(get("addr"), "10.213.77.2/24");
    assert_all_gone(&host, state.path(), &name);
}

#[test]
fn container_sh_runs_rootless_and_says_what_it_cannot_do() {
    require_root!();
    testkit::require_program!("setpriv");
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    // Copies nobody can reach: the repository and the build may be below /root.
    let copies = tempfile::tempdir().expect("cannot create a temporary directory");
    let open = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(copies.path(), open.clone()).expect("cannot chmod");
    let script = copies.path().join("container.sh");
    std::fs::copy(testkit::examples_dir().join("container.sh"), &script).expect("cannot copy");
    let nsrun = testkit::container_bin_dir().join("nsrun");
    std::fs::copy(nsrun, copies.path().join("nsrun")).expect("cannot copy nsrun");
    std::fs::set_permissions(rootfs.path(), open).expect("cannot chmod");
    let name = testkit::unique_name("rl");
    let inside = r#"
        echo "uid=$(id -u)"
        echo "hostname=$(hostname)"
        echo "links=$(ip -o link show | wc -l)"
        echo "caps=$(grep CapBnd /proc/self/status | cut -f2)"
        echo "nnp=$(grep NoNewPrivs /proc/self/status | cut -f2)"
        exit 4
    "#;
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "bash"])
        .arg(&script)
        .args([
            rootfs.path().to_str().expect("UTF-8"),
            "--",
            "sh",
            "-c",
            inside,
        ])
        .env("NSTOOLS_BIN", copies.path())
        .env("CONTAINER_NAME", &name)
        .env("HOME", "/")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cannot run container.sh");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(4), "stderr: {stderr}");
    let seen = report(&out.stdout);
    let get = |k: &str| seen.get(k).map(String::as_str).unwrap_or("(missing)");
    assert_eq!(get("uid"), "0", "root inside its own user namespace");
    assert_eq!(get("hostname"), name);
    assert_eq!(get("links"), "1", "loopback only");
    assert_eq!(get("caps"), "00000000a80425fb");
    assert_eq!(get("nnp"), "1");
    assert!(
        stderr.contains("rootless: no memory or pids limit"),
        "it says which limits it cannot set: {stderr}"
    );
}
