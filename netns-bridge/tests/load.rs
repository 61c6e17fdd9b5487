//! Under load: new bridges created at the same instant, and a bridge with hundreds of
//! attachments taken down at once.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{host_veths, Host};
use testkit::{NetnsGuard, ProcessGuard};

/// Runs the attaches at once; returns each one's address (CIDR), by bridge.
fn attach_all(host: &Host, jobs: &[(&str, &str)]) -> Vec<(String, String)> {
    let children: Vec<(String, ProcessGuard)> = jobs
        .iter()
        .map(|(target, bridge)| {
            let mut cmd = host.command(["attach", target, "-b", bridge]);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let child = ProcessGuard::new(cmd.spawn().expect("spawn attach"));
            (bridge.to_string(), child)
        })
        .collect();
    let mut out = Vec::new();
    for (bridge, mut child) in children {
        let (mut text, mut err) = (String::new(), String::new());
        if let Some(s) = child.child().stdout.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        if let Some(s) = child.child().stderr.as_mut() {
            let _ = s.read_to_string(&mut err);
        }
        let status = child
            .wait_timeout(Duration::from_secs(30))
            .expect("attach finished");
        assert!(status.success(), "attach to {bridge} failed: {err}");
        out.push((bridge, text.trim().to_string()));
    }
    out
}

/// The network part of a CIDR, e.g. "10.213.0.0/24" for "10.213.0.5/24".
fn network(cidr: &str) -> String {
    let (ip, prefix) = cidr.split_once('/').expect("CIDR");
    let ip: std::net::Ipv4Addr = ip.parse().expect("address");
    let prefix: u32 = prefix.parse().expect("prefix");
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    format!(
        "{}/{prefix}",
        std::net::Ipv4Addr::from(u32::from(ip) & mask)
    )
}

#[test]
fn concurrent_new_bridges_never_share_a_subnet() {
    testkit::require_root!();
    // 20 rounds, fewer on a slow machine (at least 3, about 60 s at most); it says how many.
    const ROUNDS: usize = 20;
    let targets: Vec<NetnsGuard> = (0..16).map(|_| NetnsGuard::new()).collect();
    let started = Instant::now();
    let mut rounds = 0;
    for round in 0..ROUNDS {
        if round >= 3 && started.elapsed() > Duration::from_secs(60) {
            break;
        }
        rounds += 1;
        let host = Host::new();
        let jobs: Vec<(&str, &str)> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name(), if i % 2 == 0 { "nbra" } else { "nbrb" }))
            .collect();
        let results = attach_all(&host, &jobs);
        let mut subnets = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
        let mut addresses = BTreeSet::new();
        for (bridge, cidr) in &results {
            subnets
                .entry(bridge.clone())
                .or_default()
                .insert(network(cidr));
            assert!(
                addresses.insert(cidr.clone()),
                "round {round}: {cidr} twice"
            );
        }
        let a = &subnets["nbra"];
        let b = &subnets["nbrb"];
        assert_eq!((a.len(), b.len()), (1, 1), "round {round}: {subnets:?}");
        assert!(a.is_disjoint(b), "round {round}: both bridges on {a:?}");
        for bridge in ["nbra", "nbrb"] {
            host.run(["down", "--bridge", bridge, "--force"])
                .expect_code(0);
        }
        assert!(host_veths(&host.links()).is_empty(), "round {round}");
    }
    eprintln!(
        "{rounds} rounds (of {ROUNDS}) of 16 attaches over 2 new bridges in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn down_force_with_hundreds_of_attachments_finishes() {
    testkit::require_root!();
    const COUNT: usize = 400;
    let host = Host::new();
    let targets: Vec<NetnsGuard> = (0..COUNT).map(|_| NetnsGuard::new()).collect();
    host.run(["attach", targets[0].name(), "--subnet", "10.96.0.0/16"])
        .expect_code(0);
    for chunk in targets[1..].chunks(8) {
        let jobs: Vec<(&str, &str)> = chunk.iter().map(|t| (t.name(), "nsbr0")).collect();
        attach_all(&host, &jobs);
    }
    assert_eq!(host_veths(&host.links()).len(), COUNT);
    let started = Instant::now();
    let mut down = host.command(["down", "--force"]);
    down.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = ProcessGuard::new(down.spawn().expect("spawn down"));
    let status = child
        .wait_timeout(Duration::from_secs(60))
        .expect("down --force finished within 60 s");
    assert!(status.success(), "down --force failed");
    eprintln!(
        "down --force of {COUNT} attachments: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(host.links(), ["lo"]);
    assert!(!host.bridge_dir("nsbr0").exists());
}
