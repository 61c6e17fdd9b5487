//! State per host namespace: two namespaces playing two hosts share one state directory
//! (as two container hosts sharing /run/netns-bridge would) and never see, release or
//! hand out each other's leases; a state directory of the earlier layout is refused.

mod common;

use common::{host_veths, Host};
use testkit::NetnsGuard;

#[test]
fn two_hosts_sharing_a_state_directory_never_share_leases() {
    testkit::require_root!();
    let one = Host::new();
    let two = Host::sharing(&one);
    let a1 = NetnsGuard::new();
    let a2 = NetnsGuard::new();
    let b1 = NetnsGuard::new();
    let b2 = NetnsGuard::new();
    // The same bridge name and subnet in both: separate hosts, separate leases.
    let subnet = ["--subnet", "10.96.0.0/24"];
    let attach = |host: &Host, ns: &NetnsGuard| {
        let mut args = vec!["attach", ns.name()];
        args.extend(subnet);
        host.run(args).success()
    };
    assert_eq!(attach(&one, &a1), "10.96.0.2/24\n");
    assert_eq!(attach(&one, &a2), "10.96.0.3/24\n");
    assert_eq!(attach(&two, &b1), "10.96.0.2/24\n");

    // Each host lists only its own.
    let listed = |host: &Host| {
        let v: serde_json::Value =
            serde_json::from_str(&host.run(["ls", "--json"]).success()).expect("ls");
        v["attachments"].as_array().map_or(0, |a| a.len())
    };
    assert_eq!((listed(&one), listed(&two)), (2, 1));

    // gc and down --force in the second host leave the first host's leases alone.
    two.run(["gc"]).expect_code(0);
    assert_eq!(one.lease_count("nsbr0"), 2);
    two.run(["down", "--force"]).expect_code(0);
    assert_eq!(one.lease_count("nsbr0"), 2);
    assert!(!two.bridge_dir("nsbr0").exists());
    assert_eq!(host_veths(&one.links()).len(), 2);

    // The next address in the first host is a new one, never one still in use.
    assert_eq!(attach(&one, &b2), "10.96.0.4/24\n");
    assert_eq!(one.lease_count("nsbr0"), 3);
    one.run(["down", "--force"]).expect_code(0);

    // With their last bridge gone, neither host keeps a directory of its own.
    let left: Vec<_> = std::fs::read_dir(one.path())
        .expect("state directory")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert!(left.is_empty(), "left in the state directory: {left:?}");
}

#[test]
fn state_of_the_earlier_layout_is_refused() {
    testkit::require_root!();
    let host = Host::new();
    let target = NetnsGuard::new();
    // What an earlier version wrote: STATE_DIR/BRIDGE/{lock,state.json}.
    let old = host.path().join("nsbr0");
    std::fs::create_dir(&old).expect("mkdir");
    std::fs::write(old.join("lock"), b"").expect("lock");
    std::fs::write(
        old.join("state.json"),
        br#"{"bridge":{"subnet":"10.97.0.0/24"},"leases":[]}"#,
    )
    .expect("state");
    for args in [vec!["attach", target.name()], vec!["ls"], vec!["gc"]] {
        let out = host.run(&args);
        common::assert_fails(&out, 1);
        assert!(
            out.stderr().contains("earlier netns-bridge version"),
            "{args:?}: {}",
            out.stderr()
        );
    }
    assert_eq!(host.links(), ["lo"]);
    assert!(old.join("state.json").exists(), "left as it was");
}
