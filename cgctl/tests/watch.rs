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

/// `sh -c 'sleep 300' sh a1 ... a1000`: a command line of 1,000 arguments, killed on drop.
fn long_command() -> testkit::ProcessGuard {
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "sleep 300", "sh"]);
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
        text.contains(&format!("{pid} sh -c sleep 300 sh argument-1 ")),
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
