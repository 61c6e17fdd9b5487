//! `cgctl limit` and `cgctl exec`: each resource lands in the right file with the right
//! value (v1 and v2 files apart); the memory limit holds under stress-ng; pids stops a
//! fork loop.

mod common;

use common::{cgroup_of, dir, file, read, run, sleeper, subtree_control, Layout, Scope};

#[test]
fn each_resource_lands_in_its_v1_file() {
    testkit::require_root!();
    if !testkit::cgroup_layout_is(
        &[Layout::V1, Layout::Hybrid],
        "checks the v1 files (memory.limit_in_bytes, cpu.shares, ...); each_resource_lands_in_its_v2_file checks v2",
    ) {
        return;
    }
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

    // systemd's mapping: weight 100 is the default 1024 on v1 as on v2
    run(&["limit", "cpu-weight", "100", &s.name]).success();
    assert_eq!(read(&cpu.join("cpu.shares")), "1024");
    run(&["limit", "cpu-weight", "50", &s.name]).success();
    assert_eq!(read(&cpu.join("cpu.shares")), "512");
    let v: serde_json::Value =
        serde_json::from_str(&run(&["--json", "show", &s.name]).success()).unwrap();
    assert_eq!(
        (v["cpu"]["weight"].as_u64(), v["cpu"]["shares"].as_u64()),
        (Some(50), Some(512))
    );
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
fn each_resource_lands_in_its_v2_file() {
    testkit::require_root!();
    if !testkit::cgroup_layout_is(
        &[Layout::V2],
        "checks the v2 files (memory.max, cpu.max, ...); each_resource_lands_in_its_v1_file checks v1",
    ) {
        return;
    }
    let s = Scope::new();
    let name = s.sub("box");
    run(&["create", &name]).success();
    let d = dir("memory", &name);
    let top = d.parent().unwrap().to_path_buf();
    let own = top.parent().unwrap().to_path_buf();
    // create named no controller: none is enabled anywhere on the path yet
    assert!(!subtree_control(&top).contains(&"memory".to_string()));

    // each limit enables its controller along the path, never in the leaf
    let out = run(&["limit", "mem", "100M", &name]);
    assert_eq!(out.success().trim(), d.display().to_string());
    assert!(out.stderr().contains("100 MiB"), "{}", out.stderr());
    assert_eq!(read(&d.join("memory.max")), "104857600");
    for ancestor in [&own, &top] {
        assert!(
            subtree_control(ancestor).contains(&"memory".to_string()),
            "memory not enabled in {}",
            ancestor.display()
        );
    }
    assert_eq!(
        subtree_control(&d),
        Vec::<String>::new(),
        "enabled in the leaf"
    );

    // the kernel rounds to a page: reported, not hidden
    let out = run(&["limit", "mem", "104857601", &name]);
    out.success();
    assert_eq!(read(&d.join("memory.max")), "104857600");
    assert!(out.stderr().contains("the kernel made"), "{}", out.stderr());
    run(&["limit", "mem", "max", &name]).success();
    assert_eq!(read(&d.join("memory.max")), "max");

    run(&["limit", "mem-high", "64M", &name]).success();
    assert_eq!(read(&d.join("memory.high")), "67108864");

    // swap on v2 is swap alone, apart from the memory limit
    run(&["limit", "mem", "100M", &name]).success();
    let out = run(&["limit", "swap", "50M", &name]);
    out.success();
    assert!(
        out.stderr().contains("memory.swap.max = 52428800"),
        "{}",
        out.stderr()
    );
    assert_eq!(read(&d.join("memory.swap.max")), "52428800");
    assert_eq!(read(&d.join("memory.max")), "104857600");
    run(&["limit", "swap", "0", &name]).success();
    assert_eq!(read(&d.join("memory.swap.max")), "0");
    run(&["limit", "swap", "max", &name]).success();
    assert_eq!(read(&d.join("memory.swap.max")), "max");

    run(&["limit", "cpu", "0.5", &name]).success();
    assert_eq!(read(&d.join("cpu.max")), "50000 100000");
    assert!(subtree_control(&top).contains(&"cpu".to_string()));
    run(&["limit", "cpu", "1.5", "--period", "20000", &name]).success();
    assert_eq!(read(&d.join("cpu.max")), "30000 20000");
    run(&["limit", "cpu", "max", &name]).success();
    assert!(
        read(&d.join("cpu.max")).starts_with("max "),
        "{}",
        read(&d.join("cpu.max"))
    );

    run(&["limit", "cpu-weight", "100", &name]).success();
    assert_eq!(read(&d.join("cpu.weight")), "100");
    run(&["limit", "cpu-weight", "10000", &name]).success();
    assert_eq!(read(&d.join("cpu.weight")), "10000");
    run(&["limit", "cpu-weight", "max", &name]).success();
    assert_eq!(read(&d.join("cpu.weight")), "100");

    // cpuset: checked against, and 'max' copied from, what the parent has in
    // cpuset.cpus.effective (its cpuset.cpus is empty: it uses its parent's)
    run(&["limit", "cpuset", "0", &name]).success();
    assert!(subtree_control(&top).contains(&"cpuset".to_string()));
    assert_eq!(read(&d.join("cpuset.cpus")), "0");
    assert_eq!(read(&d.join("cpuset.cpus.effective")), "0");
    let parent_cpus = read(&top.join("cpuset.cpus.effective"));
    let out = run(&["limit", "cpuset", "0-4095", &name]);
    out.expect_code(2);
    assert!(
        out.stderr()
            .contains(&format!("only has CPUs {parent_cpus}")),
        "{}",
        out.stderr()
    );
    run(&["limit", "cpuset", "max", &name]).success();
    assert_eq!(read(&d.join("cpuset.cpus")), parent_cpus);
    run(&["limit", "mems", "0", &name]).success();
    assert_eq!(read(&d.join("cpuset.mems")), "0");
    run(&["limit", "mems", "max", &name]).success();
    assert_eq!(
        read(&d.join("cpuset.mems")),
        read(&top.join("cpuset.mems.effective"))
    );

    run(&["limit", "pids", "64", &name]).success();
    assert_eq!(read(&d.join("pids.max")), "64");
    run(&["limit", "pids", "max", &name]).success();
    assert_eq!(read(&d.join("pids.max")), "max");

    // io-weight: io.weight needs the io controller and an IO cost model or BFQ
    let out = run(&["limit", "io-weight", "500", &name]);
    if d.join("io.weight").exists() {
        out.success();
        assert_eq!(read(&d.join("io.weight")), "default 500");
    } else {
        out.expect_code(1);
        assert!(out.stderr().contains("io.weight"), "{}", out.stderr());
    }

    // the leaf never got a controller for children
    assert_eq!(
        subtree_control(&d),
        Vec::<String>::new(),
        "enabled in the leaf"
    );
    // show reads the v2 files
    let v: serde_json::Value =
        serde_json::from_str(&run(&["--json", "show", &name]).success()).unwrap();
    assert_eq!(v["memory"]["limit"], 104_857_600u64);
    assert_eq!(v["memory"]["high"], 67_108_864u64);
    // no limit is null (issue 10: "max" is never a string in JSON)
    assert_eq!(v["memory"]["swap_limit"], serde_json::Value::Null);
    assert_eq!(v["cpu"]["weight"], 100);
    assert_eq!(v["cpuset"]["cpus"], parent_cpus);
    assert_eq!(v["cpuset"]["effective_cpus"], parent_cpus);
    assert_eq!(v["pids"]["max"], serde_json::Value::Null);
    assert_eq!(v["freezer"], "THAWED");

    // --json: cgroup and effective value, parseable
    let out = run(&["--json", "limit", "pids", "10", &name]).success();
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["cgroup"], d.display().to_string());
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
    let limit_file = file("memory.limit_in_bytes", "memory.max");
    assert_eq!(read(&mem.join(limit_file)), "104857600");
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

    // a process the kernel will not move (kthreadd): the cgroup made for it goes again.
    // --force gets past cgctl's own refusal of a kernel thread (tests/held.rs).
    if read(std::path::Path::new("/proc/2/comm")) == "kthreadd" {
        let k = s.sub("kthread");
        let out = run(&["limit", "pids", "10", "2", "--cgroup", &k, "--force"]);
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
    testkit::require_program!("stress-ng");
    let s = Scope::new();
    // v2 limits memory and swap apart: no swap, so that the memory limit must hold
    // (v1's memory.limit_in_bytes holds without a memsw limit).
    let mut args = vec!["exec", "-l", "mem=100M"];
    if common::v2() {
        args.extend(["-l", "swap=0"]);
    }
    // stress-ng insists on a writable --temp-path (default: the working directory)
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path().display().to_string();
    args.extend([
        &s.name,
        "--",
        "stress-ng",
        "--temp-path",
        &tmp,
        "--vm",
        "1",
        "--vm-bytes",
        "200M",
        "--vm-keep",
        "--timeout",
        "4s",
        "--quiet",
    ]);
    let out = run(&args);
    // stress-ng's workers are OOM-killed and restarted; its exit status varies
    let _ = out.code();
    let mem = dir("memory", &s.name);
    let peak: u64 = read(&mem.join(file("memory.max_usage_in_bytes", "memory.peak")))
        .parse()
        .unwrap();
    // how often the limit was hit: v1 memory.failcnt, v2 "max" of memory.events
    let failcnt: u64 = if common::v2() {
        assert_eq!(read(&mem.join("memory.max")), "104857600");
        assert_eq!(read(&mem.join("memory.swap.max")), "0");
        let events = read(&mem.join("memory.events"));
        events
            .lines()
            .find_map(|l| l.strip_prefix("max "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no max line in memory.events: {events}"))
    } else {
        read(&mem.join("memory.failcnt")).parse().unwrap()
    };
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
    // -c adds the memory hierarchy to the cpu limit's
    let out = run(&[
        "exec",
        "-l",
        "cpu=0.5",
        "-c",
        "memory",
        &s.name,
        "--",
        "sh",
        "-c",
        "cat /proc/self/cgroup; exit 7",
    ]);
    out.expect_code(7);
    let text = out.stdout();
    assert!(common::in_cgroup(&text, "cpu", &s.name), "{text}");
    assert!(common::in_cgroup(&text, "memory", &s.name), "{text}");
    if common::v2() {
        assert_eq!(read(&dir("cpu", &s.name).join("cpu.max")), "50000 100000");
    } else {
        assert_eq!(read(&dir("cpu", &s.name).join("cpu.cfs_quota_us")), "50000");
    }
    let out = run(&["exec", &s.sub("x"), "--", "/nonexistent/cgctl-test"]);
    out.expect_code(127);
    assert!(
        !dir("memory", &s.sub("x")).exists(),
        "exec of nothing left a cgroup"
    );
}

#[test]
fn exec_with_a_memory_limit_touches_only_the_memory_hierarchy() {
    testkit::require_root!();
    if !testkit::cgroup_layout_is(
        &[Layout::V1, Layout::Hybrid],
        "v2 has one hierarchy: nothing else to leave alone",
    ) {
        return;
    }
    let s = Scope::new();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    // libcgroup's spelling 'memory' is an alias of mem
    let out = run(&[
        "exec",
        "-l",
        "memory=50M",
        &s.name,
        "--",
        "cat",
        "/proc/self/cgroup",
    ]);
    let inside = out.success();
    assert!(common::in_cgroup(&inside, "memory", &s.name), "{inside}");
    assert_eq!(
        read(&dir("memory", &s.name).join("memory.limit_in_bytes")),
        "52428800"
    );
    // every other hierarchy: the same cgroup as this test's, and nothing made there
    let others = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                !l.split(':')
                    .nth(1)
                    .unwrap_or("")
                    .split(',')
                    .any(|c| c == "memory")
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(others(&inside), others(&own), "{inside}");
    for c in common::mounted(&["cpu", "pids", "cpuset", "blkio", "freezer", "unified"]) {
        assert!(!dir(c, &s.name).exists(), "made in the {c} hierarchy");
    }
}
