//! CNI plugin mode, driven the way a runtime drives a plugin: CNI_* in the environment,
//! the network configuration on stdin, the result or error as JSON on stdout. The ADD
//! result is compared with the reference bridge plugin's (containernetworking-plugins).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{addresses_of, links_of, Host};
use serde_json::Value;
use testkit::{NetnsGuard, Outcome};

const REFERENCE_BRIDGE: &str = "/usr/lib/cni/bridge";

/// Runs a CNI plugin inside the host namespace, as a runtime would.
fn plugin(cmd: Command, command: &str, netns: Option<&str>, id: &str, config: &str) -> Outcome {
    run_plugin(cmd, command, netns, id, config, "eth0")
}

fn plugin_with_ifname(
    cmd: Command,
    command: &str,
    netns: &str,
    id: &str,
    config: &str,
    ifname: &str,
) -> Outcome {
    run_plugin(cmd, command, Some(netns), id, config, ifname)
}

fn run_plugin(
    mut cmd: Command,
    command: &str,
    netns: Option<&str>,
    id: &str,
    config: &str,
    ifname: &str,
) -> Outcome {
    cmd.env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", id)
        .env("CNI_IFNAME", ifname)
        .env("CNI_PATH", "/usr/lib/cni")
        .env_remove("NETNS_BRIDGE_STATE_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match netns {
        Some(n) => cmd.env("CNI_NETNS", n),
        None => cmd.env_remove("CNI_NETNS"),
    };
    let mut child = cmd.spawn().expect("spawn plugin");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(config.as_bytes()).expect("write config");
    }
    let output = child.wait_with_output().expect("plugin output");
    Outcome { output }
}

fn ours(host: &Host, command: &str, netns: Option<&str>, id: &str, config: &str) -> Outcome {
    let cmd = host.command(Vec::<String>::new());
    plugin(cmd, command, netns, id, config)
}

fn config(state: &Path, extra: &str) -> String {
    format!(
        r#"{{"cniVersion":"1.0.0","name":"testnet","type":"netns-bridge","bridge":"cnibr0",
            "isGateway":true,"stateDir":"{}",
            "ipam":{{"type":"host-local","ranges":[[{{"subnet":"10.90.0.0/24"}}]],
                     "routes":[{{"dst":"0.0.0.0/0"}}]}}{extra}}}"#,
        state.display()
    )
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

#[test]
fn add_check_del_del_again_and_version() {
    testkit::require_root!();
    let host = Host::new();
    let target = NetnsGuard::new();
    let path = target.path();
    let conf = config(host.path(), "");

    let add = ours(&host, "ADD", Some(&path), "c1", &conf);
    let result: Value = serde_json::from_str(&add.success()).expect("ADD result is JSON");
    assert_eq!(result["cniVersion"], "1.0.0");
    assert_eq!(result["ips"][0]["address"], "10.90.0.2/24");
    assert_eq!(result["ips"][0]["gateway"], "10.90.0.1");
    assert_eq!(result["ips"][0]["interface"], 2);
    assert_eq!(result["interfaces"][0]["name"], "cnibr0");
    assert_eq!(result["interfaces"][2]["sandbox"], path.as_str());
    assert_eq!(addresses_of(target.name(), "eth0"), ["10.90.0.2/24"]);
    assert!(host.links().contains(&"cnibr0".to_string()));

    let check = ours(&host, "CHECK", Some(&path), "c1", &conf);
    assert!(check.success().is_empty());

    let del = ours(&host, "DEL", Some(&path), "c1", &conf);
    assert!(del.success().is_empty());
    assert_eq!(links_of(target.name()), ["lo"]);
    assert_eq!(host.lease_count("cnibr0"), 0);
    // DEL again, and DEL without a namespace (it is gone): both succeed.
    ours(&host, "DEL", Some(&path), "c1", &conf).success();
    ours(&host, "DEL", None, "c1", &conf).success();

    // CHECK after DEL reports an error in CNI's shape.
    let check = ours(&host, "CHECK", Some(&path), "c1", &conf);
    assert_ne!(check.code(), 0);
    let err: Value = serde_json::from_str(&check.stdout()).expect("error JSON");
    assert!(err["code"].as_u64().is_some());
    assert!(err["msg"].as_str().is_some_and(|m| !m.is_empty()));

    let version = ours(&host, "VERSION", None, "", "");
    let v: Value = serde_json::from_str(&version.success()).expect("VERSION JSON");
    let supported = v["supportedVersions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(supported.contains(&Value::from("1.0.0")));
    assert!(supported.contains(&Value::from("0.4.0")));
}

#[test]
fn del_after_the_namespace_is_gone_releases_the_lease() {
    testkit::require_root!();
    let host = Host::new();
    let conf = config(host.path(), "");
    let target = NetnsGuard::new();
    let path = target.path();
    ours(&host, "ADD", Some(&path), "c2", &conf).success();
    drop(target);
    ours(&host, "DEL", Some(&path), "c2", &conf).success();
    assert_eq!(host.lease_count("cnibr0"), 0);
    assert!(host.wait_for_host_veths(0, std::time::Duration::from_secs(5)));
}

#[test]
fn bad_config_and_environment_give_cni_errors() {
    testkit::require_root!();
    let host = Host::new();
    let target = NetnsGuard::new();
    let path = target.path();
    for (conf, code) in [
        ("{not json".to_string(), 6),
        (r#"{"cniVersion":"0.1.0"}"#.to_string(), 1),
        (config(host.path(), r#","mtu":3"#), 7),
        (
            r#"{"cniVersion":"1.0.0","subnet":"10.0.0.1/24"}"#.to_string(),
            7,
        ),
    ] {
        let out = ours(&host, "ADD", Some(&path), "c3", &conf);
        assert_eq!(out.code(), 1, "{conf}");
        let err: Value = serde_json::from_str(&out.stdout()).expect("error JSON");
        assert_eq!(err["code"], code, "{conf}: {err}");
    }
    let out = ours(&host, "ADD", None, "c3", &config(host.path(), ""));
    let err: Value = serde_json::from_str(&out.stdout()).expect("error JSON");
    assert_eq!(err["code"], 4);
    // A bad CNI_IFNAME is a bad environment (code 4), as for the reference plugin.
    let cmd = host.command(Vec::<String>::new());
    let out = plugin_with_ifname(cmd, "ADD", &path, "c3", &config(host.path(), ""), "eth0/x");
    let err: Value = serde_json::from_str(&out.stdout()).expect("error JSON");
    assert_eq!(err["code"], 4, "{err}");
    assert_eq!(links_of(target.name()), ["lo"]);
    assert_eq!(host.links(), ["lo"]);
}

#[test]
fn add_result_has_the_shape_of_the_reference_bridge_plugin() {
    testkit::require_root!();
    testkit::require_program!(REFERENCE_BRIDGE);
    let host = Host::new();
    let data = tempfile::tempdir().expect("host-local data dir");
    let reference_conf = format!(
        r#"{{"cniVersion":"1.0.0","name":"refnet","type":"bridge","bridge":"refbr0",
            "isGateway":true,
            "ipam":{{"type":"host-local","ranges":[[{{"subnet":"10.91.0.0/24"}}]],
                     "routes":[{{"dst":"0.0.0.0/0"}}],"dataDir":"{}"}}}}"#,
        data.path().display()
    );
    let ref_target = NetnsGuard::new();
    let our_target = NetnsGuard::new();
    let reference = plugin(
        host.program(REFERENCE_BRIDGE),
        "ADD",
        Some(&ref_target.path()),
        "r1",
        &reference_conf,
    );
    let theirs: Value = serde_json::from_str(&reference.success()).expect("reference JSON");
    let mine: Value = serde_json::from_str(
        &ours(
            &host,
            "ADD",
            Some(&our_target.path()),
            "o1",
            &config(host.path(), ""),
        )
        .success(),
    )
    .expect("our JSON");

    assert_eq!(keys(&mine), keys(&theirs));
    let (mi, ti) = (&mine["interfaces"], &theirs["interfaces"]);
    assert_eq!(mi.as_array().map(Vec::len), ti.as_array().map(Vec::len));
    for i in 0..3 {
        assert_eq!(keys(&mi[i]), keys(&ti[i]), "interface {i}");
    }
    assert_eq!(keys(&mine["ips"][0]), keys(&theirs["ips"][0]));
    assert_eq!(mine["ips"][0]["interface"], theirs["ips"][0]["interface"]);
    assert_eq!(mine["routes"][0]["dst"], theirs["routes"][0]["dst"]);

    // Without a default route, neither result has a "routes" key.
    let no_route = |c: &str| {
        let mut v: Value = serde_json::from_str(c).expect("config JSON");
        if let Some(ipam) = v["ipam"].as_object_mut() {
            ipam.remove("routes");
        }
        v["isGateway"] = Value::from(false);
        v.to_string()
    };
    let ref2 = NetnsGuard::new();
    let our2 = NetnsGuard::new();
    let reference_conf2 = no_route(&reference_conf);
    let theirs2: Value = serde_json::from_str(
        &plugin(
            host.program(REFERENCE_BRIDGE),
            "ADD",
            Some(&ref2.path()),
            "r2",
            &reference_conf2,
        )
        .success(),
    )
    .expect("reference JSON");
    let mine2: Value = serde_json::from_str(
        &ours(
            &host,
            "ADD",
            Some(&our2.path()),
            "o2",
            &no_route(&config(host.path(), "")),
        )
        .success(),
    )
    .expect("our JSON");
    assert_eq!(keys(&mine2), keys(&theirs2), "{mine2} vs {theirs2}");
    plugin(
        host.program(REFERENCE_BRIDGE),
        "DEL",
        Some(&ref2.path()),
        "r2",
        &reference_conf2,
    )
    .success();

    plugin(
        host.program(REFERENCE_BRIDGE),
        "DEL",
        Some(&ref_target.path()),
        "r1",
        &reference_conf,
    )
    .success();
}

/// The routes inside the named namespace, as `ip route` prints them.
fn routes_of(netns: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", netns, "route", "show"])
        .output()
        .expect("ip route");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A configuration of the reference plugins' shape, on `bridge` with `subnet`, `extra`
/// added to the top level and `range` to the range.
fn conf_on(
    state: &Path,
    version: &str,
    bridge: &str,
    subnet: &str,
    range: &str,
    extra: &str,
) -> String {
    format!(
        r#"{{"cniVersion":"{version}","name":"{bridge}","type":"netns-bridge","bridge":"{bridge}",
            "isGateway":true,"stateDir":"{}",
            "ipam":{{"type":"host-local","ranges":[[{{"subnet":"{subnet}"{range}}}]],
                     "routes":[{{"dst":"0.0.0.0/0"}}]}}{extra}}}"#,
        state.display()
    )
}

#[test]
fn static_addresses_and_a_second_network_as_podman_asks() {
    testkit::require_root!();
    let host = Host::new();
    let first = conf_on(host.path(), "1.0.0", "cnibr4", "10.94.0.0/24", "", "");
    let second = conf_on(host.path(), "1.0.0", "cnibr5", "10.95.0.0/24", "", "");
    let a = NetnsGuard::new();
    // `podman run --ip`: IP= in CNI_ARGS.
    let mut cmd = host.command(Vec::<String>::new());
    cmd.env("CNI_ARGS", "IgnoreUnknown=1;IP=10.94.0.50");
    let add: Value =
        serde_json::from_str(&plugin(cmd, "ADD", Some(&a.path()), "c1", &first).success())
            .expect("ADD result");
    assert_eq!(add["ips"][0]["address"], "10.94.0.50/24");
    assert_eq!(addresses_of(a.name(), "eth0"), ["10.94.0.50/24"]);
    // `podman network connect`: a second network; the first default route is kept.
    let cmd = host.command(Vec::<String>::new());
    let out = plugin_with_ifname(cmd, "ADD", &a.path(), "c1", &second, "eth1");
    out.success();
    assert_eq!(addresses_of(a.name(), "eth1"), ["10.95.0.2/24"]);
    assert!(
        routes_of(a.name()).contains("default via 10.94.0.1 dev eth0"),
        "{}",
        routes_of(a.name())
    );
    // The same address from args.cni.ips and runtimeConfig.ips, each in its own way.
    for (extra, ip) in [
        (r#","args":{"cni":{"ips":["10.94.0.60"]}}"#, "10.94.0.60/24"),
        (
            r#","runtimeConfig":{"ips":["10.94.0.70/24"]}"#,
            "10.94.0.70/24",
        ),
    ] {
        let ns = NetnsGuard::new();
        let conf = conf_on(host.path(), "1.0.0", "cnibr4", "10.94.0.0/24", "", extra);
        ours(&host, "ADD", Some(&ns.path()), &format!("c-{ip}"), &conf).success();
        assert_eq!(addresses_of(ns.name(), "eth0"), [ip]);
        ours(&host, "DEL", Some(&ns.path()), &format!("c-{ip}"), &conf).success();
    }
    // A static address that is taken is CNI's "no address" (100), with nothing made.
    let b = NetnsGuard::new();
    let mut cmd = host.command(Vec::<String>::new());
    cmd.env("CNI_ARGS", "IP=10.94.0.50");
    let out = plugin(cmd, "ADD", Some(&b.path()), "c2", &first);
    let err: Value = serde_json::from_str(&out.stdout()).expect("error JSON");
    assert_eq!(err["code"], 100);
    assert_eq!(links_of(b.name()), ["lo"]);
}

#[test]
fn ranges_routes_hairpin_and_promiscuous_mode_apply() {
    testkit::require_root!();
    let host = Host::new();
    let range = r#","rangeStart":"10.96.0.100","rangeEnd":"10.96.0.101","gateway":"10.96.0.1""#;
    let conf = conf_on(host.path(), "1.1.0", "cnibr6", "10.96.0.0/24", range, "")
        .replace(
            r#"[{"dst":"0.0.0.0/0"}]"#,
            r#"[{"dst":"0.0.0.0/0"},{"dst":"192.168.77.0/24"}]"#,
        )
        .replace(
            r#""isGateway":true"#,
            r#""isGateway":true,"hairpinMode":true,"promiscMode":true"#,
        );
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    let c = NetnsGuard::new();
    let add: Value =
        serde_json::from_str(&ours(&host, "ADD", Some(&a.path()), "a", &conf).success())
            .expect("ADD result");
    assert_eq!(add["cniVersion"], "1.1.0");
    assert_eq!(add["ips"][0]["address"], "10.96.0.100/24");
    assert_eq!(add["routes"][1]["dst"], "192.168.77.0/24");
    assert!(
        routes_of(a.name()).contains("192.168.77.0/24 via 10.96.0.1 dev eth0"),
        "{}",
        routes_of(a.name())
    );
    ours(&host, "ADD", Some(&b.path()), "b", &conf).success();
    assert_eq!(addresses_of(b.name(), "eth0"), ["10.96.0.101/24"]);
    // The range is full: CNI's "no address".
    let full = ours(&host, "ADD", Some(&c.path()), "c", &conf);
    let err: Value = serde_json::from_str(&full.stdout()).expect("error JSON");
    assert_eq!(err["code"], 100);
    // The kernel's view: hairpin on the host veth, the bridge promiscuous.
    let veth = add["interfaces"][1]["name"]
        .as_str()
        .expect("host veth")
        .to_string();
    let detail = |dev: &str| {
        let out = host
            .program("ip")
            .args(["-d", "link", "show", "dev", dev])
            .output()
            .expect("ip");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(detail(&veth).contains("hairpin on"), "{}", detail(&veth));
    assert!(detail("cnibr6").contains("PROMISC"), "{}", detail("cnibr6"));
}

#[test]
fn cni_1_1_gc_and_status_and_unimplemented_keys() {
    testkit::require_root!();
    let host = Host::new();
    let conf = conf_on(host.path(), "1.1.0", "cnibr7", "10.97.0.0/24", "", "");
    let keep = NetnsGuard::new();
    let drop_it = NetnsGuard::new();
    ours(&host, "ADD", Some(&keep.path()), "keep", &conf).success();
    ours(&host, "ADD", Some(&drop_it.path()), "stale", &conf).success();
    assert_eq!(host.lease_count("cnibr7"), 2);

    // GC: every attachment but the valid ones goes, in one call.
    let gc_conf = conf.replacen(
        '{',
        r#"{"cni.dev/valid-attachments":[{"containerID":"keep","ifname":"eth0"}],"#,
        1,
    );
    let gc = ours(&host, "GC", None, "", &gc_conf);
    assert!(gc.success().is_empty());
    assert_eq!(host.lease_count("cnibr7"), 1);
    assert_eq!(links_of(drop_it.name()), ["lo"]);
    assert_eq!(addresses_of(keep.name(), "eth0"), ["10.97.0.2/24"]);

    // STATUS: ready, nothing printed.
    assert!(ours(&host, "STATUS", None, "", &conf).success().is_empty());

    // A documented key netns-bridge does not implement: code 7, naming it, nothing made.
    let other = NetnsGuard::new();
    for (extra, key) in [
        (r#","vlan":12"#, "vlan"),
        (r#","macspoofchk":true"#, "macspoofchk"),
    ] {
        let bad = conf_on(host.path(), "1.1.0", "cnibr8", "10.98.0.0/24", "", extra);
        let out = ours(&host, "ADD", Some(&other.path()), "x", &bad);
        let err: Value = serde_json::from_str(&out.stdout()).expect("error JSON");
        assert_eq!(err["code"], 7);
        assert!(
            err["msg"].as_str().is_some_and(|m| m.contains(key)),
            "{err}"
        );
        assert_eq!(links_of(other.name()), ["lo"]);
        assert!(!host.links().contains(&"cnibr8".to_string()));
    }
}

#[test]
fn dual_stack_from_an_ipv6_range_set() {
    testkit::require_root!();
    let host = Host::new();
    let conf = conf_on(host.path(), "1.1.0", "cnibr9", "10.99.0.0/24", "", "")
        .replace(
            r#"{"subnet":"10.99.0.0/24"}]]"#,
            r#"{"subnet":"10.99.0.0/24"}],[{"subnet":"fd99::/64","gateway":"fd99::1"}]]"#,
        )
        .replace(
            r#"[{"dst":"0.0.0.0/0"}]"#,
            r#"[{"dst":"0.0.0.0/0"},{"dst":"::/0"}]"#,
        );
    let a = NetnsGuard::new();
    let add: Value =
        serde_json::from_str(&ours(&host, "ADD", Some(&a.path()), "a", &conf).success())
            .expect("ADD result");
    assert_eq!(add["ips"][0]["address"], "10.99.0.2/24");
    assert_eq!(add["ips"][1]["address"], "fd99::2/64");
    assert_eq!(add["ips"][1]["gateway"], "fd99::1");
    assert_eq!(
        add["routes"][1],
        serde_json::json!({"dst": "::/0", "gw": "fd99::1"})
    );
    let out = Command::new("ip")
        .args(["-n", a.name(), "-6", "route", "show", "default"])
        .output()
        .expect("ip");
    assert!(String::from_utf8_lossy(&out.stdout).contains("via fd99::1 dev eth0"));
    // Static addresses of both families, as `podman run --ip --ip6` ask.
    let b = NetnsGuard::new();
    let mut cmd = host.command(Vec::<String>::new());
    cmd.env("CNI_ARGS", "IgnoreUnknown=1;IP=10.99.0.40,fd99::40");
    let add: Value =
        serde_json::from_str(&plugin(cmd, "ADD", Some(&b.path()), "b", &conf).success())
            .expect("ADD result");
    assert_eq!(add["ips"][0]["address"], "10.99.0.40/24");
    assert_eq!(add["ips"][1]["address"], "fd99::40/64");
    ours(&host, "DEL", Some(&b.path()), "b", &conf).success();
    ours(&host, "DEL", Some(&a.path()), "a", &conf).success();
    assert_eq!(links_of(a.name()), ["lo"]);
    assert_eq!(host.lease_count("cnibr9"), 0);
}

#[test]
fn port_mappings_are_published_and_go_with_del() {
    testkit::require_root!();
    testkit::require_program!("nft");
    let host = Host::new();
    let a = NetnsGuard::new();
    let conf = conf_on(
        host.path(),
        "1.0.0",
        "cnibr3",
        "10.93.0.0/24",
        "",
        r#","runtimeConfig":{"portMappings":[{"hostPort":18090,"containerPort":8080,"protocol":"tcp"}]}"#,
    );
    ours(&host, "ADD", Some(&a.path()), "p", &conf).success();
    let table = || {
        host.program("nft")
            .args(["list", "table", "ip", "netns-bridge-ports-cnibr3"])
            .output()
            .expect("nft")
    };
    let listed = String::from_utf8_lossy(&table().stdout).into_owned();
    assert!(
        listed.contains("tcp dport 18090 dnat to 10.93.0.2:8080"),
        "{listed}"
    );
    ours(&host, "DEL", Some(&a.path()), "p", &conf).success();
    assert!(!table().status.success());
    assert_eq!(host.lease_count("cnibr3"), 0);
    // A mapping that cannot be honoured is a configuration error, nothing attached.
    let bad = conf.replace(r#""protocol":"tcp""#, r#""protocol":"sctp""#);
    let out = ours(&host, "ADD", Some(&a.path()), "p", &bad);
    let err: Value = serde_json::from_str(&out.stdout()).expect("error JSON");
    assert_eq!(err["code"], 7);
    assert_eq!(links_of(a.name()), ["lo"]);
}

#[test]
fn is_gateway_false_leaves_the_bridge_without_an_address() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let conf = conf_on(host.path(), "1.0.0", "cnibr2", "10.92.0.0/24", "", "")
        .replace(r#""isGateway":true"#, r#""isGateway":false"#)
        .replace(r#""routes":[{"dst":"0.0.0.0/0"}]"#, r#""routes":[]"#);
    ours(&host, "ADD", Some(&a.path()), "g", &conf).success();
    assert_eq!(addresses_of(a.name(), "eth0"), ["10.92.0.2/24"]);
    assert!(addresses_of(host.ns.name(), "cnibr2").is_empty());
    assert!(
        !routes_of(a.name()).contains("default"),
        "{}",
        routes_of(a.name())
    );
    ours(&host, "DEL", Some(&a.path()), "g", &conf).success();
}

#[test]
fn a_gateway_other_than_the_first_address_is_the_bridges() {
    testkit::require_root!();
    let host = Host::new();
    let conf = conf_on(
        host.path(),
        "1.0.0",
        "cnibr6",
        "10.96.0.0/24",
        r#","gateway":"10.96.0.254""#,
        "",
    );
    let (a, b) = (NetnsGuard::new(), NetnsGuard::new());
    let add: Value =
        serde_json::from_str(&ours(&host, "ADD", Some(&a.path()), "g1", &conf).success())
            .expect("ADD result");
    assert_eq!(add["ips"][0]["gateway"], "10.96.0.254");
    // The first address is free to hand out; the bridge has the gateway.
    assert_eq!(addresses_of(a.name(), "eth0"), ["10.96.0.1/24"]);
    assert_eq!(addresses_of(host.ns.name(), "cnibr6"), ["10.96.0.254/24"]);
    assert!(
        routes_of(a.name()).contains("default via 10.96.0.254 dev eth0"),
        "{}",
        routes_of(a.name())
    );
    // A second attachment (the bridge known from the state) and the way out through it.
    ours(&host, "ADD", Some(&b.path()), "g2", &conf).success();
    assert_eq!(addresses_of(b.name(), "eth0"), ["10.96.0.2/24"]);
    let listener = common::Listener::start(&host.ns.path(), "10.96.0.254");
    assert!(common::connects(&b.path(), listener.addr));
    // The same subnet with the default gateway is refused while the bridge has this one.
    let other = NetnsGuard::new();
    let plain = conf_on(host.path(), "1.0.0", "cnibr6", "10.96.0.0/24", "", "");
    let out = ours(&host, "ADD", Some(&other.path()), "g3", &plain);
    let err: Value = serde_json::from_str(&out.stdout()).expect("error JSON");
    assert!(
        err["msg"]
            .as_str()
            .is_some_and(|m| m.contains("gateway 10.96.0.254")),
        "{err}"
    );
    for (ns, id) in [(&a, "g1"), (&b, "g2")] {
        ours(&host, "DEL", Some(&ns.path()), id, &conf).success();
    }
    assert_eq!(host.lease_count("cnibr6"), 0);
}
