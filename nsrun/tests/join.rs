//! --join: the namespaces entered are exactly those asked, as the kernel shows them.

use std::time::Duration;

use testkit::{nsrun_bin, require_program, require_root, wait_until, NetnsGuard, NsProcess, Tool};

const KINDS: [&str; 7] = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];

fn nsrun() -> Tool {
    Tool::new(env!("CARGO_BIN_EXE_nsrun"))
}

/// A process started by nsrun with `args`, running `command`.
fn start(args: &[&str], command: &[&str]) -> NsProcess {
    NsProcess::start(nsrun_bin(env!("CARGO_BIN_EXE_nsrun")), args, command)
}

fn sleeper(args: &[&str]) -> NsProcess {
    start(args, &["sleep", "60"])
}

fn link(pid: &str, kind: &str) -> String {
    let path = format!("/proc/{pid}/ns/{kind}");
    std::fs::read_link(&path)
        .unwrap_or_else(|e| panic!("readlink {path}: {e}"))
        .to_string_lossy()
        .into_owned()
}

/// `KIND LINK` lines of COMMAND's namespaces, read inside.
const SHOW_NS: &str = "for k in cgroup ipc mnt net pid user uts; do \
                       echo $k $(readlink /proc/self/ns/$k); done";

fn parse_links(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn expect_joined(out: &str, target: i32, joined: &[&str]) {
    let links = parse_links(out);
    assert_eq!(links.len(), KINDS.len(), "{out}");
    for (kind, inside) in links {
        let from = if joined.contains(&kind.as_str()) {
            target.to_string()
        } else {
            "self".to_string()
        };
        assert_eq!(inside, link(&from, &kind), "{kind} should be {from}'s");
    }
}

#[test]
fn enters_exactly_the_types_asked() {
    require_root!();
    let target = sleeper(&["--net", "--uts", "--ipc"]);
    let pid = target.pid.to_string();
    let out = nsrun()
        .run(["--join", &format!("{pid}:net,uts"), "sh", "-c", SHOW_NS])
        .success();
    expect_joined(&out, target.pid, &["net", "uts"]);
    // Without TYPES: every namespace that differs from nsrun's own.
    let out = nsrun().run(["--join", &pid, "sh", "-c", SHOW_NS]).success();
    expect_joined(&out, target.pid, &["net", "uts", "ipc"]);
    // A namespace file: its one type.
    let out = nsrun()
        .run([
            "--join",
            &format!("/proc/{pid}/ns/ipc"),
            "sh",
            "-c",
            SHOW_NS,
        ])
        .success();
    expect_joined(&out, target.pid, &["ipc"]);
}

#[test]
fn joined_network_namespace_shows_its_links() {
    require_root!();
    require_program!("ip");
    let host = NetnsGuard::new();
    let status = host
        .command("ip")
        .args([
            "link", "add", "nsj0", "type", "veth", "peer", "name", "nsj1",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    for target in [host.name().to_string(), host.path()] {
        let out = nsrun()
            .run(["--join", &target, "ip", "-o", "link", "show"])
            .success();
        assert!(out.contains("nsj0") && out.contains("nsj1"), "{out}");
    }
    // Composed with a new namespace of another kind, and with --pid-file and --setup.
    let out = nsrun()
        .run([
            "--join",
            &format!("{}:net", host.name()),
            "--uts",
            "--setup",
            "readlink /proc/self/ns/net >&2",
            "--",
            "ip",
            "-o",
            "link",
        ])
        .success();
    assert!(out.contains("nsj0"), "{out}");
}

#[test]
fn joined_pid_namespace_puts_command_inside() {
    require_root!();
    let target = sleeper(&["--pid"]);
    let out = nsrun()
        .run([
            "--join",
            &format!("{}:pid", target.pid),
            "grep",
            "NSpid",
            "/proc/self/status",
        ])
        .success();
    let fields: Vec<&str> = out.split_whitespace().skip(1).collect();
    assert_eq!(fields.len(), 2, "{out}");
    // And with --init, --kill-child and --pid-file.
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let out = nsrun()
        .command([
            "--join",
            &format!("{}:pid", target.pid),
            "--init",
            "--kill-child",
            "--pid-file",
            pid_file.to_str().unwrap(),
            "sh",
            "-c",
            "exit 7",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert!(!pid_file.exists());
}

#[test]
fn joined_mount_namespace_shows_its_mounts() {
    require_root!();
    let target = start(
        &["--mount"],
        &[
            "sh",
            "-c",
            "mount -t tmpfs nsrun-join-mark /mnt && sleep 60",
        ],
    );
    let mountinfo = format!("/proc/{}/mountinfo", target.pid);
    assert!(wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&mountinfo).is_ok_and(|m| m.contains("nsrun-join-mark"))
    }));
    let out = nsrun()
        .run([
            "--join",
            &format!("{}:mnt", target.pid),
            "sh",
            "-c",
            "grep -c nsrun-join-mark /proc/self/mountinfo; pwd",
        ])
        .success();
    // The working directory follows the joined namespace: its root.
    assert_eq!(out, "1\n/\n");
    assert!(!std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains("nsrun-join-mark"));
}

#[test]
fn bad_targets_fail_before_anything() {
    require_root!();
    let out = nsrun().run(["--join", "2147483647", "true"]);
    out.expect_code(125);
    assert!(
        out.stderr().contains("no process with PID"),
        "{}",
        out.stderr()
    );
    let out = nsrun().run(["--join", "1:network", "true"]);
    out.expect_code(2);
    let file = tempfile::NamedTempFile::new().unwrap();
    let out = nsrun().run(["--join", file.path().to_str().unwrap(), "true"]);
    out.expect_code(125);
    assert!(out.stderr().contains("not a namespace"), "{}", out.stderr());
    let target = sleeper(&["--net"]);
    let out = nsrun().run(["--join", &format!("{}:net", target.pid), "--net", "true"]);
    out.expect_code(2);
}

#[test]
fn a_file_holding_a_namespace_is_not_mounted_over() {
    require_root!();
    require_program!("ip");
    let held = NetnsGuard::new();
    let path = held.path();
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    for kind in ["net", "uts"] {
        let out = nsrun().run([
            &format!("--{kind}={path}"),
            "--pid-file",
            pid_file.to_str().unwrap(),
            "true",
        ]);
        out.expect_code(125);
        let err = out.stderr();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("--join {path}")) && err.contains(&format!("umount {path}")),
            "{err}"
        );
        let mounts = testkit::mount_points();
        assert_eq!(
            mounts.iter().filter(|m| **m == path).count(),
            1,
            "{mounts:?}"
        );
        assert!(!pid_file.exists());
    }
    // Still the same namespace, still usable.
    let out = nsrun().run(["--join", &path, "ip", "-o", "link"]).success();
    assert!(out.contains("lo"), "{out}");
}
