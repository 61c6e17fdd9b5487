//! Helpers for cgctl's integration tests. Everything a test makes lives below this
//! process's own cgroup, under a unique name that a [`Scope`] removes on drop.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use testkit::{Outcome, Tool};

pub use testkit::CgroupLayout as Layout;
pub use testkit::CgroupScope as Scope;

/// This host's cgroup layout, read from the mounts (not from cgctl).
pub fn layout() -> Layout {
    testkit::cgroup_layout().expect("no cgroup filesystem is mounted")
}

/// Whether the controllers are on cgroup2 only.
pub fn v2() -> bool {
    layout() == Layout::V2
}

/// The name of a file on this layout: `v1` on v1 and hybrid hosts, `v2` on v2.
pub fn file(v1: &'static str, v2_name: &'static str) -> &'static str {
    if v2() {
        v2_name
    } else {
        v1
    }
}

/// The controllers enabled for the children of the v2 cgroup `dir`.
pub fn subtree_control(dir: &Path) -> Vec<String> {
    read(&dir.join("cgroup.subtree_control"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The line of /proc/PID/cgroup text for `controller`'s hierarchy ends with `/name`
/// (on v1 that hierarchy may hold more controllers: `4:cpu,cpuacct:/box`).
pub fn in_cgroup(proc_cgroup: &str, controller: &str, name: &str) -> bool {
    proc_cgroup.lines().any(|l| {
        let mut fields = l.splitn(3, ':');
        let (_, controllers) = (fields.next(), fields.next().unwrap_or(""));
        let mine = if v2() {
            l.starts_with("0::")
        } else {
            controllers.split(',').any(|c| c == controller)
        };
        mine && l.ends_with(&format!("/{name}"))
    })
}

pub fn cgctl() -> Tool {
    // Before cgctl runs: on v2, out of the cgroup `--root self` names (testkit).
    testkit::cgroup_home();
    Tool::new(env!("CARGO_BIN_EXE_cgctl"))
}

/// Runs cgctl with `--root self` and `args`.
pub fn run(args: &[&str]) -> Outcome {
    let mut all = vec!["--root", "self"];
    all.extend_from_slice(args);
    cgctl().run(all)
}

/// The mount point of the hierarchy holding `controller` ("unified" for cgroup2).
pub fn mount_of(controller: &str) -> PathBuf {
    testkit::cgroup_mount_of(controller)
        .unwrap_or_else(|| panic!("no hierarchy has {controller}"))
        .mount_point
}

/// Those of `controllers` whose hierarchy this host mounts ("unified": cgroup2, which a
/// v1-only host has not).
pub fn mounted<'a>(controllers: &[&'a str]) -> Vec<&'a str> {
    controllers
        .iter()
        .copied()
        .filter(|c| testkit::cgroup_mount_of(c).is_some())
        .collect()
}

/// The cgroup path the tests make theirs below in the hierarchy holding `controller`:
/// this process's own, or on v2 the one it was in before testkit moved it into a leaf
/// (`testkit::cgroup_home`). `--root self` names it too: the same cgroup, or on a
/// systemd host the delegated scope the tests run in.
pub fn own_path(controller: &str) -> String {
    testkit::own_cgroup(&mount_of(controller))
        .unwrap_or_else(|| panic!("this process has no cgroup in the {controller} hierarchy"))
}

/// The directory of `name` below this process's cgroup in `controller`'s hierarchy.
pub fn dir(controller: &str, name: &str) -> PathBuf {
    mount_of(controller)
        .join(own_path(controller).trim_start_matches('/'))
        .join(name)
}

/// The cgroup path of PID in `controller`'s hierarchy, from /proc/PID/cgroup.
pub fn cgroup_of(pid: i32, controller: &str) -> String {
    testkit::cgroup_of(pid, controller)
        .unwrap_or_else(|| panic!("PID {pid} has no cgroup in the {controller} hierarchy"))
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .trim()
        .to_string()
}

/// A `sleep` child, killed and reaped on drop.
pub fn sleeper() -> testkit::ProcessGuard {
    testkit::cgroup_home();
    let child = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .expect("spawn sleep");
    testkit::ProcessGuard::new(child)
}
