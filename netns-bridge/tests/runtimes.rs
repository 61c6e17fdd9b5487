//! netns-bridge as the network plugin of real runtimes: Podman 4 (CNI backend) and
//! containerd 1.6 (`ctr run --cni`), each inside a namespace that plays the host (see
//! tests/runtime/mod.rs for how each is confined). Each test prints its time.

mod common;
mod runtime;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use runtime::{Network, Sandbox, IMAGE};

/// The programs these tests need; each is skipped without them (a failure under CI=true).
macro_rules! require_runtimes {
    ($($program:expr),*) => {
        testkit::require_root!();
        testkit::require_program!("nsenter");
        testkit::require_program!("runc");
        testkit::require_program!("busybox");
        testkit::require_program!("/usr/lib/cni/loopback");
        $(testkit::require_program!($program);)*
    };
}

/// Prints how long the test took when it ends.
struct Timer(&'static str, Instant);

impl Timer {
    fn start(name: &'static str) -> Timer {
        Timer(name, Instant::now())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        eprintln!("timing: {}: {:.1?}", self.0, self.1.elapsed());
    }
}

/// The addresses (CIDR) of `ifname` in a container, from `ip -o addr`.
fn addresses(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut words = l
                .split_whitespace()
                .skip_while(|w| *w != "inet" && *w != "inet6");
            words.next()?;
            words.next().map(str::to_string)
        })
        .filter(|a| !a.starts_with("fe80:"))
        .collect()
}

/// Waits until `net` has no lease, no host veth and no DNAT rule left.
fn assert_all_released(sandbox: &Sandbox, net: &Network) {
    let released = testkit::wait_until(Duration::from_secs(10), || {
        sandbox.host.lease_count(&net.bridge) == 0
            && common::host_veths(&sandbox.host.links()).is_empty()
            && !sandbox.nft_rules().contains("dnat")
    });
    assert!(
        released,
        "left behind: {} leases, host veths {:?}, rules:\n{}",
        sandbox.host.lease_count(&net.bridge),
        common::host_veths(&sandbox.host.links()),
        sandbox.nft_rules()
    );
}

#[test]
fn podman_run_gets_an_address_of_each_family() {
    require_runtimes!("podman");
    let _t = Timer::start("podman_run_gets_an_address_of_each_family");
    let Some(sandbox) = Sandbox::new() else {
        return;
    };
    let net = sandbox.network(1);
    let out = sandbox.run(
        &net,
        &[
            "--rm",
            IMAGE,
            "sh",
            "-c",
            "ip -o addr show eth0; ip route; ip -6 route",
        ],
    );
    let addrs = addresses(&out);
    assert!(
        addrs
            .iter()
            .any(|a| a.starts_with(&format!("{}.", net.prefix4)) && a.ends_with("/24")),
        "no IPv4 address in {out}"
    );
    assert!(
        addrs
            .iter()
            .any(|a| a.starts_with(&net.prefix6) && a.ends_with("/64")),
        "no IPv6 address in {out}"
    );
    assert!(
        out.contains(&format!("default via {}", net.gateway())),
        "{out}"
    );
    assert!(
        out.contains(&format!("default via {}1", net.prefix6)),
        "{out}"
    );
    assert_all_released(&sandbox, &net);
}

#[test]
fn podman_containers_reach_each_other_over_tcp() {
    require_runtimes!("podman");
    let _t = Timer::start("podman_containers_reach_each_other_over_tcp");
    let Some(sandbox) = Sandbox::new() else {
        return;
    };
    let net = sandbox.network(2);
    sandbox.run(
        &net,
        &[
            "-d",
            "--name",
            "server",
            IMAGE,
            "sh",
            "-c",
            "echo pong | nc -l -p 5000",
        ],
    );
    let server = sandbox.address_of("server", &net);
    let out = sandbox.run(
        &net,
        &[
            "--rm",
            IMAGE,
            "sh",
            "-c",
            &format!(
                "for i in 1 2 3 4 5; do nc -w 3 {server} 5000 </dev/null && exit; sleep 0.2; done"
            ),
        ],
    );
    assert_eq!(out, "pong");
    sandbox.podman_ok(["rm", "--force", "--time", "0", "server"]);
    assert_all_released(&sandbox, &net);
}

#[test]
fn podman_published_port_is_reached_from_host_container_and_itself() {
    require_runtimes!("podman", "nft");
    let _t = Timer::start("podman_published_port_is_reached_from_host_container_and_itself");
    let Some(sandbox) = Sandbox::new() else {
        return;
    };
    let net = sandbox.network(3);
    sandbox.run(
        &net,
        &[
            "-d",
            "--name",
            "server",
            "-p",
            "18080:80",
            IMAGE,
            "sh",
            "-c",
            "while true; do echo pong | nc -l -p 80; done",
        ],
    );
    let gateway = net.gateway();
    let client = |nc: &str| {
        format!(
            "for i in 1 2 3 4 5; do {nc} -w 3 {gateway} 18080 </dev/null && exit; sleep 0.2; done"
        )
    };
    // From the host namespace (busybox's nc, run there).
    let out = sandbox
        .inside(["busybox", "sh", "-c", &client("busybox nc")])
        .output()
        .expect("run nc");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "pong",
        "from the host"
    );
    // From another container.
    assert_eq!(
        sandbox.run(&net, &["--rm", IMAGE, "sh", "-c", &client("nc")]),
        "pong",
        "from another container"
    );
    // From the container itself (hairpin).
    assert_eq!(
        sandbox.podman_ok(["exec", "server", "sh", "-c", &client("nc")]),
        "pong",
        "from itself"
    );
    sandbox.podman_ok(["rm", "--force", "--time", "0", "server"]);
    assert_all_released(&sandbox, &net);
}

#[test]
fn podman_ip_gives_the_static_address() {
    require_runtimes!("podman");
    let _t = Timer::start("podman_ip_gives_the_static_address");
    let Some(sandbox) = Sandbox::new() else {
        return;
    };
    let net = sandbox.network(4);
    let wanted = format!("{}.50", net.prefix4);
    let out = sandbox.run(
        &net,
        &[
            "--rm", "--ip", &wanted, IMAGE, "ip", "-o", "-4", "addr", "show", "eth0",
        ],
    );
    assert_eq!(addresses(&out), vec![format!("{wanted}/24")]);
    assert_all_released(&sandbox, &net);
}

#[test]
fn podman_network_connect_adds_a_second_network() {
    require_runtimes!("podman");
    let _t = Timer::start("podman_network_connect_adds_a_second_network");
    let Some(sandbox) = Sandbox::new() else {
        return;
    };
    let first = sandbox.network(5);
    let second = sandbox.network(6);
    sandbox.run(&first, &["-d", "--name", "box", IMAGE, "sleep", "1000"]);
    sandbox.podman_ok(["network", "connect", &second.name, "box"]);
    let out = sandbox.podman_ok(["exec", "box", "sh", "-c", "ip -o -4 addr; ip route"]);
    let addrs = addresses(&out);
    assert!(
        addrs
            .iter()
            .any(|a| a.starts_with(&format!("{}.", first.prefix4))),
        "{out}"
    );
    assert!(
        addrs
            .iter()
            .any(|a| a.starts_with(&format!("{}.", second.prefix4))),
        "{out}"
    );
    assert!(
        out.contains(&format!("default via {}", first.gateway())),
        "the first default route is kept: {out}"
    );
    assert_eq!(
        sandbox.address_of("box", &second),
        addrs
            .iter()
            .find(|a| a.starts_with(&format!("{}.", second.prefix4)))
            .map(|a| a.trim_end_matches("/24").to_string())
            .unwrap_or_default()
    );
    sandbox.podman_ok(["rm", "--force", "--time", "0", "box"]);
    assert_all_released(&sandbox, &first);
    assert_all_released(&sandbox, &second);
}

#[test]
fn podman_eight_parallel_runs_get_eight_addresses() {
    require_runtimes!("podman");
    let _t = Timer::start("podman_eight_parallel_runs_get_eight_addresses");
    let Some(sandbox) = Sandbox::new() else {
        return;
    };
    let net = sandbox.network(7);
    let names: Vec<String> = (0..8).map(|i| format!("par{i}")).collect();
    std::thread::scope(|s| {
        for name in &names {
            let (sandbox, net) = (&sandbox, &net);
            s.spawn(move || sandbox.run(net, &["-d", "--name", name, IMAGE, "sleep", "1000"]));
        }
    });
    let addrs: HashSet<String> = names.iter().map(|n| sandbox.address_of(n, &net)).collect();
    assert_eq!(addrs.len(), 8, "{addrs:?}");
    assert_eq!(sandbox.host.lease_count(&net.bridge), 8);
    let mut rm = vec!["rm", "--force", "--time", "0"];
    rm.extend(names.iter().map(String::as_str));
    sandbox.podman_ok(rm);
    assert_all_released(&sandbox, &net);
}

#[test]
fn podman_rm_after_kill_9_leaves_nothing() {
    require_runtimes!("podman");
    let _t = Timer::start("podman_rm_after_kill_9_leaves_nothing");
    let Some(sandbox) = Sandbox::new() else {
        return;
    };
    let net = sandbox.network(8);
    sandbox.run(
        &net,
        &[
            "-d", "--name", "victim", "-p", "18081:80", IMAGE, "sleep", "1000",
        ],
    );
    assert!(
        sandbox.nft_rules().contains("dport 18081"),
        "{}",
        sandbox.nft_rules()
    );
    let pid: i32 = sandbox
        .podman_ok(["inspect", "--format", "{{.State.Pid}}", "victim"])
        .parse()
        .expect("the container's PID");
    // The container's first process, which this test started through podman.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL)
        .expect("kill -9 the container");
    assert!(testkit::wait_until(Duration::from_secs(10), || {
        !testkit::is_alive(pid)
    }));
    sandbox.podman_ok(["rm", "--force", "victim"]);
    assert_all_released(&sandbox, &net);
}

#[test]
fn ctr_run_cni_gets_an_address_and_del_releases_it() {
    require_runtimes!("containerd", "ctr");
    let _t = Timer::start("ctr_run_cni_gets_an_address_and_del_releases_it");
    let Some(mut sandbox) = Sandbox::new() else {
        return;
    };
    let net = sandbox.network(9);
    sandbox.start_containerd();
    let out = sandbox
        .ctr([
            "run",
            "--rm",
            "--cni",
            "--cgroup",
            &sandbox.cgroup.sub("c1"),
            "--rootfs",
        ])
        .arg(sandbox.rootfs.path())
        .args(["c1", "/bin/sh", "-c", "ip -o addr show eth0"])
        .output()
        .expect("run ctr");
    runtime::check(&out, "ctr run --cni");
    let text = String::from_utf8_lossy(&out.stdout);
    let addrs = addresses(&text);
    assert!(
        addrs
            .iter()
            .any(|a| a.starts_with(&format!("{}.", net.prefix4))),
        "{text}"
    );
    assert!(addrs.iter().any(|a| a.starts_with(&net.prefix6)), "{text}");
    assert_all_released(&sandbox, &net);
}
