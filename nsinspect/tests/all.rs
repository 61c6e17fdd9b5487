//! `--all`, side by side with util-linux's lsns, on namespaces this test controls;
//! other tests run in parallel, so unrelated namespaces may come and go meanwhile.

mod support;

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::Value;
use support::{ino, json, ns_file_on_tmpfs, ns_ino, nsinspect, InNamespaces};

/// (type, inode) → (nprocs, lowest pid)
type Census = HashMap<(String, u64), (u64, Option<i64>)>;

fn census(doc: &Value) -> Census {
    doc["namespaces"]
        .as_array()
        .expect("namespaces is an array")
        .iter()
        .map(|n| {
            (
                (
                    n["type"].as_str().unwrap_or("?").to_string(),
                    n["ns"].as_u64().unwrap_or(0),
                ),
                (n["nprocs"].as_u64().unwrap_or(0), n["pid"].as_i64()),
            )
        })
        .collect()
}

/// What lsns says. lsns 2.38 itself fails now and then (silently, status 1) when a
/// process exits during its scan, which parallel tests make likely: it is asked again.
fn lsns() -> Census {
    for _ in 0..10 {
        let out = testkit::Outcome::of(Command::new("lsns").args([
            "--json",
            "--list",
            "-o",
            "NS,TYPE,NPROCS,PID",
        ]));
        if out.code() == 0 {
            return census(&json(&out.stdout()));
        }
    }
    panic!("lsns failed ten times in a row");
}

fn ours(args: &[&str]) -> Census {
    let mut all = vec!["--all", "--json", "-o", "NS,TYPE,NPROCS,PID"];
    all.extend_from_slice(args);
    census(&json(&nsinspect().run(&all).success()))
}

/// A PID namespace with a shell and two sleeps, in new net, uts and ipc namespaces.
fn three_processes() -> InNamespaces {
    let p = support::start_in(
        &["--pid", "--mount-proc", "--net", "--uts", "--ipc"],
        &["sh", "-c", "sleep 60 & sleep 60 & wait"],
    );
    support::wait_ready(&p, "dash", 2);
    p
}

#[test]
fn every_namespace_lsns_lists_is_listed_with_the_same_counts() {
    testkit::require_root!();
    let groups = [three_processes(), three_processes()];
    let mut last_mismatch = String::new();
    for _attempt in 0..5 {
        let before = lsns();
        let mine = ours(&[]);
        let after = lsns();
        // Only what stood still while we looked can be compared.
        let stable: Vec<_> = before
            .iter()
            .filter(|(k, v)| after.get(*k) == Some(*v))
            .collect();
        let mismatches: Vec<String> = stable
            .iter()
            .filter(|(k, v)| mine.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k:?}: lsns {v:?}, nsinspect {:?}", mine.get(*k)))
            .collect();
        // Our own namespaces must be there and stable, with 3 processes each.
        for g in &groups {
            for kind in ["pid", "net", "uts", "ipc", "mnt"] {
                let key = (kind.to_string(), ns_ino(g.pid, kind));
                assert_eq!(
                    before.get(&key),
                    Some(&(3, Some(i64::from(g.pid)))),
                    "lsns sees {key:?} differently"
                );
                assert_eq!(mine.get(&key), before.get(&key), "{key:?}");
            }
        }
        if mismatches.is_empty() {
            return;
        }
        last_mismatch = mismatches.join("\n");
    }
    panic!("nsinspect and lsns disagree:\n{last_mismatch}");
}

#[test]
fn a_namespace_held_only_by_a_bind_mount_is_listed() {
    testkit::require_root!();
    let (_mount, file) = ns_file_on_tmpfs("uts");
    let arg = format!("--uts={}", file.display());
    let out =
        testkit::Outcome::of(Command::new(support::nsrun_path()).args([arg.as_str(), "true"]));
    out.expect_code(0);
    let held = ino(&file);
    let doc = json(
        &nsinspect()
            .run(["--all", "--json", "-t", "uts", "-o", "+PATH"])
            .success(),
    );
    let entry = doc["namespaces"]
        .as_array()
        .expect("namespaces is an array")
        .iter()
        .find(|n| n["ns"] == held)
        .unwrap_or_else(|| panic!("uts:[{held}] is not listed:\n{doc:#}"))
        .clone();
    assert_eq!(entry["type"], "uts");
    assert_eq!(entry["nprocs"], 0);
    assert_eq!(entry["pid"], Value::Null);
    let path = file.to_str().expect("UTF-8");
    assert_eq!(entry["nsfs"], serde_json::json!([path]));
    assert_eq!(entry["path"], path);
    // Only uts was asked for.
    assert!(doc["namespaces"]
        .as_array()
        .expect("array")
        .iter()
        .all(|n| n["type"] == "uts"));
}

#[test]
fn a_namespace_held_only_by_a_descriptor_is_listed_with_fds() {
    testkit::require_root!();
    let owner = support::start_in(&["--net"], &["sleep", "60"]);
    support::wait_ready(&owner, "sleep", 0);
    let net = ns_ino(owner.pid, "net");
    // A process outside that keeps the namespace open on descriptor 7.
    let holder = Command::new("sh")
        .args([
            "-c",
            &format!("exec 7</proc/{}/ns/net; exec sleep 60", owner.pid),
        ])
        .spawn()
        .expect("cannot start sh");
    let holder = testkit::ProcessGuard::new(holder);
    let fd_link = format!("/proc/{}/fd/7", holder.pid());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&fd_link)
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .ok()
        != Some(net)
        || std::fs::read_link(format!("/proc/{}/exe", holder.pid()))
            .map_or(true, |e| !e.ends_with("sleep"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the holder did not open the namespace"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(owner);
    // Only the descriptor keeps it now.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let doc = json(
            &nsinspect()
                .run(["--all", "--fds", "--json", "-t", "net"])
                .success(),
        );
        let entry = doc["namespaces"]
            .as_array()
            .expect("array")
            .iter()
            .find(|n| n["ns"] == net)
            .cloned()
            .unwrap_or_else(|| panic!("net:[{net}] is not listed:\n{doc:#}"));
        // Raw numbers in JSON, PID:FD in a table.
        assert_eq!(
            entry["fds"],
            serde_json::json!([{"pid": holder.pid(), "fd": 7}])
        );
        if entry["nprocs"] == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the namespace's process did not end"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let table = nsinspect()
        .run(["--all", "--fds", "-n", "-t", "net", "-o", "NS,FDS"])
        .success();
    assert!(
        table.contains(&format!("{net} {}:7", holder.pid())),
        "{table}"
    );
    // Without --fds it is not found.
    let doc = json(&nsinspect().run(["--all", "--json", "-t", "net"]).success());
    assert!(!doc["namespaces"]
        .as_array()
        .expect("array")
        .iter()
        .any(|n| n["ns"] == net));
}

#[test]
fn processes_exiting_during_the_scan_do_not_fail_it() {
    testkit::require_root!();
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // Each one is waited for: nothing is left behind.
                if let Ok(mut c) = Command::new("true").spawn() {
                    let _ = c.wait();
                }
            }
        })
    };
    let mut failures = Vec::new();
    for _ in 0..20 {
        let out = nsinspect().run(["--all", "-o", "NS,TYPE,NPROCS,PID,PPID,COMMAND"]);
        let unexpected: Vec<&str> = out
            .output
            .stderr
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| std::str::from_utf8(l).ok())
            .filter(|l| !l.contains("could not be read"))
            .collect::<Vec<_>>();
        if out.code() != 0 || !unexpected.is_empty() {
            failures.push(format!("status {}: {}", out.code(), out.stderr()));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = churn.join();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn strict_fails_only_when_something_was_unreadable() {
    testkit::require_root!();
    let out = nsinspect().run(["--all", "--strict", "-n", "-o", "NS"]);
    let unreadable = out.stderr().contains("could not be read");
    assert_eq!(
        out.code(),
        if unreadable { 1 } else { 0 },
        "{}",
        out.stderr()
    );
    if unreadable {
        // Said once, in one line.
        assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    }
    assert!(!out.stdout().is_empty());
}

#[test]
fn strict_fails_when_a_namespace_is_unreadable() {
    testkit::require_root!();
    // A root process whose /proc/PID/ns an unprivileged user may not read.
    let root_owned = testkit::ProcessGuard::new(
        Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("cannot start sleep"),
    );
    let mut cmd = nsinspect().command(["--all", "--strict", "-n", "-o", "NS"]);
    // nobody; std drops the supplementary groups with the uid.
    cmd.uid(65534).gid(65534);
    let out = testkit::Outcome::of(&mut cmd);
    assert!(testkit::is_alive(root_owned.pid()));
    assert_eq!(out.code(), 1, "{}", out.stderr());
    let stderr = out.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("nsinspect: ")
            && stderr.contains("could not be read: permission denied"),
        "{stderr}"
    );
    // What it could read (its own namespaces) is still listed.
    assert!(!out.stdout().is_empty());
}

#[test]
fn tree_puts_a_nested_pid_namespace_under_its_parent() {
    testkit::require_root!();
    let g = three_processes();
    let doc = json(
        &nsinspect()
            .run([
                "--all",
                "--tree",
                "--json",
                "-t",
                "pid",
                "-o",
                "NS,TYPE,NPROCS",
            ])
            .success(),
    );
    let host_pid = ns_ino(std::process::id() as i32, "pid");
    let host_user = ns_ino(std::process::id() as i32, "user");
    let roots = doc["namespaces"].as_array().expect("array");
    let user_root = roots
        .iter()
        .find(|n| n["ns"] == host_user)
        .unwrap_or_else(|| panic!("no initial user namespace at the root:\n{doc:#}"));
    assert_eq!(user_root["type"], "user");
    let host = user_root["children"]
        .as_array()
        .and_then(|c| c.iter().find(|n| n["ns"] == host_pid))
        .unwrap_or_else(|| panic!("the initial PID namespace is not under it:\n{doc:#}"));
    let ours = ns_ino(g.pid, "pid");
    let child = host["children"]
        .as_array()
        .and_then(|c| c.iter().find(|n| n["ns"] == ours))
        .unwrap_or_else(|| panic!("pid:[{ours}] is not under the initial one:\n{doc:#}"));
    assert_eq!(child["nprocs"], 3);

    // The table draws the same.
    let table = nsinspect()
        .run(["--all", "--tree", "-t", "pid", "-o", "NS,TYPE"])
        .success();
    assert!(
        table
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("│ └─{ours}"))
                || l.contains(&format!("─{ours} "))),
        "{table}"
    );
}

#[test]
fn type_filter_and_output_formats() {
    testkit::require_root!();
    let out = nsinspect().run(["--all", "-t", "net,uts"]).success();
    let mut lines = out.lines();
    let heading: Vec<&str> = lines
        .next()
        .expect("a heading")
        .split_whitespace()
        .collect();
    assert_eq!(
        heading,
        ["NS", "TYPE", "NPROCS", "PID", "PPID", "USER", "NSFS", "COMMAND"]
    );
    for line in lines {
        let kind = line.split_whitespace().nth(1).expect("a TYPE");
        assert!(kind == "net" || kind == "uts", "{line}");
    }
    let raw = nsinspect()
        .run(["--all", "--raw", "-n", "-o", "NS,TYPE,COMMAND"])
        .success();
    for line in raw.lines() {
        assert_eq!(line.split(' ').count(), 3, "{line}");
    }
}
