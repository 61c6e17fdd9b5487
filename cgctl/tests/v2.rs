//! What only cgroup v2 has, on a v2-only host (the VM lane, `.ci/vm-cgroup2`): the
//! layout as the kernel shows it, controllers enabled along the path and never in the
//! leaf, the "no internal processes" rule explained, the memory limit that refuses to
//! go below usage, and `cgroup.kill`. Elsewhere these tests are skipped with a note.

mod common;

use std::time::Duration;

use common::{dir, read, run, sleeper, subtree_control, Layout, Scope};
use testkit::{wait_until, ProcessGuard};

fn only_v2(what: &str) -> bool {
    testkit::cgroup_layout_is(&[Layout::V2], what)
}

#[test]
fn mode_says_v2_as_the_kernel_does() {
    if !only_v2("cgctl mode on a v2-only host") {
        return;
    }
    use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};
    let fs = statfs("/sys/fs/cgroup").unwrap();
    assert_eq!(fs.filesystem_type(), CGROUP2_SUPER_MAGIC);
    let out = common::cgctl().run(["mode"]).success();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("v2"), "{out}");
    // the cgroup2 hierarchy with the controllers its root offers
    let controllers = read(std::path::Path::new("/sys/fs/cgroup/cgroup.controllers"));
    let unified = lines
        .find(|l| l.starts_with("unified "))
        .unwrap_or_else(|| panic!("no unified line: {out}"));
    let fields: Vec<&str> = unified.split_whitespace().collect();
    assert_eq!(fields[1], "/sys/fs/cgroup", "{out}");
    for c in controllers.split_whitespace() {
        assert!(fields[2].contains(c), "{c} missing: {out}");
    }
    // no v1 controller hierarchy is left to find
    assert!(
        !lines.any(|l| l.starts_with("memory ") || l.starts_with("cpu ")),
        "{out}"
    );
}

#[test]
fn controllers_are_enabled_along_the_path_never_in_the_leaf() {
    testkit::require_root!();
    if !only_v2("cgroup.subtree_control is v2's") {
        return;
    }
    let s = Scope::new();
    let leaf = s.sub("a/b/c");
    run(&["create", "-c", "memory,pids,cpu", &leaf]).success();
    let c = dir("memory", &leaf);
    let b = c.parent().unwrap();
    let a = b.parent().unwrap();
    let top = a.parent().unwrap();
    let own = top.parent().unwrap();
    for d in [own, top, a, b] {
        let enabled = subtree_control(d);
        for want in ["memory", "pids", "cpu"] {
            assert!(
                enabled.iter().any(|e| e == want),
                "{want} not enabled in {}: {enabled:?}",
                d.display()
            );
        }
    }
    assert!(subtree_control(&c).is_empty(), "enabled in the leaf");
    // the leaf has the controllers' files, so limits can be set there
    for f in ["memory.max", "pids.max", "cpu.max"] {
        assert!(c.join(f).exists(), "{f} missing in the leaf");
    }
    // again, and with more: only what is missing is added, nothing else changes
    run(&["create", "-c", "memory,pids,cpu,io", &leaf]).success();
    assert!(subtree_control(b).contains(&"io".to_string()));
    assert!(subtree_control(&c).is_empty(), "enabled in the leaf");
    // what v1 had as controllers of their own is built into every v2 cgroup:
    // accepted, and nothing to enable
    let x = s.sub("x");
    run(&["create", "-c", "freezer,cpuacct", &x]).success();
    assert!(dir("pids", &x).join("cgroup.freeze").exists());
    assert!(dir("pids", &x).join("cpu.stat").exists());
    // a name no kernel has is refused before anything is made
    let out = run(&["create", "-c", "nosuchcontroller", &s.sub("y")]);
    out.expect_code(1);
    assert!(
        out.stderr()
            .contains("no mounted hierarchy has the nosuchcontroller controller"),
        "{}",
        out.stderr()
    );
    assert!(!dir("pids", &s.sub("y")).exists());
}

#[test]
fn no_internal_processes_is_explained() {
    testkit::require_root!();
    if !only_v2("the no-internal-processes rule is v2's") {
        return;
    }
    let s = Scope::new();
    let p = sleeper();
    let pid = p.pid().to_string();

    // a cgroup with a process cannot get controllers for children
    let busy = s.sub("busy");
    run(&["create", &busy]).success();
    run(&["add", &busy, &pid]).success();
    let child = s.sub("busy/child");
    let out = run(&["create", "-c", "memory", &child]);
    out.expect_code(1);
    let err = out.stderr();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("no internal processes"), "{err}");
    assert!(
        err.contains(&dir("memory", &busy).display().to_string()),
        "{err}"
    );
    assert!(err.contains("cgctl add"), "{err}");
    // all or nothing: the child made before the refusal is gone again
    assert!(
        !dir("memory", &child).exists(),
        "a refused create left a cgroup"
    );
    assert!(subtree_control(&dir("memory", &busy)).is_empty());
    // limit on a child of it: the same
    let out = run(&["limit", "mem", "100M", &pid, "--cgroup", &child]);
    out.expect_code(1);
    assert!(
        out.stderr().contains("no internal processes"),
        "{}",
        out.stderr()
    );
    assert!(common::cgroup_of(p.pid(), "memory").ends_with(&format!("/{busy}")));

    // a cgroup with controllers enabled for its children cannot take a process
    let full = s.sub("full");
    run(&["create", "-c", "memory", &s.sub("full/leaf")]).success();
    assert_eq!(subtree_control(&dir("memory", &full)), ["memory"]);
    let out = run(&["add", &full, &pid]);
    out.expect_code(1);
    let err = out.stderr();
    assert!(err.contains("no internal processes"), "{err}");
    assert!(
        err.contains(&format!("{full}/leaf")) || err.contains("GROUP/leaf"),
        "{err}"
    );
    assert!(
        common::cgroup_of(p.pid(), "memory").ends_with(&format!("/{busy}")),
        "the process moved anyway"
    );
    // into the leaf, it goes
    run(&["add", &s.sub("full/leaf"), &pid]).success();
    assert!(common::cgroup_of(p.pid(), "memory").ends_with(&format!("/{full}/leaf")));
}

#[test]
fn threads_move_inside_a_threaded_subtree() {
    testkit::require_root!();
    if !only_v2("cgroup.type and cgroup.threads are v2's") {
        return;
    }
    let s = Scope::new();
    // between two domain cgroups a single thread cannot move: said so
    let (d1, d2) = (s.sub("domains/d1"), s.sub("domains/d2"));
    run(&["create", &d1, &d2]).success();
    let p = sleeper();
    let pid = p.pid().to_string();
    run(&["add", &d1, &pid]).success();
    let out = run(&["add", "--threads", &d2, &pid]);
    out.expect_code(1);
    assert!(
        out.stderr().contains("threaded subtree"),
        "{}",
        out.stderr()
    );
    assert!(common::cgroup_of(p.pid(), "pids").ends_with(&format!("/{d1}")));

    // inside a threaded subtree it can. pids is a threaded controller: enabled above,
    // the children may still become threaded (before a process makes them domains)
    let (t1, t2) = (s.sub("threaded/t1"), s.sub("threaded/t2"));
    run(&["create", "-c", "pids", &t1, &t2]).success();
    for g in [&t1, &t2] {
        std::fs::write(dir("pids", g).join("cgroup.type"), "threaded").unwrap();
    }
    assert_eq!(
        read(&dir("pids", &s.sub("threaded")).join("cgroup.type")),
        "domain threaded"
    );
    let p = sleeper();
    let pid = p.pid().to_string();
    run(&["add", &t1, &pid]).success();
    run(&["add", "--threads", &t2, &pid]).success();
    assert!(read(&dir("pids", &t2).join("cgroup.threads"))
        .lines()
        .any(|l| l == pid));
    assert!(!read(&dir("pids", &t1).join("cgroup.threads"))
        .lines()
        .any(|l| l == pid));
}

#[test]
fn a_second_cgroup2_mount_is_the_same_hierarchy() {
    testkit::require_root!();
    if !testkit::cgroup_layout_is(
        &[Layout::Hybrid, Layout::V2],
        "mounts cgroup2 a second time",
    ) {
        return;
    }
    let s = Scope::new();
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("cg2");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        }
    }
    common::cgctl()
        .run(["mount", "--v2", &mnt.display().to_string()])
        .success();
    let guard = Unmount(mnt.clone());
    let own = common::own_path("unified");
    let through = mnt.join(own.trim_start_matches('/')).join(s.sub("b"));
    common::cgctl()
        .run(["create", &through.display().to_string()])
        .success();
    // made through the second mount, there in the first one
    assert!(dir("unified", &s.sub("b")).is_dir());
    // unmounted with cgroups in it: cgroup2 is not left hidden (it is still mounted)
    let out = common::cgctl().run(["umount", &mnt.display().to_string()]);
    out.expect_code(0);
    assert!(
        !out.stderr().contains("lives on"),
        "a note about a hidden hierarchy: {}",
        out.stderr()
    );
    assert!(!testkit::mount_points().contains(&mnt.display().to_string()));
    assert!(dir("unified", &s.sub("b")).is_dir());
    drop(guard);
}

/// Waits for `memory.current` of `d` to pass `bytes`.
fn wait_for_usage(d: &std::path::Path, bytes: u64) -> u64 {
    // (the controller is enabled a moment after the cgroup is made)
    let usage = || {
        std::fs::read_to_string(d.join("memory.current"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    // the guest CPU of the VM lane is slow: be patient
    assert!(
        wait_until(Duration::from_secs(60), || usage() > bytes),
        "memory.current of {} stayed at {}",
        d.display(),
        usage()
    );
    usage()
}

#[test]
fn memory_max_below_usage_needs_force() {
    testkit::require_root!();
    if !only_v2("memory.max and its below-usage guard are v2's") {
        return;
    }
    testkit::require_program!("stress-ng");
    let s = Scope::new();
    let hog = s.sub("hog");
    // stress-ng insists on a writable --temp-path (default: the working directory)
    let tmp = tempfile::tempdir().unwrap();
    // 40 MiB, kept until killed
    let child = common::cgctl()
        .command([
            "--root",
            "self",
            "exec",
            "-l",
            "swap=0",
            &hog,
            "--",
            "stress-ng",
            "--temp-path",
            &tmp.path().display().to_string(),
            "--vm",
            "1",
            "--vm-bytes",
            "40M",
            "--vm-hang",
            "0",
            "--timeout",
            "300s",
            "--quiet",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _hog = ProcessGuard::new(child);
    let d = dir("memory", &hog);
    assert!(wait_until(Duration::from_secs(10), || d.is_dir()));
    let used = wait_for_usage(&d, 32 << 20);

    // below usage: refused, nothing written, the processes live on
    let out = run(&["limit", "mem", "16M", &hog]);
    out.expect_code(1);
    let err = out.stderr();
    assert!(err.contains("memory.current is"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(read(&d.join("memory.max")), "max");
    assert!(read(&d.join("memory.current")).parse::<u64>().unwrap() > 16 << 20);
    // above usage: fine
    run(&["limit", "mem", "1G", &hog]).success();
    assert_eq!(read(&d.join("memory.max")), "1073741824");
    // --force: written; the kernel gets below it by reclaim or by OOM kills
    let out = run(&["limit", "--force", "mem", "16M", &hog]);
    out.success();
    assert_eq!(read(&d.join("memory.max")), "16777216");
    let now: u64 = read(&d.join("memory.current")).parse().unwrap();
    assert!(
        now <= 16 << 20,
        "memory.current {now} above memory.max (was {used})"
    );
    // reclaimed (swap) or OOM-killed (no swap: the kernel's write of memory.max kills)
    let events = read(&d.join("memory.events"));
    assert!(
        events
            .lines()
            .any(|l| (l.starts_with("max ") || l.starts_with("oom_kill ")) && !l.ends_with(" 0")),
        "{events}"
    );
    // cgroup.kill ends the stressor and its workers
    run(&["rm", "-r", "--kill", &s.name]).success();
    assert!(!d.exists());
}

#[test]
fn rm_kill_uses_cgroup_kill_even_when_frozen() {
    testkit::require_root!();
    if !only_v2("cgroup.kill is v2's") {
        return;
    }
    testkit::require_program!("strace");
    let s = Scope::new();
    let job = s.sub("job");
    run(&["create", &s.sub("job/inner")]).success();
    let mut a = sleeper();
    let mut b = sleeper();
    run(&["add", &job, &a.pid().to_string()]).success();
    run(&["add", &s.sub("job/inner"), &b.pid().to_string()]).success();
    // frozen, nested: the child cgroup is frozen with its parent
    run(&["freeze", &job]).success();
    let inner = dir("pids", &s.sub("job/inner"));
    assert!(read(&inner.join("cgroup.events"))
        .lines()
        .any(|l| l == "frozen 1"));
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("trace");
    let top = dir("pids", &s.name);
    let out = testkit::Outcome::of(
        std::process::Command::new("strace")
            .arg("-f")
            .arg("-e")
            .arg("trace=openat,openat2,write,kill")
            .arg("-o")
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_cgctl"))
            .args(["rm", "-r", "--kill"])
            .arg(&top),
    );
    out.expect_code(0);
    let text = std::fs::read_to_string(&trace).unwrap();
    // cgroup.kill is opened by path, or relative to the top cgroup's directory
    let kill_file = top.join("cgroup.kill").display().to_string();
    let top_opened = format!("\"{}\"", top.display());
    let relative = text
        .lines()
        .any(|l| l.contains(&top_opened) && l.contains("O_PATH"))
        && text
            .lines()
            .any(|l| l.contains("openat2(") && l.contains("\"cgroup.kill\""));
    assert!(
        relative || text.lines().any(|l| l.contains(&kill_file)),
        "cgroup.kill of {} was not used:\n{text}",
        top.display()
    );
    assert!(
        !text
            .lines()
            .any(|l| l.contains("kill(") && l.contains("SIGKILL")),
        "fell back to kill(2):\n{text}"
    );
    assert!(
        a.wait_timeout(Duration::from_secs(10)).is_some(),
        "survived"
    );
    assert!(
        b.wait_timeout(Duration::from_secs(10)).is_some(),
        "survived"
    );
    assert!(!top.exists());
}
