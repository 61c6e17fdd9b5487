//! Published ports: a listener in an attached namespace reached through a port of the
//! host, from the host namespace itself, from another namespace and from its own
//! (hairpin); removed by unpublish and with the attachment; listed by ls.

mod common;

use std::net::SocketAddr;

use common::{connects, Host, Listener};
use testkit::NetnsGuard;

#[test]
fn a_published_port_is_reached_from_everywhere_and_goes_with_the_attachment() {
    testkit::require_root!();
    testkit::require_program!("nft");
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    let loner = NetnsGuard::new();
    host.run(["attach", a.name(), "--subnet", "10.75.0.0/24"])
        .success();
    host.run(["attach", b.name()]).success();
    let server = Listener::start(&a.path(), "10.75.0.2");
    let mapping = format!("18080:{}", server.addr.port());
    host.run(["publish", a.name(), &mapping]).expect_code(0);
    // Again: nothing new.
    host.run(["publish", a.name(), &mapping]).expect_code(0);

    let published: SocketAddr = "10.75.0.1:18080".parse().expect("addr");
    assert!(
        connects(&host.ns.path(), published),
        "from the host namespace"
    );
    assert!(connects(&b.path(), published), "from another namespace");
    assert!(connects(&a.path(), published), "from its own (hairpin)");

    let ls: serde_json::Value = serde_json::from_str(
        &host
            .run(["ls", "--json", "-o", "namespace,ports"])
            .success(),
    )
    .expect("ls");
    let of_a = ls["attachments"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["namespace"] == a.path())
        .cloned()
        .expect("a listed");
    assert_eq!(of_a["ports"][0]["host_port"], 18080);
    assert_eq!(of_a["ports"][0]["port"], server.addr.port());
    assert_eq!(of_a["ports"][0]["proto"], "tcp");
    assert!(host.run(["ls"]).success().contains("18080:"));

    // Taken, not attached, malformed.
    common::assert_fails(&host.run(["publish", b.name(), "18080:80"]), 1);
    common::assert_fails(&host.run(["publish", loner.name(), "18081:80"]), 2);
    common::assert_fails(&host.run(["publish", a.name(), "18081"]), 2);

    host.run(["unpublish", a.name(), "18080"]).expect_code(0);
    assert!(!connects(&host.ns.path(), published), "unpublished");
    host.run(["unpublish", a.name(), "18080"]).expect_code(0);

    // Published again, then detached: the table goes with the last port.
    host.run(["publish", a.name(), &mapping]).expect_code(0);
    let table = || {
        host.program("nft")
            .args(["list", "table", "ip", "netns-bridge-ports-nsbr0"])
            .output()
            .expect("nft")
            .status
            .success()
    };
    assert!(table());
    host.run(["detach", a.name()]).expect_code(0);
    assert!(!table());
    host.run(["down", "--force"]).expect_code(0);
    assert_eq!(host.links(), ["lo"]);
}
