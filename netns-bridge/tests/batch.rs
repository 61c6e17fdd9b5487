//! `attach TARGET...`: several namespaces in one call, all or nothing, checked against
//! the kernel's view.

mod common;

use common::{addresses_of, assert_fails, host_veths, links_of, Host};
use testkit::NetnsGuard;

#[test]
fn several_targets_are_attached_in_one_call_in_the_order_given() {
    testkit::require_root!();
    let host = Host::new();
    let targets: Vec<NetnsGuard> = (0..5).map(|_| NetnsGuard::new()).collect();
    // Given in reverse: the addresses come out in that order.
    let mut args = vec!["attach", "--subnet", "10.61.0.0/24"];
    args.extend(targets.iter().rev().map(|t| t.name()));
    let out = host.run(&args).success();
    let printed: Vec<&str> = out.lines().collect();
    assert_eq!(printed.len(), 5, "{out}");
    for (target, address) in targets.iter().rev().zip(&printed) {
        assert_eq!(addresses_of(target.name(), "eth0"), [address.to_string()]);
    }
    assert_eq!(printed[0], "10.61.0.2/24");
    assert_eq!(host_veths(&host.links()).len(), 5);
    assert_eq!(host.lease_count("nsbr0"), 5);
    // Again, with one more: the attached ones keep their addresses.
    let extra = NetnsGuard::new();
    let mut again = vec!["attach", "--json", targets[0].name(), extra.name()];
    again.push(targets[1].name());
    let json = host.run(&again).success();
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    let all = doc["attachments"].as_array().expect("attachments");
    assert_eq!(all.len(), 3, "{doc}");
    assert_eq!(
        all[0]["address"],
        addresses_of(targets[0].name(), "eth0")[0].as_str()
    );
    assert_eq!(
        all[1]["address"],
        addresses_of(extra.name(), "eth0")[0].as_str()
    );
    assert_eq!(all[1]["netns_path"], format!("/run/netns/{}", extra.name()));
    assert_eq!(host_veths(&host.links()).len(), 6);
    host.run(["down", "--force"]).expect_code(0);
    assert_eq!(host.links(), ["lo"]);
}

#[test]
fn one_failing_target_undoes_the_whole_call() {
    testkit::require_root!();
    let host = Host::new();
    let kept = NetnsGuard::new();
    host.run(["attach", kept.name(), "--subnet", "10.62.0.0/24"])
        .success();
    let before = (host.links(), host.lease_count("nsbr0"));
    let (a, b, bad) = (NetnsGuard::new(), NetnsGuard::new(), NetnsGuard::new());
    // The last one has an eth0 already: the kernel refuses its veth pair.
    let status = std::process::Command::new("ip")
        .args(["-n", bad.name(), "link", "add", "eth0", "type", "bridge"])
        .status()
        .expect("ip");
    assert!(status.success());
    let out = host.run(["attach", a.name(), b.name(), bad.name()]);
    assert_fails(&out, 2);
    assert!(out.stderr().contains("eth0"), "{}", out.stderr());
    assert_eq!((host.links(), host.lease_count("nsbr0")), before);
    assert_eq!(links_of(a.name()), ["lo"]);
    assert_eq!(links_of(b.name()), ["lo"]);
    // A new bridge made by the call goes too.
    let out = host.run(["attach", "-b", "br9", a.name(), bad.name()]);
    assert_fails(&out, 2);
    assert_eq!((host.links(), host.lease_count("nsbr0")), before);
    assert!(!host.bridge_dir("br9").exists());
    // A TARGET that is no namespace: nothing touched at all.
    let out = host.run(["attach", a.name(), "/nonexistent/netns"]);
    assert_fails(&out, 2);
    assert_eq!((host.links(), host.lease_count("nsbr0")), before);
}

#[test]
fn a_static_address_or_a_namespace_named_twice_is_a_usage_error() {
    testkit::require_root!();
    let host = Host::new();
    let (a, b) = (NetnsGuard::new(), NetnsGuard::new());
    for args in [
        vec!["attach", a.name(), b.name(), "--ip", "10.63.0.5"],
        vec!["attach", a.name(), b.name(), "--ip6", "fd63::5"],
        vec!["attach", a.name(), b.name(), a.name()],
    ] {
        let out = host.run(&args);
        assert_fails(&out, 2);
    }
    let twice = host.run(["attach", a.name(), &format!("/run/netns/{}", a.name())]);
    assert_fails(&twice, 2);
    assert!(
        twice.stderr().contains("same namespace"),
        "{}",
        twice.stderr()
    );
    assert_eq!(host.links(), ["lo"]);
    assert_eq!(links_of(a.name()), ["lo"]);
}
