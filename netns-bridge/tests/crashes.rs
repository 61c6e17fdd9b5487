//! Crashes and lost replies, injected with `strace -e inject`: attach killed at the Nth
//! system call of a kind, or its Nth netlink receive failing (ENOBUFS), for every N
//! until the attach gets through. After each, a failed attach has left nothing, or one
//! `gc`/`down` removes everything it made: links, state, NAT table.

mod common;

use std::time::{Duration, Instant};

use common::{addresses_of, host_veths, links_of, Host};
use testkit::{NetnsGuard, Outcome};

/// More injection points than any attach has of one kind.
const MAX_POINTS: usize = 400;

/// netns-bridge with `args` under strace, which injects `inject` (`-e inject=…`). A
/// kill follows threads and children (`-f`); an error does not: strace counts calls per
/// process, so each `nft` run, the rollback's too, would fail at its own Nth call, a
/// second fault inside the undo of the first.
fn under_strace(host: &Host, inject: &str, args: &[&str]) -> Outcome {
    let mut cmd = host.program("strace");
    if inject.contains("signal=KILL") {
        cmd.arg("-f");
    }
    cmd.args(["-qq", "-o", "/dev/null", "-e"])
        .arg(format!("inject={inject}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_netns-bridge"))
        .args(args)
        .env("NETNS_BRIDGE_STATE_DIR", host.path())
        .stdin(std::process::Stdio::null());
    Outcome::of(&mut cmd)
}

/// The nftables tables of the host.
fn tables(host: &Host) -> String {
    let out = host
        .program("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the host and the target hold: links, leases of nsbr0, state directories, tables,
/// the target's links, and the files of nsbr0's state (the cursor aside: where the next
/// search starts may move).
type Snapshot = (
    Vec<String>,
    usize,
    Vec<String>,
    String,
    Vec<String>,
    Vec<String>,
);

fn state_files(host: &Host) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(host.bridge_dir("nsbr0"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "cursor")
        .collect();
    files.sort();
    files
}

fn snapshot(host: &Host, target: &NetnsGuard) -> Snapshot {
    let mut dirs: Vec<String> = std::fs::read_dir(host.host_dir())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".host-"))
        .collect();
    dirs.sort();
    (
        host.links(),
        host.lease_count("nsbr0"),
        dirs,
        tables(host),
        links_of(target.name()),
        state_files(host),
    )
}

/// Whether `target` is attached completely: one more lease, not pending (gc removed
/// those), its address inside.
fn whole(host: &Host, target: &NetnsGuard, leases_before: usize) -> bool {
    let state = host.state_json("nsbr0").to_string();
    host.lease_count("nsbr0") == leases_before + 1
        && !state.contains("pending")
        && addresses_of(target.name(), "eth0").len() == 1
}

/// How many calls of the syscalls `set` (e.g. `mkdir,mkdirat`) one attach makes, counted
/// with strace (the attach is undone afterwards).
fn count_calls(
    host: &Host,
    target: &NetnsGuard,
    set: &str,
    attach: &[&str],
    before: &Snapshot,
    other: Other,
) -> usize {
    let log = tempfile::NamedTempFile::new().expect("log");
    let mut cmd = host.program("strace");
    cmd.args(["-qq", "-o"])
        .arg(log.path())
        .arg("-e")
        .arg(format!("trace={set}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_netns-bridge"))
        .args(attach)
        .env("NETNS_BRIDGE_STATE_DIR", host.path())
        .stdin(std::process::Stdio::null());
    Outcome::of(&mut cmd).expect_code(0);
    undo_attach(host, target, before, other);
    std::fs::read_to_string(log.path())
        .expect("strace log")
        .lines()
        .filter(|l| !l.starts_with("+++") && !l.starts_with("---"))
        .count()
}

/// Another namespace attached to the bridge before the sweep, and its `--subnet`.
type Other<'a> = Option<(&'a NetnsGuard, &'a str)>;

/// Undoes an attach that got through: detach; if it made the bridge or turned on its
/// NAT, down --force and the other namespace attached again.
fn undo_attach(host: &Host, target: &NetnsGuard, before: &Snapshot, other: Other) {
    host.run(["detach", target.name()]).expect_code(0);
    if snapshot(host, target) != *before {
        host.run(["down", "--force"]).expect_code(0);
        if let Some((other, subnet)) = other {
            host.run(["attach", other.name(), "--subnet", subnet])
                .expect_code(0);
        }
    }
    assert_eq!(snapshot(host, target), *before, "after detach and down");
}

/// One sweep: for N = 1, 2, … runs `attach ARGS` with `inject` (its `{N}` replaced):
/// a kill until the attach gets through, an error for every call the attach makes;
/// past `deadline`, no more.
/// After each failure, `cleanup` (none, or a `gc`/`down`) must bring back exactly
/// what was there before. Returns how many points were tried.
fn sweep(
    host: &Host,
    target: &NetnsGuard,
    inject: &str,
    args: &[&str],
    cleanup: Option<&[&str]>,
    other: Other,
    deadline: Instant,
) -> usize {
    let before = snapshot(host, target);
    let mut attach = vec!["attach", target.name()];
    attach.extend_from_slice(args);
    let kill = inject.contains("signal=KILL");
    let points = if kill {
        MAX_POINTS
    } else {
        let set = inject.split(':').next().unwrap_or_default();
        count_calls(host, target, set, &attach, &before, other)
    };
    for n in 1..=points {
        if Instant::now() > deadline {
            eprintln!("{inject}: stopped after {n} points, time budget spent");
            return n;
        }
        let point = inject.replace("{N}", &n.to_string());
        let out = under_strace(host, &point, &attach);
        if out.code() == 0 {
            // Got through: a kill point past the end, or an error it could live with.
            undo_attach(host, target, &before, other);
            if kill {
                return n;
            }
            continue;
        }
        let cleaned = cleanup.map(|cleanup| host.run(cleanup));
        if snapshot(host, target) != before {
            // Killed after the attach was through (writing its address, say): a whole
            // attachment, which gc keeps and down refuses to remove without --force.
            assert!(
                out.code() == 137 && whole(host, target, before.1),
                "{point} {args:?} left something (exit {}: {}): {:?}",
                out.code(),
                out.stderr(),
                snapshot(host, target)
            );
            undo_attach(host, target, &before, other);
        } else if let Some(done) = cleaned {
            assert_eq!(done.code(), 0, "{point}: {cleanup:?}: {}", done.stderr());
        }
    }
    assert!(
        !kill,
        "{inject}: attach never got through in {MAX_POINTS} tries"
    );
    points
}

/// Keeps each test to about two minutes on a slow machine (CI's emulated VM): once the
/// time is spent, the remaining scenarios are skipped, and the test says how many.
struct Budget {
    started: Instant,
    points: usize,
    skipped: usize,
}

impl Budget {
    const LIMIT: Duration = Duration::from_secs(90);

    fn new() -> Budget {
        Budget {
            started: Instant::now(),
            points: 0,
            skipped: 0,
        }
    }

    /// Whether another scenario may start (the first always does).
    fn allows(&mut self) -> bool {
        let ok = self.points == 0 || self.started.elapsed() < Budget::LIMIT;
        if !ok {
            self.skipped += 1;
        }
        ok
    }

    /// When a sweep under way stops: the budget and half of it again.
    fn deadline(&self) -> Instant {
        self.started + Budget::LIMIT * 3 / 2
    }

    fn report(&self, what: &str) {
        eprintln!(
            "{} {what} tried in {:.1} s{}",
            self.points,
            self.started.elapsed().as_secs_f64(),
            match self.skipped {
                0 => String::new(),
                n => format!(" ({n} scenarios skipped: time budget spent)"),
            }
        );
    }
}

macro_rules! require_tools {
    () => {
        testkit::require_root!();
        testkit::require_program!("strace");
        testkit::require_program!("nft");
    };
}

#[test]
fn a_killed_attach_leaves_nothing_after_gc_or_down() {
    require_tools!();
    let mut budget = Budget::new();
    // A new bridge, with and without NAT; after each kill one gc, or one down.
    for (args, cleanup) in [
        (&["--subnet", "10.82.0.0/24"][..], &["gc"][..]),
        (&["--subnet", "10.82.0.0/24", "--nat"][..], &["down"][..]),
    ] {
        for syscall in [
            "sendto",
            "mkdir,mkdirat",
            "rename,renameat,renameat2",
            "openat",
            "write",
            "link,linkat,unlink,unlinkat",
        ] {
            if !budget.allows() {
                continue;
            }
            let host = Host::new();
            let target = NetnsGuard::new();
            let inject = format!("{syscall}:signal=KILL:when={{N}}");
            budget.points += sweep(
                &host,
                &target,
                &inject,
                args,
                Some(cleanup),
                None,
                budget.deadline(),
            );
        }
    }
    // An existing bridge with another attachment: only this attach's things go.
    let host = Host::new();
    let other = NetnsGuard::new();
    host.run(["attach", other.name(), "--subnet", "10.82.0.0/24"])
        .expect_code(0);
    for (args, cleanup) in [(&[][..], &["gc"][..]), (&["--nat"][..], &["gc"][..])] {
        for syscall in [
            "sendto",
            "rename,renameat,renameat2",
            "write",
            "link,linkat,unlink,unlinkat",
        ] {
            if !budget.allows() {
                continue;
            }
            let target = NetnsGuard::new();
            let inject = format!("{syscall}:signal=KILL:when={{N}}");
            let other = Some((&other, "10.82.0.0/24"));
            budget.points += sweep(
                &host,
                &target,
                &inject,
                args,
                Some(cleanup),
                other,
                budget.deadline(),
            );
        }
    }
    assert_eq!(host_veths(&host.links()).len(), 1);
    budget.report("kill points");
}

#[test]
fn a_failing_system_call_is_rolled_back() {
    require_tools!();
    let mut budget = Budget::new();
    let injections = [
        "sendto:error=ENOBUFS",
        "write:error=ENOSPC",
        "mkdir,mkdirat:error=EACCES",
        "rename,renameat,renameat2:error=EIO",
        "openat:error=EMFILE",
        "link,linkat:error=EIO",
        "unlink,unlinkat:error=EACCES",
    ];
    for args in [
        &["--subnet", "10.85.0.0/24"][..],
        &["--subnet", "10.85.0.0/24", "--nat"][..],
    ] {
        for injection in injections {
            if !budget.allows() {
                continue;
            }
            let host = Host::new();
            let target = NetnsGuard::new();
            let inject = format!("{injection}:when={{N}}");
            budget.points += sweep(&host, &target, &inject, args, None, None, budget.deadline());
        }
    }
    // On a bridge that is there, with another attachment.
    let host = Host::new();
    let other = NetnsGuard::new();
    host.run(["attach", other.name(), "--subnet", "10.85.0.0/24"])
        .expect_code(0);
    for args in [&[][..], &["--nat"][..]] {
        for injection in injections {
            if !budget.allows() {
                continue;
            }
            let target = NetnsGuard::new();
            let inject = format!("{injection}:when={{N}}");
            let other = Some((&other, "10.85.0.0/24"));
            budget.points += sweep(
                &host,
                &target,
                &inject,
                args,
                None,
                other,
                budget.deadline(),
            );
        }
    }
    budget.report("failing calls");
}

#[test]
fn a_lost_netlink_reply_is_rolled_back() {
    require_tools!();
    let mut budget = Budget::new();
    for args in [
        &["--subnet", "10.83.0.0/24"][..],
        &["--subnet", "10.83.0.0/24", "--nat"][..],
    ] {
        if !budget.allows() {
            continue;
        }
        let host = Host::new();
        let target = NetnsGuard::new();
        budget.points += sweep(
            &host,
            &target,
            "recvfrom:error=ENOBUFS:when={N}",
            args,
            None,
            None,
            budget.deadline(),
        );
        // The same on the bridge that is there now, with another attachment.
        let other = NetnsGuard::new();
        host.run(["attach", other.name(), "--subnet", "10.83.0.0/24"])
            .expect_code(0);
        budget.points += sweep(
            &host,
            &target,
            "recvfrom:error=ENOBUFS:when={N}",
            args,
            None,
            Some((&other, "10.83.0.0/24")),
            budget.deadline(),
        );
    }
    budget.report("lost replies");
}

#[test]
fn a_reply_that_never_comes_ends_in_an_error_not_a_hang() {
    require_tools!();
    let host = Host::new();
    let target = NetnsGuard::new();
    let before = snapshot(&host, &target);
    // The 4th netlink request is swallowed (strace fakes its success): no reply comes.
    let started = Instant::now();
    let out = under_strace(
        &host,
        "sendto:retval=32:when=4",
        &["attach", target.name(), "--subnet", "10.84.0.0/24"],
    );
    assert_eq!(out.code(), 1, "{}", out.stderr());
    assert!(out.stderr().contains("no reply within"), "{}", out.stderr());
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(snapshot(&host, &target), before);
}

#[test]
fn a_tagged_bridge_without_state_is_adopted_or_removed() {
    testkit::require_root!();
    let host = Host::new();
    let first = NetnsGuard::new();
    let second = NetnsGuard::new();
    host.run(["attach", first.name(), "--subnet", "10.86.0.0/24"])
        .expect_code(0);
    let alias = host
        .program("ip")
        .args(["-o", "link", "show", "nsbr0"])
        .output()
        .expect("ip");
    assert!(
        String::from_utf8_lossy(&alias.stdout).contains("alias netns-bridge bridge=nsbr0"),
        "{}",
        String::from_utf8_lossy(&alias.stdout)
    );
    // The state is lost: gc removes the tagged veth, then the tagged bridge without ports.
    std::fs::remove_dir_all(host.bridge_dir("nsbr0")).expect("rm state");
    host.run(["gc"]).expect_code(0);
    assert_eq!(host.links(), ["lo"]);
    // Lost again, with the namespace still attached: the next attach adopts the bridge
    // as netns-bridge's own, so down removes it.
    host.run(["attach", first.name(), "--subnet", "10.86.0.0/24"])
        .expect_code(0);
    std::fs::remove_dir_all(host.bridge_dir("nsbr0")).expect("rm state");
    host.run(["attach", second.name()]).expect_code(0);
    let state = host.state_json("nsbr0");
    assert_eq!(state["bridge"]["created"], true, "{state}");
    assert_eq!(state["bridge"]["subnet"], "10.86.0.0/24", "{state}");
    host.run(["down", "--force"]).expect_code(0);
    assert_eq!(host.links(), ["lo"]);
    assert!(!host.bridge_dir("nsbr0").exists());
}
