//! One target and compare modes, run as a user would, checked against the kernel's
//! own view of each process's namespaces.

mod support;

use serde_json::Value;
use support::{ino, json, ns_file_on_tmpfs, ns_ino, nsinspect, nsrun_path, InNamespaces};

const TYPES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

fn sleeper(args: &[&str]) -> InNamespaces {
    let p = support::start_in(args, &["sleep", "60"]);
    support::wait_ready(&p, "sleep", 0);
    p
}

/// (TYPE, NS) pairs of a table.
fn table_ns(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?.to_string(), f.next()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn one_target_shows_every_type_as_the_kernel_does() {
    testkit::require_root!();
    let p = sleeper(&["--net", "--uts", "--ipc"]);
    let out = nsinspect().run([p.pid.to_string()]);
    let rows = table_ns(&out.success());
    let expected: Vec<(String, u64)> = TYPES
        .iter()
        .map(|t| (t.to_string(), ns_ino(p.pid, t)))
        .collect();
    assert_eq!(rows, expected, "{}", out.stdout());
    // The new namespaces are not ours; the others are.
    assert_ne!(
        ns_ino(p.pid, "net"),
        ns_ino(std::process::id() as i32, "net")
    );
    assert_eq!(
        ns_ino(p.pid, "mnt"),
        ns_ino(std::process::id() as i32, "mnt")
    );
}

#[test]
fn json_of_one_target_carries_the_same_facts() {
    testkit::require_root!();
    let p = sleeper(&["--net"]);
    let doc = json(&nsinspect().run(["--json", &p.pid.to_string()]).success());
    assert_eq!(doc["pid"], p.pid);
    assert_eq!(doc["target"], p.pid.to_string());
    let namespaces = doc["namespaces"]
        .as_array()
        .expect("namespaces is an array");
    assert_eq!(namespaces.len(), 8);
    let own_user = ns_ino(p.pid, "user");
    for ns in namespaces {
        let kind = ns["type"].as_str().expect("type is a string");
        assert_eq!(ns["ns"], ns_ino(p.pid, kind), "{kind}");
        if kind != "user" {
            assert_eq!(
                ns["ons"], own_user,
                "{kind} is owned by the initial user namespace"
            );
        }
    }
    let pid_row = namespaces
        .iter()
        .find(|n| n["type"] == "pid")
        .expect("a pid row");
    assert_eq!(pid_row["nspid"], serde_json::json!([p.pid]));
    assert_eq!(pid_row["depth"], 0);
}

#[test]
fn compare_reports_exactly_the_types_that_differ() {
    testkit::require_root!();
    let a = sleeper(&["--net", "--uts"]);
    let b = sleeper(&["--ipc"]);
    let (a_pid, b_pid) = (a.pid.to_string(), b.pid.to_string());

    let out = nsinspect().run([&a_pid, &b_pid]);
    out.expect_code(1);
    let stdout = out.stdout();
    let mut differing: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(" no"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    differing.sort();
    assert_eq!(differing, ["ipc", "net", "uts"], "{stdout}");
    for line in stdout.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 4, "{line}");
        assert_eq!(
            f[1].parse::<u64>().ok(),
            Some(ns_ino(a.pid, f[0])),
            "{line}"
        );
        assert_eq!(
            f[2].parse::<u64>().ok(),
            Some(ns_ino(b.pid, f[0])),
            "{line}"
        );
    }

    // The same process twice, and -t narrowing to what they share.
    nsinspect().run([&a_pid, &a_pid]).expect_code(0);
    nsinspect()
        .run(["-t", "mnt,pid,user", &a_pid, &b_pid, "self"])
        .expect_code(0);
    nsinspect()
        .run(["-t", "mnt,net", &a_pid, &b_pid])
        .expect_code(1);
    let narrowed = nsinspect().run(["-t", "uts", &a_pid, &b_pid]);
    narrowed.expect_code(1);
    assert_eq!(
        narrowed.stdout().lines().count(),
        2,
        "{}",
        narrowed.stdout()
    );
}

#[test]
fn compare_json_parses_and_agrees() {
    testkit::require_root!();
    let a = sleeper(&["--net"]);
    let out = nsinspect().run(["--json", &a.pid.to_string(), "self"]);
    out.expect_code(1);
    let doc = json(&out.stdout());
    assert_eq!(
        doc["targets"],
        serde_json::json!([a.pid.to_string(), "self"])
    );
    assert_eq!(doc["shared"], false);
    let types = doc["types"].as_array().expect("types is an array");
    assert_eq!(types.len(), 8);
    for t in types {
        let kind = t["type"].as_str().expect("type is a string");
        // Keyed by target, each a number.
        let ns = t["ns"].as_object().expect("ns is an object");
        assert_eq!(ns.len(), 2, "{t}");
        assert_eq!(ns[&a.pid.to_string()], ns_ino(a.pid, kind));
        // 'self' is nsinspect, which shares the test's namespaces.
        assert_eq!(ns["self"], ino(format!("/proc/self/ns/{kind}")), "{t}");
        assert_eq!(t["shared"], Value::Bool(kind != "net"), "{kind}");
    }
}

#[test]
fn nested_pid_namespace_shows_the_pid_in_each() {
    testkit::require_root!();
    let nsrun = nsrun_path().to_str().expect("a UTF-8 path").to_string();
    // nsrun (PID 1 of the outer namespace) runs sleep as PID 1 of an inner one.
    let outer = support::start_in(
        &["--pid", "--mount-proc"],
        &[
            &nsrun,
            "--pid",
            "--mount-proc",
            "--kill-child",
            "sleep",
            "60",
        ],
    );
    support::wait_ready(&outer, "nsrun", 1);
    let sleep = support::children_of(outer.pid)[0];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_link(format!("/proc/{sleep}/exe")).map_or(true, |e| !e.ends_with("sleep")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the inner sleep did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }

    let doc = json(
        &nsinspect()
            .run(["--json", "-t", "pid", &sleep.to_string()])
            .success(),
    );
    let row = &doc["namespaces"][0];
    assert_eq!(row["type"], "pid");
    assert_eq!(row["nspid"], serde_json::json!([sleep, 2, 1]));
    assert_eq!(row["depth"], 2);
    assert_eq!(row["ns"], ns_ino(sleep, "pid"));
    assert_eq!(
        row["pns"],
        ns_ino(outer.pid, "pid"),
        "the parent is the outer namespace"
    );
    // The kernel's own NSpid line says the same.
    let status = std::fs::read_to_string(format!("/proc/{sleep}/status")).expect("status");
    assert!(
        status.contains(&format!("NSpid:\t{sleep}\t2\t1\n")),
        "{status}"
    );

    let table = nsinspect().run(["-t", "pid", &sleep.to_string()]).success();
    assert!(table.contains(&format!("nspid={sleep},2,1")), "{table}");
}

#[test]
fn user_namespace_row() {
    testkit::require_root!();
    let p = sleeper(&["--user", "--map-root-user"]);
    let doc = json(
        &nsinspect()
            .run(["--json", "-t", "user", &p.pid.to_string()])
            .success(),
    );
    let row = &doc["namespaces"][0];
    assert_eq!(row["ns"], ns_ino(p.pid, "user"));
    assert_eq!(row["pns"], ns_ino(std::process::id() as i32, "user"));
    assert_eq!(row["depth"], 1);
    assert_eq!(row["uid"], 0, "created by root");
    // Raw numbers in JSON; the short form in a table.
    let one_to_one = serde_json::json!([{"inside": 0, "outside": 0, "count": 1}]);
    assert_eq!(row["uidmap"], one_to_one);
    assert_eq!(row["gidmap"], one_to_one);
    let table = nsinspect()
        .run([
            "-t",
            "user",
            "-o",
            "UIDMAP,GIDMAP",
            "-n",
            &p.pid.to_string(),
        ])
        .success();
    assert_eq!(
        table.split_whitespace().collect::<Vec<_>>(),
        ["0:0:1", "0:0:1"]
    );
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{}/uid_map", p.pid))
            .expect("uid_map")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["0", "0", "1"]
    );
}

#[test]
fn namespace_files_are_targets() {
    testkit::require_root!();
    let (_mount, file) = ns_file_on_tmpfs("net");
    let net_arg = format!("--net={}", file.display());
    let p = sleeper(&[&net_arg]);
    let file_arg = file.to_str().expect("a UTF-8 path");

    let rows = table_ns(&nsinspect().run([file_arg]).success());
    assert_eq!(rows, [("net".to_string(), ino(&file))]);
    assert_eq!(ino(&file), ns_ino(p.pid, "net"));

    // Compared with its process: only net is compared, and it is shared.
    let out = nsinspect().run([file_arg, &p.pid.to_string()]);
    out.expect_code(0);
    assert_eq!(out.stdout().lines().count(), 2, "{}", out.stdout());
    nsinspect().run([file_arg, "self"]).expect_code(1);
    let proc_link = format!("/proc/{}/ns/net", p.pid);
    nsinspect().run([file_arg, &proc_link]).expect_code(0);
    // A type the file does not have is a usage error.
    let out = nsinspect().run(["-t", "uts", file_arg, "self"]);
    out.expect_code(2);
    assert!(
        out.stderr().contains("is a net namespace"),
        "{}",
        out.stderr()
    );
}

#[test]
fn bad_targets_exit_2_with_one_clear_line() {
    testkit::require_root!();
    let dir = tempfile::tempdir().expect("tempdir");
    let regular = dir.path().join("plain");
    std::fs::write(&regular, b"x").expect("write");
    let regular = regular.to_str().expect("UTF-8").to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["nonexistent-target"], "no such file"),
        (vec!["0"], "not a valid PID"),
        (vec!["99999999999"], "not a valid PID"),
        (vec!["2147483647"], "No such process"),
        (vec![&regular], "is not a namespace file"),
        (vec!["/proc/self"], "is not a namespace file"),
        (vec!["/dev/null"], "is not a namespace file"),
        (vec!["self", "2147483647"], "No such process"),
        (
            vec!["-t", "bogus", "self"],
            "unknown namespace type 'bogus'",
        ),
        (vec!["-o", "BOGUS", "self"], "unknown column 'BOGUS'"),
        (vec![], "give a TARGET or --all"),
        (vec!["--all", "self"], "--all takes no TARGET"),
        (vec!["--tree", "self"], "go with --all"),
    ];
    for (args, message) in cases {
        let out = nsinspect().run(&args);
        assert_eq!(out.code(), 2, "{args:?}: {}", out.stderr());
        let stderr = out.stderr();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("nsinspect: "), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout().is_empty(), "{args:?}");
    }
}

#[test]
fn one_target_never_scans_proc() {
    testkit::require_root!();
    testkit::require_program!("strace");
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let out = testkit::Outcome::of(
        std::process::Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=getdents64,openat", "-o"])
            .arg(log.path())
            .arg(env!("CARGO_BIN_EXE_nsinspect"))
            .args(["self".to_string(), std::process::id().to_string()]),
    );
    // nsinspect is this test's child: it shares every namespace with it.
    assert_eq!(out.code(), 0, "{}{}", out.stdout(), out.stderr());
    let trace = std::fs::read_to_string(log.path()).expect("strace log");
    assert!(
        !trace.contains("getdents64"),
        "a directory was listed:\n{trace}"
    );
    assert!(!trace.contains("\"/proc\""), "/proc was opened:\n{trace}");
}

/// A child of this test that has exited and is not yet waited for: a zombie, reaped
/// when the guard drops.
fn zombie() -> testkit::ProcessGuard {
    let child = std::process::Command::new("true")
        .spawn()
        .expect("cannot start true");
    let guard = testkit::ProcessGuard::new(child);
    let pid = guard.pid();
    assert!(
        testkit::wait_until(std::time::Duration::from_secs(10), || {
            testkit::state_of(pid) == 'Z'
        }),
        "PID {pid} did not become a zombie"
    );
    guard
}

#[test]
fn comparing_a_zombie_is_an_error_not_a_verdict() {
    testkit::require_root!();
    let (a, b) = (zombie(), zombie());
    let (a_pid, b_pid) = (a.pid().to_string(), b.pid().to_string());
    // Neither has a net namespace left: "same" would be a lie, and so would "differs".
    for args in [
        vec!["-t", "net", &a_pid, &b_pid],
        vec![&a_pid, &b_pid],
        vec![&a_pid, "self"],
    ] {
        let out = nsinspect().run(&args);
        assert_eq!(out.code(), 2, "{args:?}: {}", out.stdout());
        assert_eq!(
            out.stderr().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr()
        );
        assert!(
            out.stderr()
                .contains(&format!("cannot inspect PID {}: it has exited", a.pid())),
            "{args:?}: {}",
            out.stderr()
        );
    }
    // What a zombie keeps can still be compared.
    nsinspect()
        .run(["-t", "pid,user", &a_pid, &b_pid, "self"])
        .expect_code(0);
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_fails() {
    use std::process::Stdio;
    // stdout's reader is gone before nsinspect writes (nsinspect self | head -0).
    let (read, write) = nix::unistd::pipe().expect("a pipe");
    drop(read);
    let mut cmd = nsinspect().command(["self"]);
    cmd.stdout(Stdio::from(write));
    let out = testkit::Outcome::of(&mut cmd);
    out.expect_code(0);
    assert_eq!(out.stderr(), "");
    // A write that fails otherwise is an error, said without "(os error N)".
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = nsinspect().command(["self"]);
    cmd.stdout(Stdio::from(full));
    let out = testkit::Outcome::of(&mut cmd);
    out.expect_code(2);
    assert_eq!(
        out.stderr(),
        "nsinspect: cannot write the output: No space left on device\n"
    );
}
