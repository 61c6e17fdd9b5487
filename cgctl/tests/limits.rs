//! `cgctl limit` and `cgctl exec`: each resource lands in the right file with the right
//! value; the memory limit holds under stress-ng; pids stops a fork loop.

mod common;

use common::{cgroup_of, dir, read, run, sleeper, Scope};

#[test]
fn each_resource_lands_in_its_file() {
    testkit::require_root!();
    let s = Scope::new();
    run(&["create", &s.name]).success();
    let mem = dir("memory", &s.name);
    let cpu = dir("cpu", &s.name);
    let cpuset = dir("cpuset", &s.name);
    let pids = dir("pids", &s.name);

    let out = run(&["limit", "mem", "100M", &s.name]);
    assert_eq!(out.success().trim(), mem.display().to_string());
    assert!(out.stderr().contains("100 MiB"), "{}", out.stderr());
    assert_eq!(read(&mem.join("memory.limit_in_bytes")), "104857600");

    // the kernel rounds to a page: reported, not hidden
    let out = run(&["limit", "mem", "104857601", &s.name]);
    out.success();
    assert_eq!(read(&mem.join("memory.limit_in_bytes")), "104857600");
    assert!(out.stderr().contains("the kernel made"), "{}", out.stderr());

    run(&["limit", "mem-high", "64M", &s.name]).success();
    assert_eq!(read(&mem.join("memory.soft_limit_in_bytes")), "67108864");

    // swap on v1 is memory+swap, on top of the memory limit
    if mem.join("memory.memsw.limit_in_bytes").exists() {
        run(&["limit", "swap", "50M", &s.name]).success();
        let memsw: u64 = read(&mem.join("memory.memsw.limit_in_bytes"))
            .parse()
            .unwrap();
        let limit: u64 = read(&mem.join("memory.limit_in_bytes")).parse().unwrap();
        assert_eq!(memsw - limit, 50 << 20);
        // raising memory keeps the swap allowance (memsw written first)
        run(&["limit", "mem", "200M", &s.name]).success();
        assert_eq!(read(&mem.join("memory.limit_in_bytes")), "209715200");
        assert_eq!(
            read(&mem.join("memory.memsw.limit_in_bytes")),
            (250u64 << 20).to_string()
        );
        // lowering it too (memory written first)
        run(&["limit", "mem", "100M", &s.name]).success();
        assert_eq!(
            read(&mem.join("memory.memsw.limit_in_bytes")),
            (150u64 << 20).to_string()
        );
        run(&["limit", "swap", "max", &s.name]).success();
        assert_eq!(
            read(&mem.join("memory.memsw.limit_in_bytes")),
            "9223372036854771712"
        );
    }

    run(&["limit", "cpu", "0.5", &s.name]).success();
    assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "50000");
    assert_eq!(read(&cpu.join("cpu.cfs_period_us")), "100000");
    run(&["limit", "cpu", "1.5", "--period", "20000", &s.name]).success();
    assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "30000");
    assert_eq!(read(&cpu.join("cpu.cfs_period_us")), "20000");
    run(&["limit", "cpu", "max", &s.name]).success();
    assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "-1");

    run(&["limit", "cpu-weight", "100", &s.name]).success();
    assert_eq!(read(&cpu.join("cpu.shares")), "2598");
    run(&["limit", "cpu-weight", "max", &s.name]).success();
    assert_eq!(read(&cpu.join("cpu.shares")), "1024");

    // create copied the parent's cpuset, so the cgroup can take processes at once
    let parent_cpus = read(&cpuset.parent().unwrap().join("cpuset.cpus"));
    assert_eq!(read(&cpuset.join("cpuset.cpus")), parent_cpus);
    run(&["limit", "cpuset", "0", &s.name]).success();
    assert_eq!(read(&cpuset.join("cpuset.cpus")), "0");
    run(&["limit", "cpuset", "max", &s.name]).success();
    assert_eq!(read(&cpuset.join("cpuset.cpus")), parent_cpus);
    run(&["limit", "mems", "0", &s.name]).success();
    assert_eq!(read(&cpuset.join("cpuset.mems")), "0");

    run(&["limit", "pids", "64", &s.name]).success();
    assert_eq!(read(&pids.join("pids.max")), "64");
    run(&["limit", "pids", "max", &s.name]).success();
    assert_eq!(read(&pids.join("pids.max")), "max");

    // io-weight: v1 needs blkio.weight or blkio.bfq.weight (BFQ); say so if absent
    let blkio = dir("blkio", &s.name);
    let out = run(&["limit", "io-weight", "500", &s.name]);
    if blkio.join("blkio.weight").exists() {
        out.success();
        assert_eq!(read(&blkio.join("blkio.weight")), "504");
    } else if blkio.join("blkio.bfq.weight").exists() {
        out.success();
    } else {
        out.expect_code(1);
        assert!(out.stderr().contains("BFQ"), "{}", out.stderr());
    }

    // --json: cgroup and effective value, parseable
    let out = run(&["--json", "limit", "pids", "10", &s.name]).success();
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["cgroup"], pids.display().to_string());
    assert_eq!(v[0]["files"][0]["file"], "pids.max");
    assert_eq!(v[0]["files"][0]["read"], "10");
}

#[test]
fn limit_on_a_pid_moves_it_and_rolls_back_on_failure() {
    testkit::require_root!();
    let s = Scope::new();
    let child = sleeper();
    let pid = child.pid().to_string();
    let target = s.sub("job");
    let out = run(&["limit", "mem", "100M", &pid, "--cgroup", &target]);
    let path = out.success();
    let mem = dir("memory", &target);
    assert_eq!(path.trim(), mem.display().to_string());
    assert_eq!(read(&mem.join("memory.limit_in_bytes")), "104857600");
    assert!(cgroup_of(child.pid(), "memory").ends_with(&format!("/{target}")));
    assert!(read(&mem.join("cgroup.procs")).lines().any(|l| l == pid));

    // a PID that does not exist: a clear error, nothing made
    let gone = s.sub("gone");
    let out = run(&["limit", "mem", "100M", "999999999", "--cgroup", &gone]);
    out.expect_code(1);
    assert!(
        out.stderr().contains("no process with PID 999999999"),
        "{}",
        out.stderr()
    );
    assert!(!dir("memory", &gone).exists());

    // a process the kernel will not move (kthreadd): the cgroup made for it goes again
    if read(std::path::Path::new("/proc/2/comm")) == "kthreadd" {
        let k = s.sub("kthread");
        let out = run(&["limit", "pids", "10", "2", "--cgroup", &k]);
        out.expect_code(1);
        assert!(
            out.stderr().contains("cannot move PID 2"),
            "{}",
            out.stderr()
        );
        assert!(!dir("pids", &k).exists(), "rollback left {}", k);
    }
}

#[test]
fn memory_limit_holds_under_stress_ng() {
    testkit::require_root!();
    if std::process::Command::new("stress-ng")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").ok().as_deref() != Some("true"),
            "stress-ng is missing"
        );
        eprintln!("skipped: stress-ng is not installed");
        return;
    }
    let s = Scope::new();
    let out = run(&[
        "exec",
        "-l",
        "mem=100M",
        &s.name,
        "--",
        "stress-ng",
        "--vm",
        "1",
        "--vm-bytes",
        "200M",
        "--vm-keep",
        "--timeout",
        "4s",
        "--quiet",
    ]);
    // stress-ng's workers are OOM-killed and restarted; its exit status varies
    let _ = out.code();
    let mem = dir("memory", &s.name);
    let peak: u64 = read(&mem.join("memory.max_usage_in_bytes"))
        .parse()
        .unwrap();
    let failcnt: u64 = read(&mem.join("memory.failcnt")).parse().unwrap();
    assert!(peak <= 104_857_600, "peak {peak} above 100 MiB");
    assert!(
        peak > 90 << 20,
        "peak {peak}: stress-ng never came near the limit"
    );
    assert!(failcnt > 0, "the limit was never hit");
    // show agrees
    let json = run(&["--json", "show", &s.name]).success();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["memory"]["limit"], 104_857_600u64);
    assert_eq!(v["memory"]["peak"], peak);
}

#[test]
fn pids_stops_a_fork_loop() {
    testkit::require_root!();
    let s = Scope::new();
    // The shell forks until the kernel refuses; dash then gives up ("Cannot fork").
    let out = run(&[
        "exec",
        "-l",
        "pids=5",
        &s.name,
        "--",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 30 >/dev/null 2>&1 & done; wait",
    ]);
    assert_ne!(out.code(), 0, "all forks succeeded under pids.max 5");
    let pids = dir("pids", &s.name);
    assert_eq!(read(&pids.join("pids.max")), "5");
    let current: u64 = read(&pids.join("pids.current")).parse().unwrap();
    assert!(current <= 5, "pids.current {current}");
    let events = read(&pids.join("pids.events"));
    let refused: u64 = events
        .lines()
        .find_map(|l| l.strip_prefix("max "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(refused > 0, "no fork was refused: {events}");
    // the sleeps left behind go with the cgroup
    run(&["rm", "-r", "--kill", &s.name]).success();
    assert!(!pids.exists());
}

#[test]
fn exec_runs_inside_and_exits_with_the_status() {
    testkit::require_root!();
    let s = Scope::new();
    let out = run(&[
        "exec",
        "-l",
        "cpu=0.5",
        &s.name,
        "--",
        "sh",
        "-c",
        "cat /proc/self/cgroup; exit 7",
    ]);
    out.expect_code(7);
    let text = out.stdout();
    assert!(
        text.lines()
            .any(|l| l.contains(":cpu:") && l.ends_with(&format!("/{}", s.name))),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(":memory:") && l.ends_with(&format!("/{}", s.name))),
        "{text}"
    );
    assert_eq!(read(&dir("cpu", &s.name).join("cpu.cfs_quota_us")), "50000");
    let out = run(&["exec", &s.sub("x"), "--", "/nonexistent/cgctl-test"]);
    out.expect_code(127);
    assert!(
        !dir("memory", &s.sub("x")).exists(),
        "exec of nothing left a cgroup"
    );
}
