//! examples/container.sh end to end, the way a user runs it: a container made by the
//! four tools, inside a throwaway network namespace that plays the host. From inside,
//! COMMAND reports its hostname, its PID, the limits of its cgroup and its address; from
//! outside, the test checks that everything is gone afterwards. Needs root; fails (never
//! skips) under CI=true without it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use testkit::{cgroup_mounts, is_alive, own_cgroup, require_root, workspace_bin, NetnsGuard};

const SUBNET: &str = "10.213.77.0/24";

fn container_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/container.sh")
}

/// The directory of the built nsrun, cgctl and netns-bridge (built if missing).
fn bin_dir() -> PathBuf {
    let nsrun = workspace_bin("nsrun");
    for tool in ["cgctl", "netns-bridge"] {
        workspace_bin(tool);
    }
    nsrun
        .parent()
        .expect("nsrun is in a directory")
        .to_path_buf()
}

/// Runs container.sh with `args`, its host namespace `host` and state in `state`.
fn run_container(host: &NetnsGuard, state: &Path, name: &str, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(container_sh())
        .args(args)
        .env("NSTOOLS_BIN", bin_dir())
        .env("CONTAINER_HOST_NETNS", host.name())
        .env("CONTAINER_NAME", name)
        .env("NETNS_BRIDGE_STATE_DIR", state)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run examples/container.sh")
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
