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
    // The same on a kernel without setns(pidfd): one namespace file at a time.
    let out = nsrun()
        .command(["--join", &pid, "sh", "-c", SHOW_NS])
        .env("NSRUN_TEST_NO_PIDFD_SETNS", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    expect_joined(
        &String::from_utf8_lossy(&out.stdout),
        target.pid,
        &["net", "uts", "ipc"],
    );
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
    // Composed with a new namespace of another kind, and with --setup, which runs in
    // nsrun's own network namespace, not the joined one.
    let out = nsrun().run([
        "--join",
        &format!("{}:net", host.name()),
        "--uts",
        "--setup",
        "readlink /proc/self/ns/net >&2",
        "--",
        "ip",
        "-o",
        "link",
    ]);
    assert!(out.success().contains("nsj0"));
    assert_eq!(out.stderr().trim(), link("self", "net"));
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

#[test]
fn pod_members_share_net_ipc_uts_but_not_pids() {
    require_root!();
    require_program!("busybox");
    let pause = sleeper(&["--net", "--ipc", "--uts", "--hostname", "pod"]);
    let pod = format!("{}:net,ipc,uts", pause.pid);
    nsrun()
        .run(["--join", &pod, "ip", "link", "set", "lo", "up"])
        .success();
    let member = ["--join", pod.as_str(), "--pid", "--mount-proc"];
    let server = start(
        &member,
        &["sh", "-c", "echo hello from a | busybox nc -l -p 40123"],
    );
    // Read now: the server ends once it has answered.
    let a = server.pid.to_string();
    let server_links: Vec<(String, String)> =
        KINDS.iter().map(|k| (k.to_string(), link(&a, k))).collect();
    let mut args: Vec<&str> = member.to_vec();
    let client = format!(
        "{SHOW_NS}; echo pid1 $$; hostname; \
         for i in $(seq 100); do busybox nc 127.0.0.1 40123 2>/dev/null && exit; sleep 0.05; done"
    );
    args.extend(["sh", "-c", &client]);
    let out = nsrun().run(args).success();
    assert!(out.contains("hello from a"), "{out}");
    assert!(out.contains("pid1 1\npod\n"), "{out}");
    let links = parse_links(&out);
    let p = pause.pid.to_string();
    let of_a = |kind: &str| {
        server_links
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    for (kind, inside) in links.iter().filter(|(k, _)| KINDS.contains(&k.as_str())) {
        match kind.as_str() {
            "net" | "ipc" | "uts" => {
                assert_eq!(*inside, of_a(kind), "{kind}");
                assert_eq!(*inside, link(&p, kind), "{kind}");
            }
            // New in each member (--pid, and --mount-proc's mount namespace).
            "pid" | "mnt" => {
                assert_ne!(*inside, of_a(kind));
                assert_ne!(*inside, link(&p, kind));
                assert_ne!(*inside, link("self", kind));
            }
            _ => assert_eq!(*inside, link("self", kind), "{kind}"),
        }
    }
}

#[test]
fn a_reused_pid_is_never_entered() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("entered");
    // Inside a PID namespace of its own, so that PIDs can be chosen (ns_last_pid): the
    // target T gets a network namespace, nsrun --join T:net stops between opening T and
    // entering it, T is killed and reaped, another process with its own network
    // namespace takes T's PID, and nsrun goes on.
    let script = r#"
        "$NSRUN" --net sleep 60 & T=$!
        until [ "$(readlink /proc/$T/ns/net)" != "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
        NSRUN_TEST_STOP_BEFORE_JOIN=1 "$NSRUN" --join $T:net -- touch "$MARKER" & N=$!
        until grep -q '^State:.*stopped' /proc/$N/status; do sleep 0.01; done
        kill -KILL $T; wait $T
        echo $((T - 1)) > /proc/sys/kernel/ns_last_pid
        "$NSRUN" --net sleep 60 & R=$!
        [ "$R" = "$T" ] && echo reused
        kill -CONT $N; wait $N; echo status=$?
        kill -KILL $R
    "#;
    let out = nsrun()
        .command(["--pid", "--mount-proc", "sh", "-c", script])
        .env("NSRUN", env!("CARGO_BIN_EXE_nsrun"))
        .env("MARKER", &marker)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "reused\nstatus=125\n", "{stderr}");
    assert!(stderr.contains("has exited"), "{stderr}");
    assert!(!marker.exists(), "COMMAND ran");
}

#[test]
fn container_options_work_inside_a_joined_network_namespace() {
    require_root!();
    require_program!("ip");
    let Some(rootfs) = testkit::busybox_rootfs() else {
        return;
    };
    let host = NetnsGuard::new();
    let status = host
        .command("ip")
        .args([
            "link", "add", "nsj2", "type", "veth", "peer", "name", "nsj3",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let out = nsrun()
        .run([
            "--join",
            host.name(),
            "--pid",
            "--root",
            rootfs.path().to_str().unwrap(),
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--cap-drop",
            "all",
            "--seccomp",
            "default",
            "--new-session",
            "--",
            "sh",
            "-c",
            "ip -o link; echo pid $$; grep CapEff /proc/self/status",
        ])
        .success();
    assert!(out.contains("nsj2") && out.contains("pid 1\n"), "{out}");
    assert!(out.contains("CapEff:\t0000000000000000"), "{out}");
}
