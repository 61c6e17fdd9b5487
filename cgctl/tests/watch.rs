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
