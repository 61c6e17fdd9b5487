//! At scale: 1,000 namespaces on one bridge (a /16). An attach costs no more at the
//! 1,000th than at the 10th, and `ls`, `gc`, one `detach` of all and `down --force`
//! finish within seconds and leave nothing. The namespaces are held by sleeping
//! processes (`unshare -n sleep`), attached by PID: cheap to make and to drop.
//!
//! A busy machine's load drifts more in a minute than the two attaches differ, so the
//! cost is compared twice in ways drift cannot touch: the system calls of the 10th and
//! of the 1,000th attach (strace -c: a dump of every link, a scan of every lease would
//! show), and the time of an attach to a bridge with 10 namespaces against one to the
//! bridge with 1,000, taken in alternation (21 each). The time compared is each side's
//! lower quartile: what an attach costs when nothing else gets in its way. Medians are
//! printed too; on a busy machine the bigger bridge's side has a heavy tail (here
//! 53–142 ms against a 15–28 ms range) that moved its median from 1.2x to 1.55x.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{host_veths, Host};
use testkit::ProcessGuard;

const COUNT: usize = 1000;
/// The small bridge's attachments.
const SMALL: usize = 10;
/// How long each of ls, gc, detach and down --force may take.
const WITHIN: Duration = Duration::from_secs(10);

/// Processes in network namespaces of their own, once they are there.
fn holders(n: usize) -> Vec<ProcessGuard> {
    let all: Vec<ProcessGuard> = (0..n)
        .map(|_| {
            let mut cmd = Command::new("unshare");
            cmd.args(["-n", "sleep", "600"]);
            ProcessGuard::new(cmd.spawn().expect("spawn unshare -n sleep"))
        })
        .collect();
    let own = std::fs::read_link("/proc/self/ns/net").expect("own namespace");
    for guard in &all {
        let ns = format!("/proc/{}/ns/net", guard.pid());
        // Attached only once it has left this namespace (never the test's own).
        assert!(
            common::wait_for(Duration::from_secs(30), || {
                std::fs::read_link(&ns).is_ok_and(|n| n != own)
            }),
            "{ns} never got a namespace of its own"
        );
    }
    all
}

/// The lower quartile and the median of `samples`.
fn quartile_and_median(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 4], samples[samples.len() / 2])
}

/// Runs netns-bridge in the host; asserts it succeeds within [`WITHIN`], returns its
/// output and how long it took.
fn timed(host: &Host, args: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let out = host.run(args);
    let took = started.elapsed();
    assert_eq!(out.code(), 0, "{:?}: {}", &args[..1], out.stderr());
    assert!(took < WITHIN, "{:?} took {took:?}", &args[..1]);
    (out.stdout(), took)
}

/// The system calls one attach makes that read or write state or talk to the kernel
/// (not those of memory and threads, which vary from run to run), counted by strace.
fn counted_attach(host: &Host, pid: &str) -> usize {
    let log = tempfile::NamedTempFile::new().expect("log");
    let mut cmd = host.program("strace");
    cmd.args(["-f", "-qq", "-c", "-U", "name,calls", "-o"])
        .arg(log.path())
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_netns-bridge"))
        .args(["attach", pid])
        .env("NETNS_BRIDGE_STATE_DIR", host.path());
    testkit::Outcome::of(&mut cmd).expect_code(0);
    let text = std::fs::read_to_string(log.path()).expect("strace log");
    const KINDS: [&str; 16] = [
        "openat",
        "read",
        "write",
        "close",
        "getdents64",
        "newfstatat",
        "statx",
        "fstat",
        "sendto",
        "recvfrom",
        "sendmsg",
        "recvmsg",
        "rename",
        "renameat",
        "linkat",
        "unlinkat",
    ];
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (name, calls) = (words.next()?, words.next()?.parse::<usize>().ok()?);
            KINDS.contains(&name).then_some(calls)
        })
        .sum()
}

/// Attaches `pids` in calls of up to 100 (the filling is not what is measured).
fn fill(host: &Host, pids: &[String], first: &[&str]) {
    for (i, chunk) in pids.chunks(100).enumerate() {
        let mut args = vec!["attach"];
        if i == 0 {
            args.extend(first);
        }
        args.extend(chunk.iter().map(String::as_str));
        host.run(&args).expect_code(0);
    }
}

#[test]
fn a_thousand_namespaces_on_one_bridge() {
    testkit::require_root!();
    testkit::require_program!("unshare");
    testkit::require_program!("strace");
    let started = Instant::now();
    let host = Host::new();
    // The big bridge's, the small one's, and two to attach to each in turn.
    let mut holders = holders(COUNT + SMALL + 2);
    let pids: Vec<String> = holders.iter().map(|h| h.pid().to_string()).collect();
    let (big, rest) = pids.split_at(COUNT);
    let (small, spares) = rest.split_at(SMALL);
    let made = started.elapsed();

    // The 10th attach and the 1,000th, their system calls counted.
    fill(&host, &big[..SMALL - 1], &["--subnet", "10.100.0.0/16"]);
    let tenth = counted_attach(&host, &big[SMALL - 1]);
    fill(&host, &big[SMALL..COUNT - 1], &[]);
    let thousandth = counted_attach(&host, &big[COUNT - 1]);
    fill(
        &host,
        small,
        &["-b", "nssmall", "--subnet", "10.101.0.0/24"],
    );
    assert_eq!(host.lease_count("nsbr0"), COUNT);
    assert_eq!(host.lease_count("nssmall"), SMALL);

    // Then the 1,001st against the 11th, in alternation: attach, time, detach.
    let (mut at_small, mut at_big) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        for (bridge, spare, samples) in [
            ("nssmall", &spares[0], &mut at_small),
            ("nsbr0", &spares[1], &mut at_big),
        ] {
            let t = Instant::now();
            host.run(["attach", "-b", bridge, spare]).expect_code(0);
            samples.push(t.elapsed());
            host.run(["detach", "-b", bridge, spare]).expect_code(0);
        }
    }
    let ((early, early_median), (late, late_median)) =
        (quartile_and_median(at_small), quartile_and_median(at_big));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "{} namespaces made in {:.1} s; attach with {SMALL} attached: {:.2} ms, with \
         {COUNT}: {:.2} ms (lower quartiles of 21, alternating; medians {:.2} and {:.2} \
         ms); system calls of the 10th attach: {tenth}, of the 1,000th: {thousandth}",
        pids.len(),
        made.as_secs_f64(),
        ms(early),
        ms(late),
        ms(early_median),
        ms(late_median),
    );
    assert!(
        thousandth <= tenth + tenth / 20,
        "the 1,000th attach made {thousandth} system calls, the 10th {tenth}"
    );
    assert!(
        late.as_secs_f64() <= 1.5 * early.as_secs_f64(),
        "an attach with {COUNT} attached took {late:?}, with {SMALL} {early:?} (lower quartiles)"
    );
    host.run(["down", "-b", "nssmall", "--force"])
        .expect_code(0);
    assert_eq!(host_veths(&host.links()).len(), COUNT);
    assert_eq!(host.lease_count("nsbr0"), COUNT);

    let (listed, ls) = timed(&host, &["ls", "--raw", "--noheadings", "-o", "alive"]);
    assert_eq!(
        listed.lines().filter(|l| l.trim() == "yes").count(),
        COUNT,
        "{listed}"
    );

    // Half the namespaces die; once the kernel has taken their veths, gc releases them.
    let dead: Vec<ProcessGuard> = holders.drain(..COUNT / 2).collect();
    drop(dead);
    assert!(host.wait_for_host_veths(COUNT / 2, Duration::from_secs(60)));
    let (_, gc) = timed(&host, &["gc"]);
    assert_eq!(host.lease_count("nsbr0"), COUNT / 2);

    // The other half in one detach.
    let mut detach = vec!["detach"];
    detach.extend(big[COUNT / 2..].iter().map(String::as_str));
    let (_, detached) = timed(&host, &detach);
    assert!(host_veths(&host.links()).is_empty());
    assert_eq!(host.lease_count("nsbr0"), 0);

    // Attached again in one call, then down --force.
    let mut batch = vec!["attach"];
    batch.extend(big[COUNT / 2..].iter().map(String::as_str));
    // Not bounded: 500 veth pairs are the kernel's work, whatever the tool (printed).
    let t = Instant::now();
    let addresses = host.run(&batch).success();
    let batched = t.elapsed();
    assert_eq!(addresses.lines().count(), COUNT / 2);
    assert_eq!(host_veths(&host.links()).len(), COUNT / 2);
    let (_, down) = timed(&host, &["down", "--force"]);
    assert_eq!(host.links(), ["lo"]);
    assert!(!host.bridge_dir("nsbr0").exists());
    eprintln!(
        "ls of {COUNT}: {:.2} s; gc of {}: {:.2} s; detach of {} in one call: {:.2} s; \
         attach of {} in one call: {:.2} s ({:.2} ms each); down --force: {:.2} s; \
         test {:.1} s",
        ls.as_secs_f64(),
        COUNT / 2,
        gc.as_secs_f64(),
        COUNT / 2,
        detached.as_secs_f64(),
        COUNT / 2,
        batched.as_secs_f64(),
        batched.as_secs_f64() * 1e3 / (COUNT / 2) as f64,
        down.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
