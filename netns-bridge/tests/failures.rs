//! Failures a demanding user meets: a step failing halfway (injected through the debug
//! build's test hooks, see `src/fault.rs`), a namespace deleted mid-attach, a link of
//! someone else's in the way, a corrupt state file, a bridge that was there before.
//! Each must end in one line on stderr, the documented exit status, and nothing left.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{assert_fails, host_veths, links_of, wait_for, Host};
use testkit::{NetnsGuard, Outcome, ProcessGuard};

/// The host's links, the bridge's leases and nftables tables, to compare before/after.
fn snapshot(host: &Host, bridge: &str) -> (Vec<String>, usize, String) {
    let tables = host
        .program("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft");
    (
        host.links(),
        host.lease_count(bridge),
        String::from_utf8_lossy(&tables.stdout).into_owned(),
    )
}

/// netns-bridge with `args` and one test hook set.
fn run_with(host: &Host, hook: (&str, &str), args: &[&str]) -> Outcome {
    let mut cmd = host.command(args);
    cmd.env(hook.0, hook.1);
    Outcome::of(&mut cmd)
}

/// The hooks are compiled into debug builds only (`cargo test --release` skips these).
macro_rules! require_test_hooks {
    () => {
        if !cfg!(debug_assertions)
            && !testkit::skip("netns-bridge's test hooks exist in debug builds only")
        {
            return;
        }
    };
}

const STEPS: [&str; 6] = ["bridge", "lease", "veth", "inside", "nat", "done"];

#[test]
fn every_attach_step_is_rolled_back() {
    testkit::require_root!();
    testkit::require_program!("nft");
    require_test_hooks!();
    let host = Host::new();
    let target = NetnsGuard::new();
    // On a bridge this attach would create, with NAT: all of it goes again.
    for step in STEPS {
        let before = snapshot(&host, "nsbr0");
        let args = ["attach", target.name(), "--subnet", "10.70.0.0/24", "--nat"];
        let out = run_with(&host, ("NETNS_BRIDGE_TEST_FAIL", step), &args);
        assert_fails(&out, 1);
        assert!(
            out.stderr().contains("injected"),
            "{step}: {}",
            out.stderr()
        );
        assert_eq!(snapshot(&host, "nsbr0"), before, "{step} left something");
        assert_eq!(host.links(), ["lo"], "{step}");
        assert!(!host.bridge_dir("nsbr0").exists(), "{step} left state");
        assert_eq!(links_of(target.name()), ["lo"], "{step}");
    }
    // On a bridge that is there with another attachment: only this attach's steps go.
    let other = NetnsGuard::new();
    host.run(["attach", other.name(), "--subnet", "10.70.0.0/24"])
        .success();
    for step in STEPS {
        let before = snapshot(&host, "nsbr0");
        let out = run_with(
            &host,
            ("NETNS_BRIDGE_TEST_FAIL", step),
            &["attach", target.name(), "--nat"],
        );
        assert_fails(&out, 1);
        assert_eq!(snapshot(&host, "nsbr0"), before, "{step} left something");
        assert_eq!(links_of(target.name()), ["lo"], "{step}");
    }
    // And then it works, with the address the failed attempts never kept.
    assert_eq!(
        host.run(["attach", target.name()]).success(),
        "10.70.0.3/24\n"
    );
}

/// Starts an attach that pauses at `step` (and has `env` set too); returns it and the
/// hook's directory.
fn paused_attach(
    host: &Host,
    step: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> (ProcessGuard, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("hook dir");
    let mut cmd = host.command(args);
    cmd.envs(env.iter().copied());
    cmd.env(
        "NETNS_BRIDGE_TEST_PAUSE",
        format!("{step}:{}", dir.path().display()),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = ProcessGuard::new(cmd.spawn().expect("spawn attach"));
    assert!(
        wait_for(Duration::from_secs(10), || dir
            .path()
            .join("paused")
            .exists()),
        "attach did not reach {step}"
    );
    (child, dir)
}

/// Lets a paused attach go on and collects its outcome.
fn resume(mut child: ProcessGuard, dir: &Path) -> Outcome {
    std::fs::write(dir.join("resume"), b"").expect("resume");
    let status = child
        .wait_timeout(Duration::from_secs(20))
        .expect("attach finished");
    let mut out = Vec::new();
    let mut err = Vec::new();
    use std::io::Read;
    if let Some(s) = child.child().stdout.as_mut() {
        let _ = s.read_to_end(&mut out);
    }
    if let Some(s) = child.child().stderr.as_mut() {
        let _ = s.read_to_end(&mut err);
    }
    Outcome {
        output: std::process::Output {
            status,
            stdout: out,
            stderr: err,
        },
    }
}

#[test]
fn a_namespace_deleted_mid_attach_leaves_nothing() {
    testkit::require_root!();
    testkit::require_program!("nft");
    require_test_hooks!();
    let host = Host::new();
    let keep = NetnsGuard::new();
    host.run(["attach", keep.name(), "--subnet", "10.71.0.0/24"])
        .success();
    let before = snapshot(&host, "nsbr0");
    for step in ["veth", "inside", "done"] {
        let doomed = NetnsGuard::new();
        let (child, dir) = paused_attach(&host, step, &[], &["attach", doomed.name()]);
        // `ip netns delete` while the attach is inside it (it holds the namespace open).
        drop(doomed);
        let out = resume(child, dir.path());
        assert_fails(&out, 1);
        assert!(out.stderr().contains("went away"), "{}", out.stderr());
        assert_eq!(snapshot(&host, "nsbr0"), before, "{step}");
    }
    assert_eq!(host_veths(&host.links()).len(), 1);
}

#[test]
fn a_pid_target_that_exits_mid_attach_is_refused_though_its_namespace_lives() {
    testkit::require_root!();
    testkit::require_program!("nft");
    require_test_hooks!();
    let host = Host::new();
    let before = snapshot(&host, "nsbr0");
    // The namespace outlives the process (it is mounted): only the process is gone, and
    // its PID may name another by now. The attach, holding it by a pidfd, notices.
    let ns = NetnsGuard::new();
    let mut sleeper = std::process::Command::new("ip");
    sleeper.args(["netns", "exec", ns.name(), "sleep", "600"]);
    let sleeper = ProcessGuard::new(sleeper.spawn().expect("spawn sleep"));
    let pid = sleeper.pid().to_string();
    assert!(wait_for(Duration::from_secs(5), || {
        std::fs::read_link(format!("/proc/{pid}/exe"))
            .is_ok_and(|e| e.to_string_lossy().contains("sleep"))
    }));
    let (child, dir) = paused_attach(
        &host,
        "done",
        &[],
        &["attach", &pid, "--subnet", "10.76.0.0/24"],
    );
    drop(sleeper);
    let out = resume(child, dir.path());
    assert_fails(&out, 1);
    assert!(out.stderr().contains("went away"), "{}", out.stderr());
    assert_eq!(snapshot(&host, "nsbr0"), before);
    assert_eq!(links_of(ns.name()), ["lo"]);
}

#[test]
fn a_waiting_attach_survives_the_failed_first_attach_it_waited_for() {
    testkit::require_root!();
    require_test_hooks!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    // The first attach of a bridge holds the lock, then fails and removes the bridge's
    // state directory; the second was waiting for that lock.
    let (first, dir) = paused_attach(
        &host,
        "bridge",
        &[("NETNS_BRIDGE_TEST_FAIL", "bridge")],
        &["attach", a.name(), "--subnet", "10.72.0.0/24"],
    );
    let mut second = host.command(["attach", b.name(), "--subnet", "10.72.0.0/24"]);
    second.stdout(Stdio::piped()).stderr(Stdio::piped());
    let second = second.spawn().expect("spawn");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(resume(first, dir.path()).code(), 1);
    let out = Outcome {
        output: second.wait_with_output().expect("second"),
    };
    assert_eq!(out.success(), "10.72.0.2/24\n");
    assert_eq!(host.lease_count("nsbr0"), 1);
}

#[test]
fn a_link_of_someone_elses_with_the_host_veths_name_is_never_touched() {
    testkit::require_root!();
    testkit::require_program!("nft");
    let host = Host::new();
    let a = NetnsGuard::new();
    let json = host
        .run(["attach", a.name(), "--subnet", "10.73.0.0/24", "--json"])
        .success();
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let name = v["host_veth"].as_str().unwrap_or_default().to_string();
    host.run(["detach", a.name()]).expect_code(0);
    // Someone's own link, of another kind, happens to have that name.
    for args in [
        vec!["link", "add", name.as_str(), "type", "bridge"],
        vec!["link", "set", name.as_str(), "alias", "not yours"],
    ] {
        assert!(host
            .program("ip")
            .args(&args)
            .status()
            .expect("ip")
            .success());
    }
    let before = snapshot(&host, "nsbr0");
    let out = host.run(["attach", a.name()]);
    assert_fails(&out, 2);
    assert!(
        out.stderr().contains("not netns-bridge's"),
        "{}",
        out.stderr()
    );
    assert_eq!(snapshot(&host, "nsbr0"), before);
    assert_eq!(links_of(a.name()), ["lo"]);
    let alias = host
        .program("ip")
        .args(["-o", "link", "show", &name])
        .output()
        .expect("ip");
    assert!(String::from_utf8_lossy(&alias.stdout).contains("alias not yours"));
    // gc and down leave it alone too.
    host.run(["gc"]).expect_code(0);
    host.run(["down"]).expect_code(0);
    assert!(host.links().contains(&name));
}

#[test]
fn a_corrupt_bridge_record_fails_cleanly_and_is_left_as_it_is() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    host.run(["attach", a.name(), "--subnet", "10.75.0.0/24"])
        .success();
    let record = host.bridge_dir("nsbr0").join("bridge.json");
    let good = std::fs::read_to_string(&record).expect("record");
    for corrupt in [
        "{not json".to_string(),
        good.replace("10.75.0.0/24", "10.75.0.0/99"),
    ] {
        std::fs::write(&record, &corrupt).expect("write record");
        let before = host.links();
        for args in [
            vec!["attach", b.name()],
            vec!["attach", a.name()],
            vec!["detach", a.name()],
            vec!["gc"],
            vec!["ls"],
            vec!["down", "--force"],
        ] {
            let out = host.run(&args);
            assert_fails(&out, 1);
            assert!(
                out.stderr().contains("corrupt state file"),
                "{args:?}: {}",
                out.stderr()
            );
            assert_eq!(host.links(), before, "{args:?}");
            assert_eq!(std::fs::read_to_string(&record).expect("record"), corrupt);
        }
    }
    std::fs::write(&record, &good).expect("restore");
    host.run(["down", "--force"]).expect_code(0);
    assert_eq!(host.links(), ["lo"]);
}

#[test]
fn a_corrupt_state_file_fails_cleanly_and_is_left_as_it_is() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    host.run(["attach", a.name(), "--subnet", "10.74.0.0/24"])
        .success();
    // As a state file of the earlier format, which is read (and migrated) first.
    let state = host.bridge_dir("nsbr0").join("state.json");
    let good = serde_json::to_string_pretty(&host.state_json("nsbr0")).expect("json");
    for corrupt in [
        "{not json".to_string(),
        good.replace("10.74.0.0/24", "10.74.0.0/99"),
        good.replace("\"10.74.0.2\"", "\"10.99.0.2\""),
    ] {
        std::fs::write(&state, &corrupt).expect("write state");
        let before = host.links();
        for args in [
            vec!["attach", b.name()],
            vec!["attach", a.name()],
            vec!["detach", a.name()],
            vec!["gc"],
            vec!["ls"],
            vec!["down", "--force"],
        ] {
            let out = host.run(&args);
            assert_fails(&out, 1);
            assert!(
                out.stderr().contains("corrupt state file"),
                "{args:?}: {}",
                out.stderr()
            );
            assert_eq!(host.links(), before, "{args:?}");
            assert_eq!(
                std::fs::read_to_string(&state).expect("state"),
                corrupt,
                "{args:?} rewrote the state"
            );
        }
        assert_eq!(links_of(b.name()), ["lo"]);
    }
}

#[test]
fn down_leaves_a_bridge_it_did_not_create() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let ok = host
        .program("ip")
        .args(["link", "add", "userbr", "type", "bridge"])
        .status()
        .expect("ip");
    assert!(ok.success());
    host.run([
        "attach",
        a.name(),
        "--bridge",
        "userbr",
        "--subnet",
        "10.75.0.0/24",
    ])
    .success();
    assert_eq!(
        common::addresses_of(host.ns.name(), "userbr"),
        ["10.75.0.1/24"]
    );
    host.run(["down", "--bridge", "userbr", "--force"])
        .expect_code(0);
    // The bridge stays; the gateway address netns-bridge added and its veth go.
    assert_eq!(host.links(), ["lo", "userbr"]);
    assert!(common::addresses_of(host.ns.name(), "userbr").is_empty());
    assert_eq!(links_of(a.name()), ["lo"]);
    assert!(!host.bridge_dir("userbr").exists());
}

#[test]
fn subnets_must_agree_with_the_bridges_there_are() {
    testkit::require_root!();
    testkit::require_program!("nft");
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    host.run([
        "attach",
        a.name(),
        "--bridge",
        "br1",
        "--subnet",
        "10.76.0.0/24",
    ])
    .success();
    let before = snapshot(&host, "br2");
    // A second bridge over the first one's subnet.
    let out = host.run([
        "attach",
        b.name(),
        "--bridge",
        "br2",
        "--subnet",
        "10.76.0.0/16",
    ]);
    assert_fails(&out, 2);
    assert!(out.stderr().contains("overlaps"), "{}", out.stderr());
    assert_eq!(snapshot(&host, "br2"), before);
    assert!(!host.bridge_dir("br2").exists());
    assert_eq!(links_of(b.name()), ["lo"]);
    // A static address outside the bridge's subnet, without --subnet: refused up front.
    let out = host.run(["attach", b.name(), "--bridge", "br1", "--ip", "10.99.0.5"]);
    assert_fails(&out, 2);
    assert!(out.stderr().contains("outside"), "{}", out.stderr());
    assert_eq!(links_of(b.name()), ["lo"]);
    // An attached namespace asked for another subnet: an error, not its old address.
    let out = host.run([
        "attach",
        a.name(),
        "--bridge",
        "br1",
        "--subnet",
        "10.77.0.0/24",
    ]);
    assert_fails(&out, 2);
    assert_eq!(
        host.run([
            "attach",
            a.name(),
            "--bridge",
            "br1",
            "--subnet",
            "10.76.0.0/24"
        ])
        .success(),
        "10.76.0.2/24\n"
    );
}
