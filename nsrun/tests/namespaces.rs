//! Each namespace kind isolates what it should, and the host is the same afterwards.

use std::path::{Path, PathBuf};

use nix::mount::{umount2, MntFlags};
use testkit::{mount_points, require_root, Tool};

fn nsrun() -> Tool {
    Tool::new(env!("CARGO_BIN_EXE_nsrun"))
}

/// Unmounts a persisted namespace file when dropped, even if the test failed.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = umount2(&self.0, MntFlags::MNT_DETACH);
    }
}

fn ns_id(path: impl AsRef<Path>) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path.as_ref())
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.as_ref().display()));
    (meta.dev(), meta.ino())
}

fn is_nsfs(path: &Path) -> bool {
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    nix::sys::statfs::statfs(path).unwrap().filesystem_type().0 as i64 == NSFS_MAGIC
}

#[test]
fn uts_hostname_stays_inside() {
    require_root!();
    let before = nix::unistd::gethostname().unwrap();
    let name = testkit::unique_name("inside");
    let out = nsrun()
        .run([
            "--hostname",
            &name,
            "--domainname",
            "dom.test",
            "sh",
            "-c",
            "hostname; domainname",
        ])
        .success();
    assert_eq!(out, format!("{name}\ndom.test\n"));
    assert_eq!(nix::unistd::gethostname().unwrap(), before);
}

#[test]
fn ipc_queue_made_outside_is_not_listed_inside() {
    require_root!();
    // The outer nsrun plays the host, so the machine's own IPC namespace is never touched.
    let script = "ipcmk -Q >/dev/null && echo outside=$(ipcs -q | grep -c '^0x') \
                  && echo inside=$(\"$NSRUN\" --ipc ipcs -q | grep -c '^0x')";
    let out = nsrun()
        .command(["--ipc", "sh", "-c", script])
        .env("NSRUN", env!("CARGO_BIN_EXE_nsrun"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "outside=1\ninside=0\n"
    );
}

#[test]
fn pid_namespace_makes_command_pid_1() {
    require_root!();
    assert_eq!(
        nsrun().run(["--pid", "sh", "-c", "echo $$"]).success(),
        "1\n"
    );
    // -f is accepted for unshare users and changes nothing.
    assert_eq!(nsrun().run(["-fp", "sh", "-c", "echo $$"]).success(), "1\n");
}

#[test]
fn mount_proc_shows_only_the_namespace_and_leaves_host_mounts_alone() {
    require_root!();
    testkit::require_program!("ps");
    let proc_mounts = || {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        info.lines().filter(|l| l.contains(" - proc ")).count()
    };
    let before = (
        proc_mounts(),
        mount_points().iter().filter(|m| *m == "/proc").count(),
    );
    let out = nsrun()
        .run(["--pid", "--mount-proc", "ps", "-e", "-o", "pid=,comm="])
        .success();
    let rows: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(rows, ["1 ps"], "ps saw more than its own namespace");
    let after = (
        proc_mounts(),
        mount_points().iter().filter(|m| *m == "/proc").count(),
    );
    assert_eq!(before, after, "a proc mount leaked to the host");
}

#[test]
fn mounts_inside_do_not_reach_the_host() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().to_str().unwrap().to_string();
    let script =
        format!("mount -t tmpfs none {target} && grep -c ' {target} ' /proc/self/mountinfo");
    assert_eq!(
        nsrun().run(["--mount", "sh", "-c", &script]).success(),
        "1\n"
    );
    assert!(
        !mount_points().contains(&target),
        "the tmpfs appeared on the host"
    );
}

#[test]
fn user_namespace_maps() {
    require_root!();
    assert_eq!(nsrun().run(["--user", "id", "-u"]).success(), "65534\n");
    let out = nsrun()
        .run([
            "-r",
            "sh",
            "-c",
            "id -u; id -g; cat /proc/self/uid_map /proc/self/setgroups",
        ])
        .success();
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(words, ["0", "0", "0", "0", "1", "deny"]);
    let out = nsrun()
        .run([
            "--map-user",
            "1000",
            "--map-users",
            "0:100000:1000",
            "--setgroups",
            "allow",
            "cat",
            "/proc/self/uid_map",
        ])
        .success();
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines, [["1000", "0", "1"], ["0", "100000", "1000"]]);
}

#[test]
fn net_namespace_has_only_loopback() {
    require_root!();
    let out = nsrun()
        .run(["--net", "cat", "/proc/self/net/dev"])
        .success();
    let links: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(links, ["lo"]);
}

#[test]
fn cgroup_namespace_shows_root() {
    require_root!();
    let out = nsrun()
        .run(["--cgroup", "cat", "/proc/self/cgroup"])
        .success();
    assert!(!out.is_empty());
    for line in out.lines() {
        assert!(line.ends_with(":/"), "not the namespace root: {line}");
    }
}

#[test]
fn time_namespace_offsets_show_in_uptime() {
    require_root!();
    let host: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let out = nsrun()
        .run([
            "--boottime",
            "1000000",
            "--monotonic",
            "500",
            "cat",
            "/proc/uptime",
        ])
        .success();
    let inside: f64 = out.split(' ').next().unwrap().parse().unwrap();
    assert!(
        inside >= host + 1_000_000.0 - 1.0,
        "uptime {inside}, host {host}"
    );
    assert!(
        inside < host + 1_000_000.0 + 60.0,
        "uptime {inside}, host {host}"
    );
    // An offset that would make the clock negative is refused with a clear error, as a
    // usage error before anything is made (issue 16).
    let err = nsrun().run(["--boottime", "-100000000000", "true"]);
    err.expect_code(2);
    assert!(
        err.stderr()
            .starts_with("nsrun: --boottime -100000000000 is out of range"),
        "{}",
        err.stderr()
    );
}

#[test]
fn persisted_namespaces_can_be_entered_then_released() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let uts = dir.path().join("uts");
    let net = dir.path().join("net");
    std::fs::write(&uts, "").unwrap();
    std::fs::write(&net, "").unwrap();
    let (_u1, _u2) = (Unmount(uts.clone()), Unmount(net.clone()));
    let name = testkit::unique_name("kept");
    let uts_arg = format!("--uts={}", uts.display());
    let net_arg = format!("--net={}", net.display());
    nsrun()
        .run([&uts_arg, &net_arg, "--hostname", &name, "true"])
        .success();

    // The files are now the namespaces, held by the mounts alone.
    assert_ne!(ns_id(&net), ns_id("/proc/self/ns/net"));
    let entered = Tool::new("nsenter").run([&uts_arg, "hostname"]).success();
    assert_eq!(entered, format!("{name}\n"));
    let links = Tool::new("nsenter")
        .run([&net_arg, "cat", "/proc/self/net/dev"])
        .success();
    assert_eq!(links.lines().count(), 3, "{links}");

    for file in [&uts, &net] {
        assert!(is_nsfs(file), "{} is not a namespace file", file.display());
        umount2(file, MntFlags::empty()).unwrap();
        assert!(
            !is_nsfs(file),
            "{} still holds the namespace",
            file.display()
        );
    }
    let err = Tool::new("nsenter").run([&uts_arg, "true"]);
    assert_ne!(err.code(), 0, "entered a released namespace");
}

#[test]
fn persist_target_must_exist() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = nsrun().run([format!("--net={}", missing.display()).as_str(), "true"]);
    out.expect_code(125);
    assert!(
        out.stderr()
            .starts_with("nsrun: cannot persist the net namespace at"),
        "{}",
        out.stderr()
    );
    assert_eq!(out.stderr().lines().count(), 1);
}

/// Runs nsrun as the unprivileged user nobody (util-linux setpriv drops root first).
fn as_nobody(args: &[&str]) -> testkit::Outcome {
    let mut all = vec![
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        env!("CARGO_BIN_EXE_nsrun"),
    ];
    all.extend_from_slice(args);
    Tool::new("setpriv").run(all)
}

#[test]
fn unprivileged_user_gets_root_in_its_own_user_namespace() {
    require_root!();
    let out = as_nobody(&[
        "-r",
        "--pid",
        "--mount-proc",
        "--uts",
        "--hostname",
        "mine",
        "sh",
        "-c",
        "id -u; hostname; cat /proc/self/uid_map",
    ]);
    let words: Vec<String> = out
        .success()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(words, ["0", "mine", "0", "65534", "1"]);
}

#[test]
fn unprivileged_without_user_namespace_is_told_how() {
    require_root!();
    let out = as_nobody(&["--uts", "true"]);
    out.expect_code(125);
    assert_eq!(
        out.stderr(),
        "nsrun: cannot create uts namespaces (unshare): Operation not permitted \
         (creating namespaces needs CAP_SYS_ADMIN: run as root, or add --user --map-root-user)\n"
    );
}

#[test]
fn keep_caps_keeps_capabilities_for_a_non_root_command() {
    require_root!();
    let ambient = |extra: &[&str]| {
        let mut args = vec!["--map-user", "1000"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["sh", "-c", "id -u; grep CapAmb /proc/self/status"]);
        let out = nsrun().run(args).success();
        let amb = out
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string();
        (
            out.lines().next().unwrap().to_string(),
            u64::from_str_radix(&amb, 16).unwrap(),
        )
    };
    let (uid, caps) = ambient(&["--keep-caps"]);
    assert_eq!(uid, "1000");
    assert_ne!(caps & (1 << 21), 0, "CAP_SYS_ADMIN is not ambient");
    assert_eq!(ambient(&[]).1, 0);
}

#[test]
fn root_working_directory_and_proc_elsewhere() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("proc")).unwrap();
    let root = dir.path().to_str().unwrap();
    // The new root holds only an empty proc directory, so check from outside it with -w.
    assert_eq!(
        nsrun()
            .run(["--root", "/", "--wd", root, "/bin/pwd"])
            .success(),
        format!("{root}\n")
    );
    let proc_dir = format!("--mount-proc={root}/proc");
    let out = nsrun()
        .run([
            "--pid",
            &proc_dir,
            "sh",
            "-c",
            &format!("cat {root}/proc/1/comm"),
        ])
        .success();
    assert_eq!(out, "sh\n");
    assert!(
        std::fs::read_dir(dir.path().join("proc"))
            .unwrap()
            .next()
            .is_none(),
        "proc leaked to the host"
    );
}

#[test]
fn cgroup_namespace_roots_where_the_setup_command_put_the_child() {
    require_root!();
    // The pids hierarchy: /sys/fs/cgroup/pids on v1 and hybrid hosts, cgroup2 on v2.
    let pids = testkit::cgroup_mount_of("pids").expect("no hierarchy has the pids controller");
    let cgroup = testkit::CgroupGuard::new(&pids.mount_point);
    // The line of /proc/self/cgroup for that hierarchy: `N:pids:PATH`, or `0::PATH`.
    let line = if pids.v2 { "^0::" } else { ":pids:" };
    let procs = cgroup.path().join("cgroup.procs");
    let setup = format!("echo $NSRUN_PID > {}", procs.display());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cgroup");
    std::fs::write(&file, "").unwrap();
    let _unmount = Unmount(file.clone());
    let persist = format!("--cgroup={}", file.display());
    let script = format!(
        "grep '{line}' /proc/self/cgroup; grep -qx $$ {} && echo inside",
        procs.display()
    );
    let out = nsrun()
        .run([&persist, "--setup", &setup, "sh", "-c", &script])
        .success();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].ends_with(":/") && lines[0].contains(line.trim_start_matches('^')),
        "not the namespace root: {out}"
    );
    assert_eq!(
        lines[1], "inside",
        "COMMAND is not in the setup command's cgroup"
    );
    // The persisted namespace is the one made after the setup command.
    assert!(is_nsfs(&file));
    let entered =
        Tool::new("nsenter").run([format!("--cgroup={}", file.display()).as_str(), "true"]);
    entered.expect_code(0);
}
