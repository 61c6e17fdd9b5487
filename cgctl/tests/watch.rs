//! Watching limits at work: `show` of a PID (root cgroups not taken for the process's)
//! and pressure figures.

mod common;

use common::{run, sleeper, Layout, Scope};
use serde_json::Value;

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not one JSON document ({e}): {out}"))
}

#[test]
fn show_pid_marks_root_cgroups_and_leaves_their_figures_out() {
    testkit::require_root!();
    let s = Scope::new();
    let p = sleeper();
    let pid = p.pid().to_string();
    let v = json(&run(&["--json", "show", &pid]).success());
    // every hierarchy the process is in, each marked root or not as the kernel says
    for place in v["cgroups"].as_array().unwrap() {
        let path = place["path"].as_str().unwrap();
        assert_eq!(place["root"], path == "/", "{place}");
    }
    let pids_path = common::cgroup_of(p.pid(), "pids");
    let left_out: Vec<&str> = v["root_left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    if pids_path == "/" {
        assert!(
            v["pids"].is_null(),
            "the host's pids shown as the process's: {v}"
        );
        assert!(left_out.contains(&"pids"), "{v}");
        let text = run(&["show", &pid]).success();
        assert!(text.contains("the root cgroup"), "{text}");
        assert!(text.contains("whole host"), "{text}");
    } else {
        assert!(v["pids"]["current"].is_u64(), "{v}");
    }
    // moved into a cgroup of its own, its own figures are there
    run(&["limit", "pids", "50", &pid, "--cgroup", &s.name]).success();
    let v = json(&run(&["--json", "show", &pid]).success());
    assert_eq!(v["pids"]["max"], 50, "{v}");
    assert_eq!(v["pids"]["current"], 1, "{v}");
    assert!(
        !v["root_left_out"]
            .as_array()
            .unwrap()
            .contains(&Value::from("pids")),
        "{v}"
    );
}

#[test]
fn show_has_pressure_where_cgroup2_has_psi() {
    testkit::require_root!();
    let s = Scope::new();
    let layout = common::layout();
    if layout == Layout::V1 {
        run(&["create", "-q", &s.name]).success();
        let v = json(&run(&["--json", "show", &s.name]).success());
        assert!(v["pressure"].is_null(), "{v}");
        assert!(
            v["pressure_unavailable"]
                .as_str()
                .unwrap()
                .contains("cgroup2"),
            "{v}"
        );
        return;
    }
    // on a hybrid host the cgroup must be in the cgroup2 hierarchy too
    run(&["create", "-q", &s.name]).success();
    let unified = common::dir("unified", &s.name);
    let v = json(&run(&["--json", "show", &s.name]).success());
    if !unified.join("memory.pressure").exists() {
        // the kernel has no PSI: the report says why
        let why = v["pressure_unavailable"].as_str().unwrap();
        assert!(why.contains("PSI"), "{v}");
        return;
    }
    for res in ["memory", "cpu", "io"] {
        let some = &v["pressure"][res]["some"];
        assert!(some["avg10"].is_f64(), "{res}: {v}");
        assert!(some["total"].is_u64(), "{res}: {v}");
    }
    let text = run(&["show", &s.name]).success();
    assert!(text.contains("pressure"), "{text}");
    assert!(text.contains("memory   some "), "{text}");
}

/// `sh -c 'read -r _' sh a1 ... a1000`: a command line of 1,000 arguments, killed on
/// drop. It waits on its stdin, a pipe the guard holds open, rather than in a `sleep`
/// child, which would outlive it (dash forks it) and keep the test's stdout open.
fn long_command() -> testkit::ProcessGuard {
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "read -r _", "sh"])
        .stdin(std::process::Stdio::piped());
    cmd.args((1..=1000).map(|i| format!("argument-{i}")));
    testkit::ProcessGuard::new(cmd.spawn().expect("spawn sh"))
}

/// cgctl --root self ARGS with COLUMNS=width (stdout is a pipe, not a terminal).
fn run_width(width: usize, args: &[&str]) -> testkit::Outcome {
    let mut all = vec!["--root", "self"];
    all.extend_from_slice(args);
    let mut cmd = common::cgctl().command(all);
    cmd.env("COLUMNS", width.to_string());
    testkit::Outcome::of(&mut cmd)
}

#[test]
fn tree_cuts_command_lines_to_the_width() {
    testkit::require_root!();
    let s = Scope::new();
    let g = s.sub("deep/er");
    run(&["create", "-q", "-c", "pids", &g]).success();
    let p = long_command();
    let pid = p.pid().to_string();
    run(&["add", "-q", "-c", "pids", &g, &pid]).success();
    let text = run_width(70, &["tree", "-c", "pids", &s.name]).success();
    assert!(
        text.contains(&format!("{pid} sh -c read -r _ sh argument-1 ")),
        "{text}"
    );
    for line in text.lines() {
        assert!(
            line.chars().count() <= 70,
            "{} chars: {line}",
            line.chars().count()
        );
    }
    assert!(text.lines().count() < 10, "{text}");
    // --full keeps the whole command line
    let full = run_width(70, &["tree", "--full", "-c", "pids", &s.name]).success();
    assert!(full.contains("argument-1000"), "cut with --full");
    // JSON keeps it whole too
    let v = json(&run_width(70, &["tree", "--json", "-c", "pids", &s.name]).success());
    let er = &v["cgroups"][0]["children"][0]["children"][0];
    assert!(
        er["children"][0]["name"]
            .as_str()
            .unwrap()
            .ends_with("argument-1000"),
        "{er}"
    );
    // --depth and --no-procs
    let top = run(&["tree", "--depth", "1", "-c", "pids", &s.name]).success();
    assert!(top.contains("deep") && !top.contains("er\n"), "{top}");
    assert!(!top.contains(&pid), "{top}");
    let bare = run(&["tree", "--no-procs", "-c", "pids", &s.name]).success();
    assert!(bare.contains("└─er") && !bare.contains(&pid), "{bare}");
}

#[test]
fn tree_hides_kernel_threads_unless_asked() {
    testkit::require_root!();
    // kthreadd (PID 2) sits in the root cgroup of every hierarchy
    let plain = common::cgctl()
        .run(["tree", "-c", "pids", "--depth", "0"])
        .success();
    assert!(!plain.contains("[kthreadd]"), "{plain}");
    let all = common::cgctl()
        .run(["tree", "-c", "pids", "--depth", "0", "--kernel"])
        .success();
    assert!(all.contains("2 [kthreadd]"), "{all}");
}

/// `cgctl --root self ARGS` started, stdout piped, killed and reaped on drop.
fn start(args: &[&str]) -> testkit::ProcessGuard {
    let mut all = vec!["--root", "self"];
    all.extend_from_slice(args);
    let mut cmd = common::cgctl().command(all);
    cmd.stdout(std::process::Stdio::piped());
    testkit::ProcessGuard::new(cmd.spawn().expect("spawn cgctl"))
}

/// Waits until `name` (below this test's cgroup) has a process in `controller`'s
/// hierarchy: `cgctl exec`, started in the background, has moved itself in. Under
/// emulation (the VM lanes) that takes well over a second.
fn wait_populated(controller: &str, name: &str) {
    let procs = common::dir(controller, name).join("cgroup.procs");
    let populated = || std::fs::read_to_string(&procs).is_ok_and(|p| !p.trim().is_empty());
    assert!(
        testkit::wait_until(std::time::Duration::from_secs(30), populated),
        "{} stayed empty",
        procs.display()
    );
}

/// Waits until process `pid` holds an eventfd or an inotify descriptor.
fn wait_for_notifier(pid: i32) {
    let has_one = || {
        std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
            fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|l| {
                    let l = l.to_string_lossy();
                    l.contains("[eventfd]") || l.contains("inotify")
                })
            })
        })
    };
    assert!(
        testkit::wait_until(std::time::Duration::from_secs(30), has_one),
        "PID {pid} made no eventfd or inotify descriptor"
    );
}

/// The memory limit of 100 MiB (and no swap on v2, where swap is apart) for stress-ng.
fn limit_args() -> Vec<&'static str> {
    let mut args = vec!["-l", "mem=100M"];
    if common::v2() {
        args.extend(["-l", "swap=0"]);
    }
    args
}

/// stress-ng asking twice the limit for 4 s inside `name`.
fn stress(name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path().display().to_string();
    let mut args = vec!["exec"];
    args.extend(limit_args());
    args.extend([
        name,
        "--",
        "stress-ng",
        "--temp-path",
        &tmp,
        "--vm",
        "1",
        "--vm-bytes",
        "200M",
        "--vm-keep",
        "--timeout",
        "4s",
        "--quiet",
    ]);
    // stress-ng's workers are OOM-killed and restarted; its exit status varies
    let _ = run(&args).code();
}

#[test]
fn events_follow_and_wait_oom_see_the_oom_killer() {
    testkit::require_root!();
    testkit::require_program!("stress-ng");
    let s = Scope::new();
    // the cgroup with its limit first, so that events and wait can watch it
    let mut args = vec!["exec"];
    args.extend(limit_args());
    args.extend([s.name.as_str(), "--", "true"]);
    run(&args).success();
    let snap = json(&run(&["events", "--json", &s.name]).success());
    let kills_before = snap["cgroups"][0]["oom_kill"].as_u64().unwrap_or(0);
    let mut follower = start(&["events", "--follow", "--json", &s.name]);
    let mut waiter = start(&["wait", "--oom", "--timeout", "60", &s.name]);
    // both have registered with the kernel once they hold their eventfd (v1) or
    // inotify (v2) descriptor, which takes seconds under emulation; then a moment more
    for p in [&follower, &waiter] {
        wait_for_notifier(p.pid());
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let stdout = follower.child().stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    stress(&s.name);
    // each line is one JSON object, flushed as it happened
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = Vec::new();
    let kill = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            panic!("no oom_kill event; saw: {seen:?}");
        };
        let ev = json(&line);
        if ev["event"] == "oom_kill" {
            break ev;
        }
        seen.push(line);
    };
    assert!(kill["count"].as_u64().unwrap() >= 1, "{kill}");
    assert!(kill["time"].is_f64(), "{kill}");
    assert!(
        kill["cgroup"].as_str().unwrap().ends_with(&s.name),
        "{kill}"
    );
    let status = waiter.child().wait().unwrap();
    assert_eq!(status.code(), Some(0), "wait --oom did not return 0");
    let snap = json(&run(&["events", "--json", &s.name]).success());
    assert!(
        snap["cgroups"][0]["oom_kill"].as_u64().unwrap() > kills_before,
        "{snap}"
    );
}

#[test]
fn wait_empty_returns_when_the_last_process_exits() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", "-q", &s.name]).success();
    // already empty: at once
    run(&["wait", "--empty", &s.name, "--timeout", "5"]).success();
    // long enough for two cgctl runs under emulation before it ends
    let _inside = start(&["exec", "-c", "memory", &s.name, "--", "sleep", "3"]);
    wait_populated("memory", &s.name);
    // still there after the timeout: exit 1
    let out = run(&["wait", "--empty", &s.name, "--timeout", "0.2"]);
    out.expect_code(1);
    assert!(out.stderr().contains("timed out"), "{}", out.stderr());
    let t = std::time::Instant::now();
    run(&["wait", "--empty", &s.name, "--timeout", "10"]).success();
    let took = t.elapsed();
    assert!(
        took > std::time::Duration::from_millis(300) && took < std::time::Duration::from_secs(5),
        "{took:?}"
    );
    // removing the cgroup is no OOM (v1's eventfd fires then too): wait --oom fails
    let mut waiter = start(&["wait", "--oom", "--timeout", "20", &s.name]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    run(&["rm", "-q", &s.name]).success();
    let status = waiter.child().wait().unwrap();
    assert_eq!(status.code(), Some(1), "wait --oom on a removed cgroup");
}

/// The CPU time the cgroup `name` (below this test's) has used, in seconds.
fn cpu_used(name: &str) -> f64 {
    if common::v2() {
        let stat = common::read(&common::dir("cpu", name).join("cpu.stat"));
        let us: f64 = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .unwrap()
            .parse()
            .unwrap();
        us / 1e6
    } else {
        let ns: f64 = common::read(&common::dir("cpuacct", name).join("cpuacct.usage"))
            .parse()
            .unwrap();
        ns / 1e9
    }
}

#[test]
fn top_json_shows_memory_at_most_the_limit_and_the_cpu_used() {
    testkit::require_root!();
    testkit::require_program!("stress-ng");
    let s = Scope::new();
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path().display().to_string();
    // memory for the limit, cpuacct for the CPU time: figures from two hierarchies
    let mut args = vec!["exec"];
    args.extend(limit_args());
    args.extend([
        "-c",
        "cpuacct",
        &s.name,
        "--",
        "stress-ng",
        "--temp-path",
        &tmp,
        "--vm",
        "1",
        "--vm-bytes",
        "200M",
        "--vm-keep",
        "--timeout",
        "8s",
        "--quiet",
    ]);
    let _stress = start(&args);
    wait_populated("memory", &s.name);
    wait_populated("cpuacct", &s.name);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let used_before = cpu_used(&s.name);
    let out = run(&["top", "-n", "2", "-d", "1", "--json", &s.name]).success();
    let used = cpu_used(&s.name) - used_before;
    let docs: Vec<Value> = out.lines().map(json).collect();
    assert_eq!(docs.len(), 2, "one document per iteration: {out}");
    for doc in &docs {
        assert!(doc["time"].is_f64(), "{doc}");
        let row = doc["cgroups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(&s.name))
            .unwrap_or_else(|| panic!("no row for {}: {doc}", s.name));
        assert_eq!(row["memory_limit"], 104_857_600u64, "{row}");
        let mem = row["memory_current"].as_u64().unwrap();
        assert!(mem > 0 && mem <= 104_857_600, "memory {mem}: {row}");
        assert!(row["memory_peak"].as_u64().unwrap() <= 104_857_600, "{row}");
        assert!(row["processes"].as_u64().unwrap() >= 1, "{row}");
        // over its 1 s interval, the cgroup cannot have used more than it used in all
        let cpu = row["cpu_percent"].as_f64().unwrap();
        assert!(
            cpu >= 0.0 && cpu / 100.0 <= used * 1.1 + 0.05,
            "cpu {cpu}% but used {used} s"
        );
    }
    let text = run(&["top", "-n", "1", "-d", "0.2", &s.name]).success();
    assert!(
        text.starts_with("PROCS") && text.contains(&s.name),
        "{text}"
    );
}
