//! What netns-bridge prints and refuses: `ls` as a table (aligned, -o, -r, -n) and as
//! JSON (numbers as numbers, the namespace identity as {"dev","ino"}), a result that
//! cannot be written (/dev/full), and targets that lead to the host's own namespace.

mod common;

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::process::Stdio;

use common::{host_veths, links_of, Host};
use testkit::{NetnsGuard, Outcome, ProcessGuard};

#[test]
fn ls_is_an_aligned_table_and_json_with_numbers() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    let b = NetnsGuard::new();
    host.run(["attach", a.name(), "--subnet", "10.91.0.0/24"])
        .success();
    // The same kind of file by a much longer path: the columns stay aligned.
    let long = format!("/run/netns/{}{}", "./".repeat(40), b.name());
    host.run(["attach", &long]).success();

    let table = host.run(["ls"]).success();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let column = |line: &str, word: &str| line.find(word).expect(word);
    let start = column(lines[0], "HOST-VETH");
    for line in &lines[1..] {
        let veth = line.find(" nb").expect("host veth") + 1;
        assert_eq!(veth, start, "aligned:\n{table}");
    }
    assert!(table.contains(&long), "{table}");

    let raw = host
        .run(["ls", "-r", "-n", "-o", "address,alive"])
        .success();
    let mut rows: Vec<&str> = raw.lines().collect();
    rows.sort();
    assert_eq!(rows, ["10.91.0.2/24 yes", "10.91.0.3/24 yes"]);

    let v: serde_json::Value =
        serde_json::from_str(&host.run(["ls", "--json"]).success()).expect("one JSON document");
    let rows = v["attachments"].as_array().expect("attachments");
    assert_eq!(rows.len(), 2);
    let meta = std::fs::metadata(a.path()).expect("stat");
    let of_a = rows
        .iter()
        .find(|r| r["namespace"] == a.path())
        .expect("a listed");
    assert_eq!(of_a["netns"]["dev"].as_u64(), Some(meta.dev()));
    assert_eq!(of_a["netns"]["ino"].as_u64(), Some(meta.ino()));
    assert_eq!(of_a["alive"], true);
    assert_eq!(of_a["address"], "10.91.0.2/24");

    // attach --json: the same identity, as numbers.
    let json = host.run(["attach", a.name(), "--json"]).success();
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["netns"]["ino"].as_u64(), Some(meta.ino()));

    // An unknown column is a usage error.
    common::assert_fails(&host.run(["ls", "-o", "bogus"]), 2);
}

/// netns-bridge with `args` in the host, stdout on /dev/full.
fn to_full(host: &Host, args: &[&str]) -> Outcome {
    let full = File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = host.command(args);
    cmd.stdout(Stdio::from(full));
    Outcome::of(&mut cmd)
}

#[test]
fn a_result_that_cannot_be_written_is_rolled_back() {
    testkit::require_root!();
    let host = Host::new();
    let a = NetnsGuard::new();
    for json in [false, true] {
        let mut args = vec!["attach", a.name(), "--subnet", "10.92.0.0/24"];
        if json {
            args.push("--json");
        }
        let out = to_full(&host, &args);
        assert_eq!(out.code(), 1, "{}", out.stderr());
        assert!(
            out.stderr().contains("No space left on device")
                && out.stderr().contains("rolled back"),
            "{}",
            out.stderr()
        );
        assert!(host_veths(&host.links()).is_empty());
        assert_eq!(links_of(a.name()), ["lo"]);
        assert!(!host.bridge_dir("nsbr0").exists());
    }
    // Attached, then asked again with nowhere to write: the attachment stays as it was.
    host.run(["attach", a.name(), "--subnet", "10.92.0.0/24"])
        .success();
    assert_eq!(to_full(&host, &["attach", a.name()]).code(), 1);
    assert_eq!(host_veths(&host.links()).len(), 1);
    assert_eq!(host.lease_count("nsbr0"), 1);
    // ls on /dev/full fails; a failing command with stderr on /dev/full does not panic.
    assert_eq!(to_full(&host, &["ls"]).code(), 1);
    let full = File::options()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut cmd = host.command(["attach", "--bridge", "bad/name", a.name()]);
    cmd.stderr(Stdio::from(full));
    assert_eq!(Outcome::of(&mut cmd).code(), 2);
    host.run(["down", "--force"]).expect_code(0);
}

#[test]
fn the_hosts_own_namespace_is_refused() {
    testkit::require_root!();
    let host = Host::new();
    // A process of the host namespace, and a kernel thread (the machine's namespace).
    let mut sleeper = host.program("sleep");
    sleeper.arg("600");
    let sleeper = ProcessGuard::new(sleeper.spawn().expect("spawn sleep"));
    let own = sleeper.pid().to_string();
    for (target, says) in [
        (own.as_str(), "the namespace netns-bridge runs in"),
        ("2", "kernel thread"),
    ] {
        let out = host.run(["attach", target]);
        common::assert_fails(&out, 2);
        assert!(out.stderr().contains(says), "{}", out.stderr());
        assert_eq!(host.links(), ["lo"]);
        assert!(!host.bridge_dir("nsbr0").exists());
    }
}
