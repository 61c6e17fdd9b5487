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

/// netns-bridge with `args` under strace, which injects `inject` (`-e inject=…`).
fn under_strace(host: &Host, inject: &str, args: &[&str]) -> Outcome {
    let mut cmd = host.program("strace");
    cmd.args(["-f", "-qq", "-o", "/dev/null", "-e"])
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

/// What the host and the target hold: links, leases of nsbr0, state directories, tables.
fn snapshot(
    host: &Host,
    target: &NetnsGuard,
) -> (Vec<String>, usize, Vec<String>, String, Vec<String>) {
    let mut dirs: Vec<String> = std::fs::read_dir(host.path())
        .expect("state dir")
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
    )
}

/// Whether `target` is attached completely: one more lease, not pending (gc removed
/// those), its address inside.
fn whole(host: &Host, target: &NetnsGuard, leases_before: usize) -> bool {
    let state = std::fs::read_to_string(host.path().join("nsbr0/state.json")).unwrap_or_default();
    host.lease_count("nsbr0") == leases_before + 1
        && !state.contains("pending")
        && addresses_of(target.name(), "eth0").len() == 1
}

/// One sweep: for N = 1, 2, … runs `attach ARGS` with `inject` (its `{N}` replaced)
/// until it gets through. After each failure, `cleanup` (none, or a `gc`/`down`) must
/// bring back exactly what was there before. Returns how many points were tried.
fn sweep(
    host: &Host,
    target: &NetnsGuard,
    inject: &str,
    args: &[&str],
    cleanup: Option<&[&str]>,
) -> usize {
    let before = snapshot(host, target);
    let mut attach = vec!["attach", target.name()];
    attach.extend_from_slice(args);
    for n in 1..=MAX_POINTS {
        let point = inject.replace("{N}", &n.to_string());
        let out = under_strace(host, &point, &attach);
        if out.code() == 0 {
            // Got through: the injection point was past its end. Undo it for the next.
            host.run(["detach", target.name()]).expect_code(0);
            return n;
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
            host.run(["detach", target.name()]).expect_code(0);
            if snapshot(host, target) != before {
                // The bridge it made, a bridge like any other now.
                host.run(["down"]).expect_code(0);
            }
            assert_eq!(snapshot(host, target), before, "{point}: after detach");
        } else if let Some(done) = cleaned {
            assert_eq!(done.code(), 0, "{point}: {cleanup:?}: {}", done.stderr());
        }
    }
    panic!("{inject}: attach never got through in {MAX_POINTS} tries");
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
    let started = Instant::now();
    let mut points = 0;
    // A new bridge, with and without NAT; after each kill one gc, or one down.
    for (args, cleanup) in [
        (&["--subnet", "10.82.0.0/24"][..], &["gc"][..]),
        (&["--subnet", "10.82.0.0/24", "--nat"][..], &["down"][..]),
    ] {
        for syscall in ["sendto", "mkdir", "rename", "openat", "write"] {
            let host = Host::new();
            let target = NetnsGuard::new();
            let inject = format!("{syscall}:signal=KILL:when={{N}}");
            points += sweep(&host, &target, &inject, args, Some(cleanup));
        }
    }
    // An existing bridge with another attachment: only this attach's things go.
    let host = Host::new();
    let other = NetnsGuard::new();
    host.run(["attach", other.name(), "--subnet", "10.82.0.0/24"])
        .expect_code(0);
    for (args, cleanup) in [(&[][..], &["gc"][..]), (&["--nat"][..], &["gc"][..])] {
        for syscall in ["sendto", "rename", "write"] {
            let target = NetnsGuard::new();
            let inject = format!("{syscall}:signal=KILL:when={{N}}");
            points += sweep(&host, &target, &inject, args, Some(cleanup));
        }
    }
    assert_eq!(host_veths(&host.links()).len(), 1);
    eprintln!(
        "{points} kill points tried in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_lost_netlink_reply_is_rolled_back() {
    require_tools!();
    let started = Instant::now();
    let mut points = 0;
    for args in [
        &["--subnet", "10.83.0.0/24"][..],
        &["--subnet", "10.83.0.0/24", "--nat"][..],
    ] {
        let host = Host::new();
        let target = NetnsGuard::new();
        points += sweep(
            &host,
            &target,
            "recvfrom:error=ENOBUFS:when={N}",
            args,
            None,
        );
        // The same on the bridge that is there now, with another attachment.
        let other = NetnsGuard::new();
        host.run(["attach", other.name(), "--subnet", "10.83.0.0/24"])
            .expect_code(0);
        points += sweep(
            &host,
            &target,
            "recvfrom:error=ENOBUFS:when={N}",
            args,
            None,
        );
    }
    eprintln!(
        "{points} lost replies tried in {:.1} s",
        started.elapsed().as_secs_f64()
    );
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
