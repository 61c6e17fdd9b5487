//! Targets are held, not named: a process that exits between cgctl's lookup and its
//! write (and whose PID is reused meanwhile) is never written, neither into the new
//! cgroup nor, on rollback, back into the old one. PID 1, kernel threads and cgctl's
//! own ancestors need --force; a zombie is an error.
//!
//! The races are made deterministic with cgctl's debug-build hooks (src/hook.rs), and
//! PIDs are reused inside a private PID namespace (`ns_last_pid`), never on the host.

mod common;

use std::path::Path;

use common::{cgroup_of, dir, read, run, sleeper, Scope};

/// Runs `script` with bash in a new PID and mount namespace (its own /proc), with
/// `$CG` the cgctl binary and `$D` a scratch directory; returns what it left in `$D`.
fn in_pid_namespace(script: &str, d: &Path) {
    let status = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "bash", "-c", script])
        .env("CG", env!("CARGO_BIN_EXE_cgctl"))
        .env("D", d)
        .status()
        .expect("run unshare");
    assert!(status.success(), "the script failed: {status}");
}

/// Kills `$t` at cgctl's pause, reaps it and starts `$n`, a new process with its PID.
const REUSE: &str = r#"
while [ ! -e "$D/paused" ]; do sleep 0.01; done
kill -9 "$t"; wait "$t" 2>/dev/null
echo $((t - 1)) > /proc/sys/kernel/ns_last_pid
sleep 300 & n=$!
echo "$t $n" > "$D/pids"
cat "/proc/$n/cgroup" > "$D/before"
touch "$D/resume"
wait "$c"; echo $? > "$D/rc"
cat "/proc/$n/cgroup" > "$D/after"
kill -9 "$n"
"#;

fn same_pid_reused(d: &Path) {
    let pids = read(&d.join("pids"));
    let (t, n) = pids.split_once(' ').unwrap();
    assert_eq!(t, n, "the PID was not reused");
}

#[test]
fn a_pid_replaced_before_the_write_is_not_moved() {
    testkit::require_root!();
    testkit::require_program!("unshare");
    testkit::require_program!("bash");
    let s = Scope::new();
    let g = s.sub("g");
    run(&["create", &g]).success();
    let d = tempfile::tempdir().unwrap();
    let script = format!(
        r#"sleep 300 & t=$!
CGCTL_TEST_PAUSE=move:$D "$CG" --root self add {g} "$t" 2>"$D/err" & c=$!
{REUSE}"#
    );
    in_pid_namespace(&script, d.path());
    same_pid_reused(d.path());
    assert_eq!(read(&d.path().join("rc")), "1");
    let err = read(&d.path().join("err"));
    assert!(err.contains("exited after it was looked up"), "{err}");
    assert_eq!(
        read(&d.path().join("before")),
        read(&d.path().join("after"))
    );
    assert_eq!(read(&dir("pids", &g).join("cgroup.procs")), "");
}

#[test]
fn a_pid_replaced_before_the_rollback_is_not_moved_back() {
    testkit::require_root!();
    testkit::require_program!("unshare");
    testkit::require_program!("bash");
    let s = Scope::new();
    let (a, g) = (s.sub("a"), s.sub("g"));
    run(&["create", &a, &g]).success();
    let d = tempfile::tempdir().unwrap();
    // $t starts in a; the add to g fails after the move, and the rollback would move
    // $t back into a: by then $t is gone and $n has its PID.
    let script = format!(
        r#"sleep 300 & t=$!
"$CG" --root self add {a} "$t" || exit 1
CGCTL_TEST_FAIL=moved CGCTL_TEST_PAUSE=rollback:$D "$CG" --root self add {g} "$t" 2>"$D/err" & c=$!
{REUSE}"#
    );
    in_pid_namespace(&script, d.path());
    same_pid_reused(d.path());
    assert_eq!(read(&d.path().join("rc")), "1");
    let err = read(&d.path().join("err"));
    assert!(err.contains("injected failure"), "{err}");
    assert!(err.contains("back: PID"), "{err}");
    assert!(err.contains("exited after it was looked up"), "{err}");
    assert_eq!(
        read(&d.path().join("before")),
        read(&d.path().join("after"))
    );
    assert_eq!(read(&dir("pids", &a).join("cgroup.procs")), "");
}

#[test]
fn limit_on_a_pid_that_exits_before_the_write_leaves_nothing() {
    testkit::require_root!();
    let s = Scope::new();
    let g = s.sub("g");
    let mut p = sleeper();
    let pid = p.pid();
    let d = tempfile::tempdir().unwrap();
    let child = common::cgctl()
        .command([
            "--root",
            "self",
            "limit",
            "pids",
            "50",
            &pid.to_string(),
            "--cgroup",
            &g,
        ])
        .env("CGCTL_TEST_PAUSE", format!("move:{}", d.path().display()))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while !d.path().join("paused").exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    p.child().kill().unwrap();
    p.child().wait().unwrap();
    std::fs::write(d.path().join("resume"), b"").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exited after it was looked up"), "{err}");
    assert!(!dir("pids", &g).exists(), "the cgroup was left behind");
}

#[test]
fn init_kernel_threads_and_ancestors_need_force() {
    testkit::require_root!();
    let s = Scope::new();
    let g = s.sub("g");
    run(&["create", &g]).success();
    let parent = std::process::id().to_string();
    let before = cgroup_of(std::process::id() as i32, "pids");
    // Only the refusal is checked: nothing here is moved.
    let mut targets = vec![parent.as_str()];
    let kthreadd = std::fs::read_to_string("/proc/2/comm").is_ok_and(|c| c.trim() == "kthreadd");
    if kthreadd {
        targets.push("2");
    }
    for t in targets {
        let out = run(&["add", &g, t]);
        out.expect_code(2);
        assert!(out.stderr().contains("add --force"), "{}", out.stderr());
        let out = run(&["limit", "pids", "50", t, "--cgroup", &g]);
        out.expect_code(2);
    }
    let out = run(&["add", &g, "1"]);
    out.expect_code(2);
    assert!(out.stderr().contains("it is init"), "{}", out.stderr());
    assert_eq!(cgroup_of(std::process::id() as i32, "pids"), before);
    assert_eq!(read(&dir("pids", &g).join("cgroup.procs")), "");
}

#[test]
fn a_zombie_is_an_error_and_nothing_is_created() {
    testkit::require_root!();
    let s = Scope::new();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id() as i32;
    let stat = format!("/proc/{pid}/stat");
    while !std::fs::read_to_string(&stat).is_ok_and(|s| s.contains(") Z ")) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let g = s.sub("z");
    let out = run(&["limit", "pids", "50", &pid.to_string(), "--cgroup", &g]);
    out.expect_code(1);
    assert!(out.stderr().contains("zombie"), "{}", out.stderr());
    assert!(!dir("pids", &g).exists());
    child.wait().unwrap();
}
