//! Fault injection (issue 16): `cgctl limit` (into a new cgroup, into an existing one,
//! on a cgroup TARGET), `cgctl add` and `cgctl exec -l mem=...`, run once for each call
//! N of each system call that creates or records something, with that call failing,
//! and once killed (SIGKILL) at it, under `strace -e inject=...`. After each run: cgctl
//! did not panic; it fully succeeded (the limit in the cgroup's files, the process in
//! the cgroup) or exited non-zero; a failure other than the kill left the process where
//! it was, made no cgroup and removed none that was there; after a kill, the process is
//! where it was or in the cgroup asked for, and once it is moved back (`cgctl add`), one
//! `cgctl rm -r` of that cgroup leaves nothing of it in any hierarchy.
//!
//! Everything happens below the test's own cgroup (`--root self`), to a `sleep` the
//! test started; systemd is left out (`--systemd no`): the cgroup files are the subject.

mod common;

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{in_cgroup, run, sleeper, Scope};
use testkit::Outcome;

/// The calls that create or record something (cgroups, limits, moves, the result),
/// each with the error it is made to fail with. Those a command does not make are
/// left out of its sweep.
const FAULTS: [(&str, &str); 7] = [
    ("write", "EIO"),
    ("mkdir", "ENOSPC"),
    ("mkdirat", "ENOSPC"),
    ("openat2", "EACCES"),
    ("rename", "EIO"),
    ("pidfd_open", "EMFILE"),
    ("openat", "EACCES"),
];

/// The time of the whole suite (its points take about 70 s on 2 idle cores), shared by
/// its tests: each sweep stops there, and says which commands it did not finish.
const BUDGET: Duration = Duration::from_secs(120);

/// When the first test of the suite started.
fn suite_start() -> Instant {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// The limit every command sets, and what the kernel keeps of it.
const LIMIT: &str = "50M";
const LIMIT_BYTES: &str = "52428800";

/// The commands under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `limit mem 50M PID --cgroup BOX`, BOX new.
    LimitNew,
    /// The same, BOX made beforehand (memory hierarchy only).
    LimitExisting,
    /// `limit mem 50M BOX`, BOX made beforehand.
    LimitCgroup,
    /// `add BOX PID`, BOX made beforehand in every hierarchy.
    Add,
    /// `exec -l mem=50M BOX -- cat /proc/self/cgroup`, BOX new.
    Exec,
    /// The same, BOX made beforehand (memory hierarchy only).
    ExecExisting,
}

impl Kind {
    /// Whether BOX is there before the command.
    fn box_made_before(self) -> bool {
        matches!(
            self,
            Kind::LimitExisting | Kind::LimitCgroup | Kind::Add | Kind::ExecExisting
        )
    }

    /// Whether the command sets a limit on a cgroup that was there.
    fn limits_existing(self) -> bool {
        matches!(
            self,
            Kind::LimitExisting | Kind::LimitCgroup | Kind::ExecExisting
        )
    }
}

/// The scene: a scope with HOME (the target process in it, every hierarchy) and maybe
/// BOX.
struct Scene {
    /// Dropped (killed) before the scope, which can then be removed.
    target: testkit::ProcessGuard,
    scope: Scope,
    /// The target's /proc/PID/cgroup when it is at home.
    home: String,
    /// The command BOX is ready for, as `prepare` made it.
    ready: RefCell<Option<Kind>>,
    /// BOX's memory limit as made.
    fresh_limit: RefCell<Option<String>>,
}

impl Scene {
    fn new() -> Scene {
        let scope = Scope::new();
        let home = scope.sub("home");
        run(&["create", "-q", &home]).success();
        let target = sleeper();
        run(&["add", "-q", &home, &target.pid().to_string()]).success();
        let home = proc_cgroup(target.pid());
        Scene {
            scope,
            target,
            home,
            ready: RefCell::new(None),
            fresh_limit: RefCell::new(None),
        }
    }

    fn pid(&self) -> String {
        self.target.pid().to_string()
    }

    fn boxed(&self) -> String {
        self.scope.sub("box")
    }

    /// BOX's directory in each hierarchy this process has a cgroup in.
    fn box_dirs(&self) -> Vec<PathBuf> {
        self.scope
            .dirs()
            .into_iter()
            .map(|d| d.join("box"))
            .collect()
    }

    /// BOX's directory in the memory hierarchy.
    fn box_memory(&self) -> PathBuf {
        common::dir("memory", &self.boxed())
    }

    /// Makes BOX as `kind` wants it there, unless it is so already.
    fn prepare(&self, kind: Kind) {
        if *self.ready.borrow() == Some(kind) {
            return;
        }
        match kind {
            Kind::LimitExisting | Kind::LimitCgroup | Kind::ExecExisting => {
                run(&["create", "-q", "-c", "memory", &self.boxed()]).success();
            }
            Kind::Add => {
                run(&["create", "-q", &self.boxed()]).success();
            }
            Kind::LimitNew | Kind::Exec => {}
        }
        *self.fresh_limit.borrow_mut() = self.box_limit();
        *self.ready.borrow_mut() = Some(kind);
    }

    /// cgctl's arguments for `kind`.
    fn args(&self, kind: Kind) -> Vec<String> {
        let (b, pid) = (self.boxed(), self.pid());
        let mem = format!("mem={LIMIT}");
        let words: Vec<&str> = match kind {
            Kind::LimitNew | Kind::LimitExisting => {
                vec!["limit", "mem", LIMIT, &pid, "--cgroup", &b]
            }
            Kind::LimitCgroup => vec!["limit", "mem", LIMIT, &b],
            Kind::Add => vec!["add", &b, &pid],
            Kind::Exec | Kind::ExecExisting => {
                vec!["exec", "-l", &mem, &b, "--", "cat", "/proc/self/cgroup"]
            }
        };
        ["--root", "self", "--systemd", "no"]
            .into_iter()
            .chain(words)
            .map(str::to_string)
            .collect()
    }

    /// The memory limit of BOX, if it is there.
    fn box_limit(&self) -> Option<String> {
        let file = common::file("memory.limit_in_bytes", "memory.max");
        std::fs::read_to_string(self.box_memory().join(file))
            .ok()
            .map(|s| s.trim().to_string())
    }

    /// Whether `kind` did all it was asked; `out` is its outcome.
    fn fully_done(&self, kind: Kind, out: &Outcome) -> bool {
        let b = self.boxed();
        let now = proc_cgroup(self.target.pid());
        let limit_set = self.box_limit().as_deref() == Some(LIMIT_BYTES);
        match kind {
            Kind::LimitNew | Kind::LimitExisting => limit_set && in_cgroup(&now, "memory", &b),
            Kind::LimitCgroup => limit_set && now == self.home,
            Kind::Add => now == self.home.replace("/home\n", "/box\n"),
            Kind::Exec | Kind::ExecExisting => limit_set && in_cgroup(&out.stdout(), "memory", &b),
        }
    }

    /// Puts everything back as `prepare` left it for `kind`: the target home, and BOX,
    /// if it is there, removed with one `cgctl rm -r` (which must succeed) unless it is
    /// as it was made for `kind`. Nothing else is left in the scope.
    fn reset(&self, kind: Kind, what: &str) {
        let home = proc_cgroup(self.target.pid()) == self.home;
        if !home {
            run(&["add", "-q", &self.scope.sub("home"), &self.pid()]).success();
        }
        let untouched = kind.box_made_before()
            && home
            && self.box_memory().exists()
            && self.box_limit() == *self.fresh_limit.borrow();
        if !untouched {
            *self.ready.borrow_mut() = None;
            if self.box_dirs().iter().any(|d| d.exists()) {
                let out = run(&["rm", "-q", "-r", &self.boxed()]);
                assert_eq!(out.code(), 0, "{what}: rm -r: {}", out.stderr());
            }
        }
        // The scope is in every hierarchy with controllers, not in named ones.
        for dir in self.scope.dirs().into_iter().filter(|d| d.exists()) {
            assert!(
                dir.join("home").is_dir(),
                "{what}: no home in {}",
                dir.display()
            );
            let left: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "home" && !(untouched && n == "box"))
                .collect();
            assert!(
                left.is_empty(),
                "{what}: left in {}: {left:?}",
                dir.display()
            );
        }
        assert!(testkit::is_alive(self.target.pid()), "{what}: target gone");
    }
}

fn proc_cgroup(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("read /proc/PID/cgroup")
}

/// cgctl with `args` under strace with `strace_args`.
fn under_strace(strace_args: &[&str], args: &[String]) -> Outcome {
    let mut cmd = Command::new("strace");
    cmd.arg("-qq")
        .args(strace_args)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_cgctl"))
        .args(args)
        .stdin(Stdio::null());
    Outcome::of(&mut cmd)
}

/// How many calls of each of [`FAULTS`] `kind` makes before COMMAND (exec) or its end,
/// counted in one run without faults (then undone).
fn counts(scene: &Scene, kind: Kind) -> Vec<(&'static str, &'static str, usize)> {
    let log = tempfile::NamedTempFile::new().unwrap();
    let names: Vec<&str> = FAULTS.iter().map(|(n, _)| *n).collect();
    let trace = format!("trace=execve,{}", names.join(","));
    scene.prepare(kind);
    let log_path = log.path().display().to_string();
    let out = under_strace(&["-o", &log_path, "-e", &trace], &scene.args(kind));
    assert_eq!(out.code(), 0, "{kind:?} without faults: {}", out.stderr());
    assert!(scene.fully_done(kind, &out), "{kind:?} without faults");
    scene.reset(kind, &format!("{kind:?} without faults"));
    let text = std::fs::read_to_string(log.path()).unwrap();
    let mut seen = vec![0; FAULTS.len()];
    let mut execs = 0;
    for line in text.lines() {
        let name = line.split('(').next().unwrap_or_default();
        if name == "execve" {
            execs += 1;
            if execs > 1 {
                break; // COMMAND: not cgctl's any more
            }
        } else if let Some(i) = names.iter().position(|n| *n == name) {
            seen[i] += 1;
        }
    }
    FAULTS
        .iter()
        .zip(seen)
        .filter(|(_, n)| *n > 0)
        .map(|((name, err), n)| (*name, *err, n))
        .collect()
}

/// Runs `kind` with `spec` injected, checks what it did and left, and resets.
/// Returns whether cgctl fully succeeded, or what is wrong.
fn inject(scene: &Scene, kind: Kind, spec: &str) -> Result<bool, String> {
    scene.prepare(kind);
    let before_limit = scene.box_limit();
    let out = under_strace(
        &["-o", "/dev/null", "-e", &format!("inject={spec}")],
        &scene.args(kind),
    );
    let what = format!(
        "{kind:?} {spec}: exit {}: {}",
        out.code(),
        out.stderr().trim()
    );
    let verdict = check(scene, kind, &out, before_limit).map_err(|e| format!("{what}: {e}"));
    scene.reset(kind, &what);
    verdict
}

/// What is wrong with the outcome `out` of `kind`, if anything.
fn check(
    scene: &Scene,
    kind: Kind,
    out: &Outcome,
    before_limit: Option<String>,
) -> Result<bool, String> {
    let fail = |why: &str| Err(why.to_string());
    if out.stderr().contains("panicked") || [101, 134].contains(&out.code()) {
        return fail("a panic");
    }
    if out.code() == 0 {
        return match scene.fully_done(kind, out) {
            true => Ok(true),
            false => fail("exit 0, not a full success"),
        };
    }
    if out.code() == 137 {
        // Killed: nothing can catch it; whatever was there before still is.
        if kind.box_made_before() && !scene.box_memory().exists() {
            return fail("the cgroup that was there is gone");
        }
        return Ok(false);
    }
    // A failure cgctl saw: the process where it was, nothing made or removed.
    if proc_cgroup(scene.target.pid()) != scene.home {
        return fail("the process was not put back");
    }
    if scene.box_memory().exists() != kind.box_made_before() {
        return fail("a cgroup was made or removed");
    }
    if kind.limits_existing() && scene.box_limit() != before_limit {
        return fail("the limit was changed");
    }
    Ok(false)
}

/// Sweeps every injection point of `kinds`, in order, until the suite's [`BUDGET`] is
/// spent; then prints how many points were tried and fails on anything wrong.
fn sweep(kinds: &[Kind]) {
    let scene = Scene::new();
    let (start, suite) = (Instant::now(), suite_start());
    let (mut tried, mut successes, mut killed_points) = (0, 0, 0);
    let mut wrong = Vec::new();
    let mut skipped = Vec::new();
    for &kind in kinds {
        if suite.elapsed() > BUDGET {
            skipped.push(kind);
            continue;
        }
        'sweep: for (name, err, calls) in counts(&scene, kind) {
            for n in 1..=calls {
                for fault in [format!("error={err}"), "signal=KILL".to_string()] {
                    if suite.elapsed() > BUDGET {
                        skipped.push(kind);
                        break 'sweep;
                    }
                    let spec = format!("{name}:{fault}:when={n}");
                    tried += 1;
                    match inject(&scene, kind, &spec) {
                        Ok(done) => successes += usize::from(done),
                        Err(e) => wrong.push(e),
                    }
                    killed_points += usize::from(fault == "signal=KILL");
                }
            }
        }
    }
    eprintln!(
        "cgctl fault injection, {kinds:?}: {tried} injection points tried ({killed_points} \
         kills) in {:.1} s, {successes} full successes{}",
        start.elapsed().as_secs_f64(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!("; time budget spent, not (fully) swept: {skipped:?}")
        }
    );
    assert!(tried > 0);
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

macro_rules! require_tools {
    () => {
        testkit::require_root!();
        testkit::require_program!("strace");
    };
}

// Three tests, run side by side by the test harness, each with its own scope and
// target process.

#[test]
fn limit_survives_every_fault() {
    require_tools!();
    sweep(&[Kind::LimitNew, Kind::LimitExisting, Kind::LimitCgroup]);
}

#[test]
fn add_survives_every_fault() {
    require_tools!();
    sweep(&[Kind::Add]);
}

#[test]
fn exec_survives_every_fault() {
    require_tools!();
    sweep(&[Kind::Exec, Kind::ExecExisting]);
}

/// cgctl's own ancestors are refused without --force, whatever fails while cgctl walks
/// up to them: `add BOX PID-of-this-test` (strace's parent) with each `pidfd_open` and
/// `openat` failing in turn never exits 0 and never moves this process.
#[test]
fn an_ancestor_is_never_moved_whatever_fails() {
    require_tools!();
    let scope = Scope::new();
    let boxed = scope.sub("box");
    run(&["create", "-q", &boxed]).success();
    let me = std::process::id() as i32;
    let before = proc_cgroup(me);
    // This process's own cgroup directories, to go back to should cgctl move it.
    let own: Vec<PathBuf> = scope
        .dirs()
        .iter()
        .filter_map(|d| d.parent().map(PathBuf::from))
        .collect();
    let args: Vec<String> = ["--root", "self", "--systemd", "no", "add", &boxed]
        .into_iter()
        .map(str::to_string)
        .chain([me.to_string()])
        .collect();
    let log = tempfile::NamedTempFile::new().unwrap();
    let log_path = log.path().display().to_string();
    let trace = ["-o", &log_path, "-e", "trace=pidfd_open,openat"];
    let out = under_strace(&trace, &args);
    assert_eq!(out.code(), 2, "{}", out.stderr());
    let text = std::fs::read_to_string(log.path()).unwrap();
    let mut tried = 0;
    for name in ["pidfd_open", "openat"] {
        let calls = text.lines().filter(|l| l.starts_with(name)).count();
        for n in 1..=calls {
            let spec = format!("inject={name}:error=EACCES:when={n}");
            let out = under_strace(&["-o", "/dev/null", "-e", &spec], &args);
            tried += 1;
            let moved = proc_cgroup(me) != before;
            if moved {
                // Back where this process was, before anything else is checked.
                for dir in own.iter().filter(|d| d.exists()) {
                    let _ = std::fs::write(dir.join("cgroup.procs"), me.to_string());
                }
            }
            assert!(
                !moved && out.code() != 0,
                "{spec}: exit {}, moved: {moved}: {}",
                out.code(),
                out.stderr()
            );
        }
    }
    eprintln!("cgctl fault injection, an ancestor as target: {tried} injection points tried");
    assert!(tried > 0);
}

/// A rollback that cannot remove the cgroup it made says so: `limit` into a new cgroup
/// with each `write` failing in turn and, in the undo that follows, `rmdir` too. Then
/// one `cgctl rm -r` removes what is left.
#[test]
fn a_rollback_that_cannot_remove_a_cgroup_says_so() {
    require_tools!();
    let scene = Scene::new();
    let kind = Kind::LimitNew;
    let writes = counts(&scene, kind)
        .into_iter()
        .find(|(name, _, _)| *name == "write")
        .map_or(0, |(_, _, n)| n);
    let mut said = 0;
    for n in 1..=writes {
        let write = format!("inject=write:error=EIO:when={n}");
        let strace = [
            "-o",
            "/dev/null",
            "-e",
            &write,
            "-e",
            "inject=rmdir:error=EIO",
        ];
        let out = under_strace(&strace, &scene.args(kind));
        let what = format!("{write}: exit {}: {}", out.code(), out.stderr().trim());
        assert!(!out.stderr().contains("panicked"), "{what}");
        if out.code() != 0 && scene.box_memory().exists() {
            assert!(
                out.stderr().contains("left behind: cannot remove cgroup"),
                "{what}: a cgroup left without a word"
            );
            said += 1;
        }
        scene.reset(kind, &what);
    }
    assert!(said > 0, "no rollback had a cgroup to remove");
}
