//! attach, detach, ls, gc and down, each run the way a user would, inside a throwaway
//! namespace that plays the host; results checked with `ip` and TCP connections.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{addresses_of, connects, host_veths, links_of, wait_for, Host, Listener};
use testkit::{NetnsGuard, Outcome, ProcessGuard};

#[test]
fn two_namespaces_reach_each_other_and_the_gateway() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    let addr_a = host
        .run(["attach", a.name(), "--subnet", "10.77.0.0/24"])
        .success();
    let addr_b = host.run(["attach", &b.path()]).success();
    assert_eq!(addr_a, "10.77.0.2/24\n");
    assert_eq!(addr_b, "10.77.0.3/24\n");

    // The kernel's view: the address inside, lo up, the default route, the bridge.
    assert_eq!(addresses_of(a.name(), "eth0"), ["10.77.0.2/24"]);
    assert_eq!(addresses_of(host.ns.name(), "nsbr0"), ["10.77.0.1/24"]);
    let route = Command::new("ip")
        .args(["-n", a.name(), "route", "show", "default"])
        .output()
        .expect("ip route");
    assert!(String::from_utf8_lossy(&route.stdout).contains("via 10.77.0.1 dev eth0"));
    let lo = Command::new("ip")
        .args(["-n", a.name(), "-o", "link", "show", "lo"])
        .output()
        .expect("ip link");
    assert!(String::from_utf8_lossy(&lo.stdout).contains(",UP"));
    assert_eq!(host_veths(&host.links()).len(), 2);

    let in_b = Listener::start(&b.path(), "10.77.0.3");
    assert!(connects(&a.path(), in_b.addr), "a cannot reach b");
    let on_gateway = Listener::start(&host.ns.path(), "10.77.0.1");
    assert!(
        connects(&a.path(), on_gateway.addr),
        "a cannot reach the gateway"
    );
    assert!(
        connects(&b.path(), on_gateway.addr),
        "b cannot reach the gateway"
    );

    // Attaching again is idempotent: the same address, nothing new.
    assert_eq!(host.run(["attach", a.name()]).success(), addr_a);
    assert_eq!(host_veths(&host.links()).len(), 2);

    // --json carries the whole attachment.
    let json = host.run(["attach", a.name(), "--json"]).success();
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["address"], "10.77.0.2/24");
    assert_eq!(v["gateway"], "10.77.0.1");
    assert_eq!(v["bridge"], "nsbr0");
    assert_eq!(v["interface"], "eth0");
    assert_eq!(v["mac"], "02:6e:0a:4d:00:02");
    assert!(host
        .links()
        .contains(&v["host_veth"].as_str().unwrap_or("").to_string()));
}

#[test]
fn default_subnet_avoids_the_hosts_routes_and_options_apply() {
    testkit::require_root!();
    let host = Host::new();
    // A route in the test's host namespace over the first default candidate.
    let status = host
        .program("ip")
        .args(["link", "add", "dummy9", "type", "bridge"])
        .status()
        .expect("ip");
    assert!(status.success());
    for args in [
        &["addr", "add", "10.213.0.5/23", "dev", "dummy9"][..],
        &["link", "set", "dummy9", "up"],
    ] {
        assert!(host
            .program("ip")
            .args(args)
            .status()
            .expect("ip")
            .success());
    }
    let a = NetnsGuard::new();
    let out = host
        .run([
            "attach",
            a.name(),
            "--ifname",
            "net1",
            "--mtu",
            "1400",
            "--no-default-route",
            "--ip",
            "10.213.2.9",
        ])
        .success();
    assert_eq!(out, "10.213.2.9/24\n");
    let link = Command::new("ip")
        .args(["-n", a.name(), "-o", "link", "show", "net1"])
        .output()
        .expect("ip");
    assert!(String::from_utf8_lossy(&link.stdout).contains("mtu 1400"));
    let route = Command::new("ip")
        .args(["-n", a.name(), "route", "show", "default"])
        .output()
        .expect("ip");
    assert!(route.stdout.is_empty(), "no default route expected");
}

#[test]
fn concurrent_attaches_get_distinct_addresses() {
    testkit::require_root!();
    let host = Host::new();
    let targets: Vec<NetnsGuard> = (0..32).map(|_| NetnsGuard::new()).collect();
    let children: Vec<ProcessGuard> = targets
        .iter()
        .map(|t| {
            let mut cmd = host.command(["attach", t.name(), "--subnet", "10.78.0.0/24"]);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            ProcessGuard::new(cmd.spawn().expect("spawn attach"))
        })
        .collect();
    let mut addresses = BTreeSet::new();
    for mut child in children {
        let mut out = String::new();
        let mut err = String::new();
        use std::io::Read;
        if let Some(s) = child.child().stdout.as_mut() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(s) = child.child().stderr.as_mut() {
            let _ = s.read_to_string(&mut err);
        }
        let status = child
            .wait_timeout(Duration::from_secs(30))
            .expect("attach finished");
        assert!(status.success(), "attach failed: {err}");
        addresses.insert(out.trim().to_string());
    }
    assert_eq!(addresses.len(), 32, "{addresses:?}");
    assert_eq!(host_veths(&host.links()).len(), 32);
    assert_eq!(host.lease_count("nsbr0"), 32);
    for t in &targets {
        assert_eq!(addresses_of(t.name(), "eth0").len(), 1);
    }

    // One detach for all of them (deleted as one link group).
    let mut args = vec!["detach".to_string()];
    args.extend(targets.iter().map(|t| t.name().to_string()));
    host.run(&args).expect_code(0);
    assert!(host_veths(&host.links()).is_empty());
    assert_eq!(host.lease_count("nsbr0"), 0);
    for t in &targets {
        assert_eq!(links_of(t.name()), ["lo"]);
    }
    assert!(host.links().contains(&"nsbr0".to_string()));
}

#[test]
fn detach_leaves_no_link_and_no_lease_and_the_address_is_reused() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    let c = NetnsGuard::new();
    assert_eq!(
        host.run(["attach", a.name(), "--subnet", "10.79.0.0/24"])
            .success(),
        "10.79.0.2/24\n"
    );
    assert_eq!(host.run(["attach", b.name()]).success(), "10.79.0.3/24\n");

    let ls: serde_json::Value =
        serde_json::from_str(&host.run(["ls", "--json"]).success()).expect("ls json");
    let ls = &ls["attachments"];
    assert_eq!(ls.as_array().map(|a| a.len()), Some(2));
    assert_eq!(ls[0]["alive"], true);

    assert!(host.run(["detach", a.name()]).success().is_empty());
    assert!(!links_of(a.name()).contains(&"eth0".to_string()));
    assert_eq!(host_veths(&host.links()).len(), 1);
    assert_eq!(host.lease_count("nsbr0"), 1);
    // Again, and one never attached: nothing there is success.
    host.run(["detach", a.name()]).expect_code(0);
    let never = NetnsGuard::new();
    host.run(["detach", never.name()]).expect_code(0);

    assert_eq!(host.run(["attach", c.name()]).success(), "10.79.0.2/24\n");

    // A named namespace deleted while attached: detach by its name still releases.
    let c_name = c.name().to_string();
    drop(c);
    assert!(host.wait_for_host_veths(1, Duration::from_secs(5)));
    host.run(["detach", &c_name]).expect_code(0);
    assert_eq!(host.lease_count("nsbr0"), 1);

    // down refuses while b is attached, then --force removes everything.
    common::assert_fails(&host.run(["down"]), 1);
    host.run(["down", "--force"]).expect_code(0);
    assert_eq!(host.links(), ["lo"]);
    assert!(!host.bridge_dir("nsbr0").exists());
    host.run(["down"]).expect_code(0);
}

#[test]
fn gc_releases_what_a_killed_process_held() {
    testkit::require_root!();
    let host = Host::new();
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "sleep", "600"]);
    let holder = ProcessGuard::new(cmd.spawn().expect("spawn unshare"));
    let pid = holder.pid();
    let own = std::fs::read_link("/proc/self/ns/net").expect("own netns");
    assert!(wait_for(Duration::from_secs(5), || {
        std::fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|l| l != own)
            && std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_ok_and(|e| e.to_string_lossy().contains("sleep"))
    }));
    let keep = NetnsGuard::new();
    host.run(["attach", &pid.to_string(), "--subnet", "10.80.0.0/24"])
        .success();
    host.run(["attach", keep.name()]).success();
    assert_eq!(host_veths(&host.links()).len(), 2);

    drop(holder);
    assert!(host.wait_for_host_veths(1, Duration::from_secs(10)));
    let ls: serde_json::Value =
        serde_json::from_str(&host.run(["ls", "--json"]).success()).expect("ls");
    let ls = &ls["attachments"];
    let dead = ls
        .as_array()
        .map(|a| a.iter().filter(|e| e["alive"] == false).count());
    assert_eq!(dead, Some(1));
    host.run(["gc"]).expect_code(0);
    assert_eq!(host.lease_count("nsbr0"), 1);
    assert_eq!(host_veths(&host.links()).len(), 1);
    let ls: serde_json::Value =
        serde_json::from_str(&host.run(["ls", "--json"]).success()).expect("ls");
    let ls = &ls["attachments"];
    assert_eq!(ls[0]["namespace"], keep.path());
}

#[test]
fn a_full_subnet_takes_back_the_leases_of_dead_namespaces() {
    testkit::require_root!();
    let host = Host::new();
    let first = NetnsGuard::new();
    host.run(["attach", first.name(), "--subnet", "10.88.0.0/30"])
        .success();
    // The namespace dies without a detach; its lease stays until someone needs it.
    drop(first);
    assert!(host.wait_for_host_veths(0, Duration::from_secs(10)));
    assert_eq!(host.lease_count("nsbr0"), 1);
    let second = NetnsGuard::new();
    assert_eq!(
        host.run(["attach", second.name()]).success(),
        "10.88.0.2/30\n"
    );
    assert_eq!(host.lease_count("nsbr0"), 1);
}

#[test]
fn one_gc_right_after_the_namespaces_go_releases_them_all() {
    testkit::require_root!();
    let host = Host::new();
    let keep = NetnsGuard::new();
    host.run(["attach", keep.name(), "--subnet", "10.86.0.0/24"])
        .success();
    for round in 0..3 {
        let doomed: Vec<NetnsGuard> = (0..6).map(|_| NetnsGuard::new()).collect();
        for ns in &doomed {
            host.run(["attach", ns.name()]).success();
        }
        assert_eq!(host.lease_count("nsbr0"), 7);
        // Deleted, and gc at once: the kernel may not have destroyed them yet.
        drop(doomed);
        host.run(["gc"]).expect_code(0);
        assert_eq!(host.lease_count("nsbr0"), 1, "round {round}");
        assert_eq!(host_veths(&host.links()).len(), 1, "round {round}");
    }
    // The namespace still alive was never waited for, nor released.
    let started = std::time::Instant::now();
    host.run(["gc"]).expect_code(0);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(host.lease_count("nsbr0"), 1);
}

#[test]
fn gc_removes_tagged_veths_without_a_lease() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    host.run(["attach", a.name(), "--subnet", "10.81.0.0/24"])
        .success();
    // Lose the state (as after a crash between steps): the tag still finds the veth.
    std::fs::write(
        host.bridge_dir("nsbr0").join("state.json"),
        r#"{"bridge":{"subnet":"10.81.0.0/24"},"leases":[]}"#,
    )
    .expect("write state");
    host.run(["gc"]).expect_code(0);
    assert!(host_veths(&host.links()).is_empty());
    assert!(!links_of(a.name()).contains(&"eth0".to_string()));
}

/// What the host and state look like, to compare before and after a failure.
fn snapshot(host: &Host) -> (Vec<String>, usize) {
    (host.links(), host.lease_count("nsbr0"))
}

#[test]
fn bad_input_fails_cleanly_and_leaves_nothing() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let not_netns = file.path().display().to_string();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (
            vec!["attach", a.name(), "--bridge", "a-bridge-name-too-long"],
            2,
        ),
        (vec!["attach", a.name(), "--bridge", "br/0"], 2),
        (vec!["attach", a.name(), "--ifname", "eth 0"], 2),
        (vec!["attach", a.name(), "--ifname", ""], 2),
        (vec!["attach", a.name(), "--subnet", "10.82.0.1/24"], 2),
        (vec!["attach", a.name(), "--subnet", "10.82.0.0/33"], 2),
        (vec!["attach", a.name(), "--subnet", "nonsense"], 2),
        (
            vec![
                "attach",
                a.name(),
                "--subnet",
                "10.82.0.0/24",
                "--ip",
                "10.83.0.5",
            ],
            2,
        ),
        (
            vec![
                "attach",
                a.name(),
                "--subnet",
                "10.82.0.0/24",
                "--ip",
                "10.82.0.1",
            ],
            2,
        ),
        (vec!["attach", a.name(), "--ip", "bogus"], 2),
        (vec!["attach", a.name(), "--mtu", "10"], 2),
        (vec!["attach", &not_netns], 2),
        (vec!["attach", "/proc/self/ns/pid"], 2),
        (vec!["attach", "no-such-namespace-here"], 2),
        (vec!["attach", "/proc/self/ns/net"], 2),
        (vec!["detach", a.name(), "--bridge", "bad bridge"], 2),
        (vec!["attach"], 2),
        (vec!["frobnicate"], 2),
    ];
    for (args, code) in &cases {
        let before = snapshot(&host);
        let out = host.run(args);
        common::assert_fails(&out, *code);
        assert_eq!(snapshot(&host), before, "{args:?} left something behind");
        assert!(!host.bridge_dir("nsbr0").exists(), "{args:?} left state");
    }

    // A full /30 (one address): the second attach fails and leaves nothing of itself.
    host.run(["attach", a.name(), "--subnet", "10.84.0.0/30"])
        .success();
    let before = snapshot(&host);
    let full = host.run(["attach", b.name()]);
    common::assert_fails(&full, 3);
    assert!(full.stderr().contains("full"), "{}", full.stderr());
    assert_eq!(snapshot(&host), before);
    assert_eq!(links_of(b.name()), ["lo"]);
    // A taken static address, and another subnet for an existing bridge.
    common::assert_fails(&host.run(["attach", b.name(), "--ip", "10.84.0.2"]), 3);
    common::assert_fails(
        &host.run(["attach", b.name(), "--subnet", "10.85.0.0/24"]),
        2,
    );
    assert_eq!(snapshot(&host), before);
}

#[test]
fn a_failing_step_is_rolled_back_completely() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    // eth0 exists inside already: the veth cannot be made, after the bridge and the
    // lease were. Everything, including the new bridge, must go again.
    let ok = Command::new("ip")
        .args(["-n", a.name(), "link", "add", "eth0", "type", "bridge"])
        .status()
        .expect("ip");
    assert!(ok.success());
    let out = host.run(["attach", a.name(), "--subnet", "10.86.0.0/24"]);
    common::assert_fails(&out, 2);
    assert_eq!(host.links(), ["lo"]);
    assert!(!host.bridge_dir("nsbr0").exists());
    assert_eq!(links_of(a.name()), ["lo", "eth0"]);

    // With the bridge there from an earlier attach, only this attach's steps go.
    let b = NetnsGuard::new();
    host.run(["attach", b.name(), "--subnet", "10.86.0.0/24"])
        .success();
    let before = snapshot(&host);
    common::assert_fails(&host.run(["attach", a.name()]), 2);
    assert_eq!(snapshot(&host), before);

    // A static address already used inside: the address step fails after the veth
    // exists (EEXIST from the kernel is not the case here; use a conflicting route).
    let c = NetnsGuard::new();
    let ok = Command::new("ip")
        .args(["-n", c.name(), "link", "set", "lo", "up"])
        .status()
        .expect("ip");
    assert!(ok.success());
    let ok = Command::new("ip")
        .args(["-n", c.name(), "route", "add", "blackhole", "default"])
        .status()
        .expect("ip");
    assert!(ok.success());
    let out: Outcome = host.run(["attach", c.name()]);
    common::assert_fails(&out, 1);
    assert!(out.stderr().contains("default route"), "{}", out.stderr());
    assert_eq!(snapshot(&host), before);
    assert!(!links_of(c.name()).contains(&"eth0".to_string()));
}

#[test]
fn nat_makes_its_table_and_down_removes_it() {
    testkit::require_root!();
    testkit::require_program!("nft");
    let host = Host::new();
    let a = NetnsGuard::new();
    host.run(["attach", a.name(), "--subnet", "10.87.0.0/24", "--nat"])
        .success();
    let list = host
        .program("nft")
        .args(["list", "table", "ip", "netns-bridge-nsbr0"])
        .output()
        .expect("nft");
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("masquerade"), "{text}");
    assert!(text.contains("10.87.0.0/24"), "{text}");
    let forwarding = host
        .program("cat")
        .arg("/proc/sys/net/ipv4/ip_forward")
        .output()
        .expect("cat");
    assert_eq!(String::from_utf8_lossy(&forwarding.stdout).trim(), "1");

    host.run(["down", "--force"]).expect_code(0);
    let gone = host
        .program("nft")
        .args(["list", "table", "ip", "netns-bridge-nsbr0"])
        .output()
        .expect("nft");
    assert!(!gone.status.success(), "the NAT table is still there");
    assert_eq!(host.links(), ["lo"]);
}
