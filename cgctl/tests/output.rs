//! What cgctl prints: one JSON document on success for every command that takes
//! --json (numbers as numbers, no limit as null), tables with -o/-r/-n, a failed write
//! of a result is exit 1, a full stderr never panics and a closed pipe ends quietly.

mod common;

use std::process::{Command, Stdio};

use common::{cgroup_of, dir, read, run, sleeper, Scope};
use serde_json::Value;

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not one JSON document ({e}): {out}"))
}

/// cgctl with `--root self`, stdout and stderr as given.
fn cgctl_to(args: &[&str], stdout: Stdio, stderr: Stdio) -> Command {
    let mut cmd = common::cgctl().command(["--root", "self"]);
    cmd.args(args).stdout(stdout).stderr(stderr);
    cmd
}

fn full() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
        .into()
}

#[test]
fn every_command_prints_one_json_document() {
    testkit::require_root!();
    let s = Scope::new();
    let g = s.sub("g");
    let v = json(&run(&["create", &g, "--json"]).success());
    let created = v["created"].as_array().unwrap();
    assert!(
        !created.is_empty() && created.iter().all(Value::is_string),
        "{v}"
    );
    assert!(v.as_object().unwrap().len() == 1, "{v}");
    let p = sleeper();
    let pid = p.pid().to_string();
    let v = json(&run(&["add", &g, &pid, "--json"]).success());
    let into = &v["cgroups"][0];
    assert_eq!(*into, Value::String(into.as_str().unwrap().to_string()));
    assert_eq!(
        v["pids"],
        serde_json::json!([p.pid()]),
        "a PID is a number: {v}"
    );
    assert_eq!(v["threads"], false, "{v}");
    // --json before the command still works
    let v = json(&run(&["--json", "limit", "pids", "max", &g]).success());
    assert_eq!(v[0]["resource"], "pids");
    assert_eq!(v[0]["files"][0]["file"], "pids.max");
    let v = json(&run(&["show", &g, "--json"]).success());
    assert_eq!(v["pids"]["max"], Value::Null, "no limit is null: {v}");
    assert!(
        v["processes"].is_u64() && v["pids"]["current"].is_u64(),
        "{v}"
    );
    run(&["limit", "pids", "64", &g]).success();
    let v = json(&run(&["show", &g, "--json"]).success());
    assert!(v["pids"]["max"].is_u64(), "{v}");
    let v = json(&run(&["freeze", &g, "--json"]).success());
    assert!(v[0].is_string(), "{v}");
    let v = json(&run(&["thaw", &g, "--json"]).success());
    assert!(v[0].is_string(), "{v}");
    let v = json(&run(&["mode", "--json"]).success());
    assert!(v["mode"].is_string(), "{v}");
    assert!(v["hierarchies"][0]["controllers"].is_array(), "{v}");
    let v = json(&run(&["which", &pid, "--json"]).success());
    // a row per hierarchy: several on a hybrid host, one on v2
    let rows = v["cgroups"].as_array().unwrap();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r["path"].is_string()),
        "{v}"
    );
    let v = json(&run(&["tree", "-c", "pids", &g, "--json"]).success());
    let child = &v["cgroups"][0]["children"][0];
    assert_eq!(child["pid"], p.pid(), "a PID is a number: {v}");
    drop(p);
    // exec: the document comes first on stdout, then COMMAND's output
    let e = s.sub("e");
    let out = run(&["exec", "--json", "-l", "pids=10", &e, "--", "echo", "hi"]).success();
    let mut docs = serde_json::Deserializer::from_str(&out).into_iter::<Value>();
    let v = docs.next().unwrap().unwrap();
    assert!(v["cgroups"][0].is_string(), "{v}");
    assert_eq!(v["applied"][0]["resource"], "pids");
    assert_eq!(out[docs.byte_offset()..].trim(), "hi");
    let v = json(&run(&["rm", "-r", &s.name, "--json"]).success());
    assert!(v["removed"][0].is_string(), "{v}");
    assert!(!dir("pids", &s.name).exists());
}

#[test]
fn mount_and_umount_print_json() {
    testkit::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("h");
    let name = testkit::unique_name("cgctlj").replace('-', "_");
    let m = mnt.display().to_string();
    let v = json(&run(&["mount", "--name", &name, &m, "--json"]).success());
    assert_eq!(v["dir"], m.as_str());
    assert_eq!(v["version"], "v1");
    let v = json(&run(&["umount", &m, "--json"]).success());
    assert_eq!(v["hidden_cgroups"], 0);
}

#[test]
fn tables_take_the_output_options() {
    testkit::require_root!();
    let out = run(&["mode", "-o", "version,hierarchy", "-r"]).success();
    let mut lines = out.lines();
    lines.next();
    assert_eq!(lines.next(), Some("VERSION HIERARCHY"), "{out}");
    let out = run(&["which", "-n", "-o", "path", &std::process::id().to_string()]).success();
    assert!(!out.contains("PATH"), "{out}");
    let out = run(&["ls", "-o", "bogus"]);
    out.expect_code(2);
    assert!(
        out.stderr().contains("unknown column 'bogus'"),
        "{}",
        out.stderr()
    );
}

#[test]
fn a_result_that_cannot_be_written_is_exit_1() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", &s.name]).success();
    for args in [vec!["ls"], vec!["limit", "pids", "10", &s.name]] {
        let out = cgctl_to(&args, full(), Stdio::piped()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot write the output: No space left on device"),
            "{err}"
        );
    }
}

#[test]
fn a_result_that_cannot_be_written_changes_nothing() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", "-q", &s.name]).success();
    let pids_max = dir("pids", &s.name).join("pids.max");
    let before = read(&pids_max);
    let p = sleeper();
    let pid = p.pid().to_string();
    let home = cgroup_of(p.pid(), "pids");
    let new = s.sub("new");
    for args in [
        vec!["limit", "pids", "10", &s.name],
        vec!["limit", "pids", "10", &pid, "--cgroup", &new],
        vec!["add", &s.name, &pid],
        vec!["create", &new],
    ] {
        let out = cgctl_to(&args, full(), Stdio::piped()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot write the output"), "{args:?}: {err}");
        // undone: the limit as it was, the process where it was, no cgroup made
        assert_eq!(read(&pids_max), before, "{args:?}");
        assert_eq!(cgroup_of(p.pid(), "pids"), home, "{args:?}");
        assert!(!dir("pids", &new).exists(), "{args:?}");
    }
}

#[test]
fn a_closed_pipe_keeps_what_was_done() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", "-q", &s.name]).success();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    let out = cgctl_to(
        &["limit", "pids", "10", &s.name],
        Stdio::from(writer),
        Stdio::piped(),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.starts_with(b"pids: 10"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&dir("pids", &s.name).join("pids.max")), "10");
}

#[test]
fn a_full_stderr_never_panics() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", &s.name]).success();
    let out = cgctl_to(&["limit", "pids", "10", &s.name], Stdio::piped(), full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = cgctl_to(&["limit", "pids", "x", &s.name], Stdio::null(), full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = cgctl_to(&["limit"], Stdio::null(), full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    testkit::require_root!();
    let mut child = cgctl_to(&["tree"], Stdio::piped(), Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn create_add_rm_and_mount_print_what_they_did() {
    testkit::require_root!();
    let s = Scope::new();
    let g = s.sub("g");
    let made = run(&["create", "-c", "pids", &g]).success();
    let pids_dir = dir("pids", &g);
    // the scope's own cgroup and g, one directory a line
    assert_eq!(
        made.lines().last(),
        Some(pids_dir.display().to_string().as_str()),
        "{made}"
    );
    assert!(
        made.lines().all(|l| std::path::Path::new(l).is_dir()),
        "{made}"
    );
    assert_eq!(
        run(&["create", "-q", "-c", "pids", &s.sub("h")]).success(),
        ""
    );
    let p = sleeper();
    let moved = run(&["add", "-c", "pids", &g, &p.pid().to_string()]).success();
    assert_eq!(moved.trim(), pids_dir.display().to_string());
    drop(p);
    let removed = run(&["rm", "-c", "pids", "-r", &s.name]).success();
    assert_eq!(removed.trim(), dir("pids", &s.name).display().to_string());
    assert!(!pids_dir.exists());
}
