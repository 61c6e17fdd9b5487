//! create / add / show / ls / tree / which / freeze / thaw / rm, checked against the
//! kernel's view on v1, hybrid and v2 hosts; and a named v1 hierarchy mounted in a
//! temporary directory.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use common::{cgroup_of, dir, read, run, sleeper, Scope};
use testkit::{state_of, wait_until};

#[test]
fn add_show_ls_tree_which_agree_with_the_kernel() {
    testkit::require_root!();
    let s = Scope::new();
    let web = s.sub("web");
    // v1: in every hierarchy; v2: with the controllers show reads (as v1's hierarchies)
    let mut create = vec!["create"];
    if common::v2() {
        create.extend(["-c", "memory,cpu,pids,cpuset"]);
    }
    let db = s.sub("db");
    create.extend([web.as_str(), db.as_str()]);
    run(&create).success();
    let a = sleeper();
    let b = sleeper();
    run(&["add", &web, &a.pid().to_string()]).success();
    // '-' reads PIDs from stdin
    let mut cmd = common::cgctl().command(["--root", "self", "add", &web, "-"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{}\n", b.pid()).unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    for pid in [a.pid(), b.pid()] {
        for c in ["memory", "cpu", "pids", "freezer", "cpuset"] {
            assert!(cgroup_of(pid, c).ends_with(&format!("/{web}")), "{pid} {c}");
        }
    }

    // which: every hierarchy, as /proc/PID/cgroup says
    let out = run(&["--json", "which", &a.pid().to_string()]).success();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let v = &v["cgroups"];
    let lines = std::fs::read_to_string(format!("/proc/{}/cgroup", a.pid())).unwrap();
    assert_eq!(v.as_array().unwrap().len(), lines.lines().count());
    // the memory controller's hierarchy: its own on v1, cgroup2 ("unified") on v2
    let mem_label = common::file("memory", "unified");
    let mem = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["hierarchy"] == mem_label)
        .unwrap();
    assert_eq!(mem["path"], cgroup_of(a.pid(), "memory"));
    assert_eq!(mem["dir"], dir("memory", &web).display().to_string());

    // show: the cgroup's files
    run(&["limit", "pids", "50", &web]).success();
    let out = run(&["--json", "show", &web]).success();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["processes"], 2);
    assert_eq!(v["pids"]["max"], 50);
    assert_eq!(
        v["pids"]["current"],
        read(&dir("pids", &web).join("pids.current"))
            .parse::<u64>()
            .unwrap()
    );
    // no limit is null (issue 10: "max" is never a string in JSON)
    assert_eq!(v["memory"]["limit"], serde_json::Value::Null);
    // on v2, cpuset.cpus exists only once cpuset is enabled above (nothing asked for it)
    let cpus = dir("cpuset", &web).join("cpuset.cpus");
    let cpus = if common::v2() && !cpus.exists() {
        String::new()
    } else {
        read(&cpus)
    };
    assert_eq!(v["cpuset"]["cpus"], cpus);
    // ... and of a PID's cgroup
    let out = run(&["--json", "show", &a.pid().to_string()]).success();
    let v2: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v2["pids"]["max"], 50);
    let human = run(&["show", &web]).success();
    assert!(human.contains("pids       current 2, max 50"), "{human}");

    // ls: the cgroups below, per hierarchy
    let out = run(&["--json", "ls", "-c", "memory", &s.name]).success();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let paths: Vec<&str> = v["cgroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    let own = common::own_path("memory");
    let base = format!("{}/{}", own.trim_end_matches('/'), s.name);
    assert_eq!(
        paths,
        [base.clone(), format!("{base}/db"), format!("{base}/web")]
    );
    let plain = run(&["ls", "-c", "memory", &s.name]).success();
    let web_line = format!("{mem_label} {base}/web");
    assert!(
        plain
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == web_line),
        "{plain}"
    );
    // -r -n -o: one bare field a line
    let raw = run(&["ls", "-c", "memory", "-rn", "-o", "path", &s.name]).success();
    assert_eq!(raw.lines().collect::<Vec<_>>(), paths, "{raw}");

    // tree: processes with their commands
    let out = run(&["--json", "tree", "-c", "pids", &s.name]).success();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let web_node = v["cgroups"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["path"].as_str().is_some_and(|p| p.ends_with("/web")))
        .unwrap();
    // a process is a row with a PID (a JSON number) under its cgroup
    let processes: Vec<&serde_json::Value> = web_node["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| !n["pid"].is_null())
        .collect();
    let mut pids: Vec<i64> = processes
        .iter()
        .map(|p| p["pid"].as_i64().unwrap())
        .collect();
    pids.sort();
    let mut want = vec![a.pid() as i64, b.pid() as i64];
    want.sort();
    assert_eq!(pids, want);
    assert_eq!(processes[0]["name"], "sleep 300");
    let drawn = run(&["tree", "-c", "pids", &s.name]).success();
    assert!(drawn.contains(&format!("{} sleep 300", a.pid())), "{drawn}");

    // --threads moves single threads (tasks on v1, cgroup.threads on v2)
    if common::v2() {
        // v2 moves single threads only inside a threaded subtree: said so, not moved
        let out = run(&["add", "--threads", "-c", "pids", &db, &a.pid().to_string()]);
        out.expect_code(1);
        assert!(
            out.stderr().contains("threaded subtree"),
            "{}",
            out.stderr()
        );
        assert!(cgroup_of(a.pid(), "pids").ends_with(&format!("/{web}")));
        // (tests/v2.rs moves one inside a threaded subtree)
    } else {
        run(&["add", "--threads", "-c", "pids", &db, &a.pid().to_string()]).success();
        assert!(read(&dir("pids", &db).join("tasks"))
            .lines()
            .any(|l| l == a.pid().to_string()));
    }
}

#[test]
fn rm_refuses_populated_and_kill_empties() {
    testkit::require_root!();
    let s = Scope::new();
    let job = s.sub("job");
    run(&["create", &job]).success();
    let mut p = sleeper();
    run(&["add", &job, &p.pid().to_string()]).success();
    // not recursive: refused because of the child
    let out = run(&["rm", &s.name]);
    out.expect_code(1);
    assert!(out.stderr().contains("use -r"), "{}", out.stderr());
    // populated: refused, says so, nothing removed
    let out = run(&["rm", "-r", &s.name]);
    out.expect_code(1);
    assert!(
        out.stderr().contains("still has 1 process"),
        "{}",
        out.stderr()
    );
    assert!(out.stderr().contains(&p.pid().to_string()));
    assert!(dir("memory", &job).is_dir());
    assert!(testkit::is_alive(p.pid()));
    // --kill: empties and removes, in every hierarchy
    run(&["rm", "-r", "--kill", &s.name]).success();
    assert!(
        p.wait_timeout(Duration::from_secs(5)).is_some(),
        "the process survived"
    );
    for c in common::mounted(&["memory", "cpu", "pids", "freezer", "cpuset", "unified"]) {
        assert!(!dir(c, &s.name).exists(), "{c} left behind");
    }
    // removing what is gone is an error that names it
    let out = run(&["rm", &s.name]);
    out.expect_code(1);
    assert!(out.stderr().contains("no cgroup"));
}

#[test]
fn freeze_stops_and_thaw_resumes() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", &s.name]).success();
    let p = sleeper();
    run(&["add", &s.name, &p.pid().to_string()]).success();
    run(&["freeze", &s.name]).success();
    let d = dir("freezer", &s.name);
    // the kernel's view: v1 freezer.state; v2 cgroup.freeze and "frozen 1" in cgroup.events
    let frozen = || {
        if common::v2() {
            read(&d.join("cgroup.freeze")) == "1"
                && read(&d.join("cgroup.events"))
                    .lines()
                    .any(|l| l == "frozen 1")
        } else {
            read(&d.join("freezer.state")) == "FROZEN"
        }
    };
    assert!(frozen(), "not frozen");
    // a frozen task sleeps in the freezer ('D' on v1, or stopped-like)
    assert!(wait_until(Duration::from_secs(2), || matches!(
        state_of(p.pid()),
        'D' | 'T' | 'S'
    )));
    let show = run(&["--json", "show", &s.name]).success();
    assert!(show.contains("\"freezer\": \"FROZEN\""), "{show}");
    run(&["thaw", &s.name]).success();
    if common::v2() {
        assert_eq!(read(&d.join("cgroup.freeze")), "0");
        assert!(read(&d.join("cgroup.events"))
            .lines()
            .any(|l| l == "frozen 0"));
    } else {
        assert_eq!(read(&d.join("freezer.state")), "THAWED");
    }
    let show = run(&["--json", "show", &s.name]).success();
    assert!(show.contains("\"freezer\": \"THAWED\""), "{show}");
    assert!(testkit::is_alive(p.pid()));
}

#[test]
fn freeze_proves_it_stops_work() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", "-c", "freezer,cpuacct", &s.name]).success();
    let child = std::process::Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .unwrap();
    let p = testkit::ProcessGuard::new(child);
    run(&["add", &s.name, &p.pid().to_string()]).success();
    // CPU time used: v1 cpuacct.usage (ns), v2 usage_usec of cpu.stat (in every cgroup)
    let usage = || {
        let d = dir("cpuacct", &s.name);
        if common::v2() {
            read(&d.join("cpu.stat"))
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))
                .and_then(|n| n.parse::<u64>().ok())
                .expect("usage_usec in cpu.stat")
        } else {
            read(&d.join("cpuacct.usage")).parse::<u64>().unwrap()
        }
    };
    run(&["freeze", &s.name]).success();
    let before = usage();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(usage(), before, "a frozen cgroup used CPU");
    run(&["thaw", &s.name]).success();
    std::thread::sleep(Duration::from_millis(300));
    assert!(usage() > before, "a thawed cgroup did not run");
}

#[test]
fn create_many_and_remove_them() {
    testkit::require_root!();
    let s = Scope::new();
    let names: Vec<String> = (0..200).map(|i| s.sub(&format!("g{i}"))).collect();
    let mut args = vec!["create", "-c", "memory,cpuset"];
    args.extend(names.iter().map(String::as_str));
    run(&args).success();
    let parent = dir("cpuset", &s.name);
    assert_eq!(
        std::fs::read_dir(&parent)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_dir())
            .count(),
        200
    );
    if common::v2() {
        // enabled for the children of the parent, not in the children themselves
        let enabled = common::subtree_control(&parent);
        assert!(
            enabled.contains(&"memory".to_string()) && enabled.contains(&"cpuset".to_string()),
            "{enabled:?}"
        );
        assert!(common::subtree_control(&parent.join("g199")).is_empty());
        assert_eq!(
            read(&parent.join("g199/cpuset.mems.effective")),
            read(&parent.join("cpuset.mems.effective"))
        );
    } else {
        assert_eq!(
            read(&parent.join("g199/cpuset.mems")),
            read(&parent.join("cpuset.mems"))
        );
    }
    // creating again is fine (existing cgroups are left as they are)
    run(&["create", "-c", "memory", &names[0]]).success();
    run(&["rm", "-r", "-c", "memory,cpuset", &s.name]).success();
    assert!(!dir("memory", &s.name).exists());
    assert!(!parent.exists());
}

#[test]
fn named_v1_hierarchy_in_a_temporary_directory() {
    testkit::require_root!();
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("h");
    let name = testkit::unique_name("cgctlt").replace('-', "_");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(self.0.join("a/sub"));
            let _ = std::fs::remove_dir(self.0.join("a"));
            let _ = std::fs::remove_dir(self.0.join("b"));
            // cgctl umount also makes sure the kernel destroys the emptied hierarchy.
            let _ = common::cgctl().run(["umount", &self.0.display().to_string()]);
            let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        }
    }
    let printed = common::cgctl()
        .run(["mount", "--name", &name, &mnt.display().to_string()])
        .success();
    let _guard = Unmount(mnt.clone());
    // mount prints the directory it mounted, for scripts to chain
    assert_eq!(printed.trim(), mnt.display().to_string());
    for f in [
        "cgroup.procs",
        "tasks",
        "notify_on_release",
        "release_agent",
        "cgroup.clone_children",
    ] {
        assert!(mnt.join(f).exists(), "{f} missing");
    }
    // mode shows it; it is not one of the default hierarchies, and with no controller
    // it changes nothing about the layout (cgroup_no_v1=all leaves named ones possible)
    let mode = common::cgctl().run(["mode"]).success();
    assert_eq!(
        mode.lines().next(),
        Some(common::layout().to_string().as_str()),
        "{mode}"
    );
    let row = format!("name={name} {}", mnt.display());
    assert!(
        mode.lines()
            .any(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" ") == row),
        "{mode}"
    );
    let a = mnt.join("a");
    let b = mnt.join("b");
    common::cgctl()
        .run([
            "create",
            &a.display().to_string(),
            &b.display().to_string(),
            &a.join("sub").display().to_string(),
        ])
        .success();
    assert!(a.is_dir() && b.is_dir());
    let p = sleeper();
    common::cgctl()
        .run(["add", &a.display().to_string(), &p.pid().to_string()])
        .success();
    assert!(read(&a.join("tasks"))
        .lines()
        .any(|l| l == p.pid().to_string()));
    assert_eq!(cgroup_of_named(p.pid(), &name), "/a");
    let out = common::cgctl().run(["rm", "-r", &a.display().to_string()]);
    out.expect_code(1);
    drop(p);
    common::cgctl()
        .run([
            "rm",
            "-r",
            &a.display().to_string(),
            &b.display().to_string(),
        ])
        .success();
    assert!(!a.exists() && !b.exists());
    common::cgctl()
        .run(["umount", &mnt.display().to_string()])
        .success();
    assert!(!testkit::mount_points().contains(&mnt.display().to_string()));
    // Unmounted and empty, the hierarchy is gone from the kernel, not merely hidden.
    let gone = testkit::wait_until(std::time::Duration::from_secs(2), || {
        !std::fs::read_to_string("/proc/self/cgroup")
            .unwrap()
            .contains(&format!(":name={name}:"))
    });
    assert!(gone, "the hierarchy name={name} lives on after umount");
    // umount refuses what is not a cgroup mount
    let out = common::cgctl().run(["umount", &tmp.path().display().to_string()]);
    out.expect_code(1);
}

fn cgroup_of_named(pid: i32, name: &str) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    text.lines()
        .find_map(|l| {
            l.split_once(&format!(":name={name}:"))
                .map(|(_, p)| p.to_string())
        })
        .unwrap_or_default()
}
