//! Dual stack: `--subnet6` gives the bridge an IPv6 gateway and every namespace an IPv6
//! address (usable at once: no duplicate address detection), a default route of each
//! family, and with `--nat` an `ip6` table too.

mod common;

use std::process::Command;

use common::{connects, host_veths, Host, Listener};
use testkit::NetnsGuard;

/// `ip -6 ARGS` in the named namespace.
fn ip6(netns: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["-n", netns, "-6"])
        .args(args)
        .output()
        .expect("ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn both_families_reach_each_other() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    let args = ["--subnet", "10.71.0.0/24", "--subnet6", "fd71::/64"];
    let mut first = vec!["attach", a.name()];
    first.extend(args);
    assert_eq!(host.run(first).success(), "10.71.0.2/24\nfd71::2/64\n");
    // Remembered with the bridge, as the IPv4 subnet is.
    assert_eq!(
        host.run(["attach", b.name()]).success(),
        "10.71.0.3/24\nfd71::3/64\n"
    );

    // The kernel's view: the addresses, not tentative; the routes; the bridge's gateway.
    // (The link-local address still runs DAD; the global one is usable at once.)
    let global = |text: &str, ip: &str| {
        text.lines()
            .find(|l| l.contains(&format!("inet6 {ip}")))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let addr = global(
        &ip6(a.name(), &["addr", "show", "dev", "eth0"]),
        "fd71::2/64",
    );
    assert!(
        addr.contains("nodad") && !addr.contains("tentative"),
        "{addr}"
    );
    let route = ip6(a.name(), &["route", "show", "default"]);
    assert!(route.contains("via fd71::1 dev eth0"), "{route}");
    let gw = global(
        &ip6(host.ns.name(), &["addr", "show", "dev", "nsbr0"]),
        "fd71::1/64",
    );
    assert!(gw.contains("nodad") && !gw.contains("tentative"), "{gw}");

    let in_b = Listener::start(&b.path(), "[fd71::3]");
    assert!(connects(&a.path(), in_b.addr), "a cannot reach b over IPv6");
    let on_gateway = Listener::start(&host.ns.path(), "[fd71::1]");
    assert!(
        connects(&a.path(), on_gateway.addr),
        "a cannot reach the gateway"
    );

    let v: serde_json::Value =
        serde_json::from_str(&host.run(["attach", a.name(), "--json"]).success()).expect("json");
    assert_eq!(v["address6"], "fd71::2/64");
    assert_eq!(v["gateway6"], "fd71::1");
    let ls: serde_json::Value =
        serde_json::from_str(&host.run(["ls", "--json"]).success()).expect("ls");
    let mut six: Vec<&str> = ls["attachments"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["address6"].as_str())
        .collect();
    six.sort();
    assert_eq!(six, ["fd71::2/64", "fd71::3/64"]);

    // Another IPv6 subnet for this bridge is refused, and so is one for a bridge that
    // was made without.
    let c = NetnsGuard::new();
    let d = NetnsGuard::new();
    common::assert_fails(&host.run(["attach", c.name(), "--subnet6", "fd72::/64"]), 2);
    host.run([
        "attach",
        c.name(),
        "-b",
        "v4only",
        "--subnet",
        "10.72.0.0/24",
    ])
    .success();
    common::assert_fails(
        &host.run(["attach", d.name(), "-b", "v4only", "--subnet6", "fd73::/64"]),
        2,
    );
    host.run(["down", "--force"]).expect_code(0);
    assert_eq!(host_veths(&host.links()).len(), 1);
    host.run(["down", "-b", "v4only", "--force"]).expect_code(0);
    assert_eq!(host.links(), ["lo"]);
}

#[test]
fn nat_masquerades_both_families() {
    testkit::require_root!();
    testkit::require_program!("nft");
    let host = Host::new();
    let a = NetnsGuard::new();
    host.run([
        "attach",
        a.name(),
        "--subnet",
        "10.74.0.0/24",
        "--subnet6",
        "fd74::/64",
        "--nat",
    ])
    .success();
    let table = |family: &str| {
        host.program("nft")
            .args(["list", "table", family, "netns-bridge-nsbr0"])
            .output()
            .expect("nft")
    };
    let six = table("ip6");
    assert!(six.status.success());
    assert!(String::from_utf8_lossy(&six.stdout).contains("ip6 saddr fd74::/64"));
    assert!(table("ip").status.success());
    host.run(["down", "--force"]).expect_code(0);
    assert!(!table("ip6").status.success());
    assert!(!table("ip").status.success());
    assert_eq!(host.links(), ["lo"]);
}

#[test]
fn a_published_port_is_reached_over_both_families() {
    testkit::require_root!();
    testkit::require_program!("nft");
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    let args = ["--subnet", "10.77.0.0/24", "--subnet6", "fd77::/64"];
    for ns in [&a, &b] {
        let mut attach = vec!["attach", ns.name()];
        attach.extend(args);
        host.run(attach).success();
    }
    // One listener on both families (IPv6 socket, not v6-only).
    let server = Listener::start(&a.path(), "[::]");
    let mapping = format!("18081:{}", server.addr.port());
    host.run(["publish", a.name(), &mapping]).expect_code(0);
    for addr in ["10.77.0.1:18081", "[fd77::1]:18081"] {
        let addr: std::net::SocketAddr = addr.parse().expect("addr");
        assert!(connects(&host.ns.path(), addr), "{addr} from the host");
        assert!(connects(&b.path(), addr), "{addr} from b");
        assert!(connects(&a.path(), addr), "{addr} from a itself");
    }
    host.run(["down", "--force"]).expect_code(0);
    let table = host
        .program("nft")
        .args(["list", "table", "ip6", "netns-bridge-ports-nsbr0"])
        .output()
        .expect("nft");
    assert!(!table.status.success());
}

#[test]
fn static_ipv6_addresses_are_given_or_refused_cleanly() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    let out = host.run([
        "attach",
        a.name(),
        "--subnet",
        "10.78.0.0/24",
        "--subnet6",
        "fd78::/64",
        "--ip6",
        "fd78::50",
    ]);
    assert_eq!(out.success(), "10.78.0.2/24\nfd78::50/64\n");
    // Taken (exit 3), outside or the gateway (exit 2), and nothing left of b.
    common::assert_fails(&host.run(["attach", b.name(), "--ip6", "fd78::50"]), 3);
    common::assert_fails(&host.run(["attach", b.name(), "--ip6", "fd79::5"]), 2);
    common::assert_fails(&host.run(["attach", b.name(), "--ip6", "fd78::1"]), 2);
    common::assert_fails(&host.run(["attach", b.name(), "--ip6", "bogus"]), 2);
    common::assert_fails(&host.run(["attach", a.name(), "--ip6", "fd78::51"]), 2);
    assert_eq!(common::links_of(b.name()), ["lo"]);
    assert_eq!(host.lease_count("nsbr0"), 1);
    host.run(["down", "--force"]).expect_code(0);
}
