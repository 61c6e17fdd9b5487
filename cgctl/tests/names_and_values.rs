//! Every bad value and bad name: a non-zero exit, a clear message, nothing changed.

mod common;

use common::{dir, read, run, Scope};

#[test]
fn bad_values_change_nothing() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", &s.name]).success();
    let mem = dir("memory", &s.name);
    run(&["limit", "mem", "100M", &s.name]).success();
    let cases: &[(&str, &str, &str)] = &[
        ("mem", "0", "makes no sense"),
        ("mem", "-5M", "negative"),
        ("mem", "1.3K", "whole number of bytes"),
        ("mem", "10X", "unknown unit"),
        ("mem", "junk", "expected a number"),
        ("mem", "99999999999999999999", "too large"),
        ("mem", "8E", "too large"),
        ("mem", "0%", "0%"),
        ("mem-high", "0", "makes no sense"),
        ("cpu", "0", "zero CPUs"),
        ("cpu", "-1.5", "negative"),
        ("cpu", "0.001", "minimum"),
        ("cpu-weight", "0", "between 1 and 10000"),
        ("cpu-weight", "10001", "between 1 and 10000"),
        ("cpuset", "3-1", "backwards"),
        ("cpuset", "0-4095", "only has CPUs"),
        ("cpuset", "a", "not N or N-M"),
        ("mems", "", "empty"),
        ("pids", "ten", "whole number"),
        ("pids", "-3", "negative"),
    ];
    for (res, val, why) in cases {
        let out = run(&["limit", res, val, &s.name]);
        assert_ne!(out.code(), 0, "limit {res} {val} succeeded");
        let err = out.stderr();
        assert!(err.starts_with("cgctl: "), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
        assert!(
            err.contains(why),
            "limit {res} '{val}': expected '{why}' in: {err}"
        );
        assert!(out.stdout().is_empty());
    }
    let limit_file = common::file("memory.limit_in_bytes", "memory.max");
    assert_eq!(read(&mem.join(limit_file)), "104857600");
    let out = run(&["limit", "cpu", "1", "--period", "999", &s.name]);
    out.expect_code(2);
    let out = run(&["limit", "bogus", "1", &s.name]);
    out.expect_code(2);
    // a bad value for a PID target creates nothing
    let out = run(&["limit", "mem", "0", "1", "--cgroup", &s.sub("never")]);
    out.expect_code(2);
    assert!(!dir("memory", &s.sub("never")).exists());
}

#[test]
fn bad_names_are_refused_before_writing() {
    testkit::require_root!();
    let s = Scope::new();
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("evil");
    let link = tmp.path().join("to-tmp");
    std::os::unix::fs::symlink(tmp.path(), &link).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["create".into(), "..".into()], "'..'"),
        (vec!["create".into(), format!("{}/../x", s.name)], "'..'"),
        (vec!["create".into(), format!("{}/./x", s.name)], "'.'"),
        (
            vec!["create".into(), format!("{}//x", s.name)],
            "empty path component",
        ),
        (
            vec!["create".into(), outside.display().to_string()],
            "not inside a mounted cgroup",
        ),
        (
            vec!["create".into(), link.join("x").display().to_string()],
            "not inside a mounted cgroup",
        ),
        (
            vec![
                "create".into(),
                "/sys/fs/cgroup/memory/../../../tmp/x".into(),
            ],
            "'..'",
        ),
        (
            vec!["limit".into(), "pids".into(), "5".into(), "/tmp".into()],
            "not inside a mounted cgroup",
        ),
        (
            vec!["add".into(), format!("{}-missing", s.name), "1".into()],
            "no cgroup",
        ),
        (
            vec!["rm".into(), format!("{}-missing", s.name)],
            "no cgroup",
        ),
    ];
    for (args, why) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args);
        assert_ne!(out.code(), 0, "{args:?} succeeded");
        assert!(
            out.stderr().contains(why),
            "{args:?}: expected '{why}' in {}",
            out.stderr()
        );
    }
    assert!(!outside.exists());
    assert!(!tmp.path().join("x").exists());
    assert!(
        !dir("memory", &s.name).exists(),
        "a refused name made a cgroup"
    );
    // all names of a create are checked before any is made
    let out = run(&["create", &s.sub("a"), &s.sub("../b")]);
    out.expect_code(2);
    assert!(!dir("memory", &s.name).exists());
}

#[test]
fn root_self_and_absolute_paths() {
    testkit::require_root!();
    let s = Scope::new();
    // absolute paths reach exactly one hierarchy (on v2 there is only one)
    let abs = dir("memory", &s.name);
    run(&["create", &abs.display().to_string()]).success();
    assert!(abs.is_dir());
    if !common::v2() {
        assert!(!dir("pids", &s.name).exists());
    }
    // --root given as an absolute cgroup
    let out = common::cgctl().run(["--root", &abs.display().to_string(), "create", "inner"]);
    out.success();
    assert!(abs.join("inner").is_dir());
    // CGCTL_ROOT works like --root
    let mut cmd = common::cgctl().command(["create", &s.sub("env")]);
    cmd.env("CGCTL_ROOT", "self");
    testkit::Outcome::of(&mut cmd).success();
    assert!(dir("pids", &s.sub("env")).is_dir());
    // -c limits the hierarchies; on v2, the controllers enabled on the path
    run(&["create", "-c", "pids", &s.sub("only-pids")]).success();
    assert!(dir("pids", &s.sub("only-pids")).is_dir());
    if common::v2() {
        let enabled = common::subtree_control(&dir("pids", &s.name));
        assert_eq!(enabled, ["pids"], "enabled below {}", s.name);
        assert!(common::subtree_control(&dir("pids", &s.sub("only-pids"))).is_empty());
    } else {
        assert!(!dir("memory", &s.sub("only-pids")).exists());
    }
    let out = run(&["create", "-c", "nosuchcontroller", &s.sub("x")]);
    out.expect_code(1);
    assert!(out
        .stderr()
        .contains("no mounted hierarchy has the nosuchcontroller"));
}

#[test]
fn root_confines_absolute_names_too() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", "-c", "pids", &s.sub("a"), &s.sub("b")]).success();
    let root = dir("pids", &s.sub("a"));
    let root = root.to_str().unwrap();
    // outside --root: a usage error, nothing made
    let b_new = dir("pids", &s.sub("b/new"));
    let out = common::cgctl().run(["--root", root, "create", b_new.to_str().unwrap()]);
    out.expect_code(2);
    assert!(out.stderr().contains("outside --root"), "{}", out.stderr());
    assert!(!b_new.exists());
    // inside it: fine
    let a_new = dir("pids", &s.sub("a/new"));
    common::cgctl()
        .run(["--root", root, "create", a_new.to_str().unwrap()])
        .success();
    assert!(a_new.is_dir());
}

#[test]
fn root_self_confines_absolute_names_too() {
    testkit::require_root!();
    let s = Scope::new();
    let (a, b) = (s.sub("a"), s.sub("b"));
    run(&["create", "-q", "-c", "pids", &a, &b]).success();
    // A cgctl that runs in A: `--root self` is A there, and B is outside it.
    let inner = |target: &std::path::Path| {
        run(&[
            "exec",
            "-c",
            "pids",
            &a,
            "--",
            env!("CARGO_BIN_EXE_cgctl"),
            "--root",
            "self",
            "create",
            target.to_str().unwrap(),
        ])
    };
    let b_new = dir("pids", &s.sub("b/new"));
    let out = inner(&b_new);
    out.expect_code(2);
    assert!(out.stderr().contains("outside --root"), "{}", out.stderr());
    assert!(!b_new.exists());
    let a_new = dir("pids", &s.sub("a/new"));
    inner(&a_new).success();
    assert!(a_new.is_dir());
}

#[test]
fn reserved_names_and_sub_page_memory_limits_are_usage_errors() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", &s.name]).success();
    for bad in [
        "cgroup.procs",
        "cgroup.anything",
        "adv/tasks",
        "notify_on_release",
        "memory.max",
        "adv/cpu.weight",
        "release_agent",
    ] {
        let name = s.sub(bad);
        let out = run(&["create", &name]);
        out.expect_code(2);
        assert!(out.stderr().contains("invalid cgroup"), "{}", out.stderr());
    }
    assert!(!dir("pids", &s.sub("adv")).exists());
    let mem = dir("memory", &s.name);
    let limit_file = common::file("memory.limit_in_bytes", "memory.max");
    let before = read(&mem.join(limit_file));
    for (res, value) in [
        ("mem", "1"),
        ("mem", "4095"),
        ("mem", "0.5K"),
        ("mem-high", "1"),
    ] {
        let out = run(&["limit", res, value, &s.name]);
        out.expect_code(2);
        assert!(out.stderr().contains("below one page"), "{}", out.stderr());
    }
    assert_eq!(read(&mem.join(limit_file)), before);
}
