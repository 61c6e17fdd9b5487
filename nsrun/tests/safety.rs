//! What nsrun must never do, whatever others plant or however it is stopped: write through
//! another user's symbolic link, take a time offset the kernel would refuse too late,
//! panic on a full stderr, or leave its mounts and PID file behind after a signal.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use testkit::{require_program, require_root, wait_until, ProcessGuard, Tool, UserGuard};

fn nsrun() -> Tool {
    Tool::new(env!("CARGO_BIN_EXE_nsrun"))
}

const NOBODY: u32 = 65534;

/// Runs perl as uid and gid 65534 (perl makes many links in one process, so the PIDs
/// nsrun will get are not used up on the way).
fn as_nobody(script: &str, args: &[&str]) {
    let status = Command::new("perl")
        .arg("-e")
        .arg(script)
        .args(args)
        .uid(NOBODY)
        .gid(NOBODY)
        .status()
        .unwrap();
    assert!(status.success(), "perl as nobody: {status}");
}

/// Unmounts FILE when the test ends, also when it fails before its own check.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

fn is_mounted(path: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mounts.contains(&format!(" {} ", path.display()))
}

#[test]
fn pid_file_never_writes_through_a_planted_symlink() {
    require_root!();
    require_program!("perl");
    // /tmp as it is: world-writable and sticky, here owned by nobody, who plants links.
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victims = tempfile::tempdir().unwrap();
    let victim = victims.path().join("precious");
    std::fs::write(&victim, "precious\n").unwrap();
    let victim = victim.to_str().unwrap();
    let pid_file = dir.path().join("pid");
    let pid_arg = pid_file.to_str().unwrap();
    let marker = victims.path().join("ran");

    // A link at FILE itself: refused before anything is made.
    as_nobody("symlink($ARGV[0], $ARGV[1]) or die", &[victim, pid_arg]);
    let out = nsrun().run([
        "--uts",
        "--pid-file",
        pid_arg,
        "touch",
        marker.to_str().unwrap(),
    ]);
    out.expect_code(125);
    assert!(
        out.stderr().contains("is a symbolic link"),
        "{}",
        out.stderr()
    );
    assert!(!marker.exists(), "COMMAND ran");
    assert!(pid_file.is_symlink(), "nobody's link was removed");
    std::fs::remove_file(&pid_file).unwrap();

    // Links at the temporary names nsrun once used (.pid.nsrun-PID) for the next PIDs.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (first, end) = ((last + 1).to_string(), (last + 3000).to_string());
    as_nobody(
        "chdir $ARGV[1] or die; symlink($ARGV[0], \".pid.nsrun-$_\") for $ARGV[2]..$ARGV[3]",
        &[victim, dir.path().to_str().unwrap(), &first, &end],
    );
    let planted = std::fs::read_dir(dir.path()).unwrap().count();
    let out = nsrun()
        .run(["--uts", "--pid-file", pid_arg, "cat", pid_arg])
        .success();
    assert!(out.trim().parse::<u32>().is_ok(), "{out}");
    assert_eq!(std::fs::read_to_string(victim).unwrap(), "precious\n");
    assert!(!pid_file.exists(), "the PID file was not removed");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        planted,
        "nsrun left a file or removed one of nobody's"
    );
}

/// A root-owned file outside the directories the attacker can write, and what it was.
struct Victim {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Victim {
    fn new() -> Victim {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().join("precious");
        std::fs::write(&path, "precious\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Victim { _dir: dir, path }
    }

    fn assert_untouched(&self) {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(&self.path).unwrap();
        assert_eq!(std::fs::read_to_string(&self.path).unwrap(), "precious\n");
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o7777),
            (0, 0, 0o644)
        );
        assert_eq!(meta.nlink(), 1, "linked to from elsewhere");
    }
}

/// `perl -e SCRIPT ARGS` as `user`.
fn as_user(user: &UserGuard, script: &str, args: &[&str]) {
    let status = user
        .command("perl")
        .arg("-e")
        .arg(script)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "perl as {}: {status}", user.name());
}

/// /tmp as it is (root's, world-writable and sticky), and a user made for the test who
/// plants symbolic links to a root-owned file at every name nsrun writes or once wrote.
#[test]
fn a_pid_file_in_a_sticky_directory_resists_an_unprivileged_user() {
    require_root!();
    require_program!("useradd");
    require_program!("perl");
    let attacker = UserGuard::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = Victim::new();
    let target = victim.path.to_str().unwrap();
    let pid_file = dir.path().join("x.pid");
    let pid_arg = pid_file.to_str().unwrap();
    let marker = dir.path().join("ran");

    // A link at FILE itself: refused before anything is made, the link left alone.
    as_user(
        &attacker,
        "symlink($ARGV[0], $ARGV[1]) or die",
        &[target, pid_arg],
    );
    let out = nsrun().run([
        "--uts",
        "--pid-file",
        pid_arg,
        "touch",
        marker.to_str().unwrap(),
    ]);
    out.expect_code(125);
    assert!(
        out.stderr().contains("is a symbolic link"),
        "{}",
        out.stderr()
    );
    assert!(!marker.exists(), "COMMAND ran");
    assert!(pid_file.is_symlink(), "the attacker's link was removed");
    victim.assert_untouched();
    std::fs::remove_file(&pid_file).unwrap();

    // Links at the temporary names nsrun once used (.x.pid.nsrun-PID) for the next PIDs,
    // and at names like the random ones it uses now.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (first, end) = ((last + 1).to_string(), (last + 2000).to_string());
    as_user(
        &attacker,
        "chdir $ARGV[1] or die; for ($ARGV[2]..$ARGV[3]) { symlink($ARGV[0], \".x.pid.nsrun-$_\") or die; \
         symlink($ARGV[0], sprintf(\".x.pid.nsrun-%016x\", $_)) or die }",
        &[target, dir.path().to_str().unwrap(), &first, &end],
    );
    let planted = std::fs::read_dir(dir.path()).unwrap().count();
    let out = nsrun()
        .run(["--uts", "--pid-file", pid_arg, "cat", pid_arg])
        .success();
    assert!(out.trim().parse::<u32>().is_ok(), "{out}");
    victim.assert_untouched();
    assert!(!pid_file.exists(), "the PID file was not removed");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        planted,
        "nsrun left a file or removed one of the attacker's"
    );
}

/// In a world-writable directory without the sticky bit, the user made for the test
/// swaps the PID file for a link to a root-owned file while COMMAND (run as that user)
/// is running: at exit nsrun removes only the file it made, never what replaced it.
#[test]
fn a_pid_file_swapped_for_a_link_is_left_alone() {
    require_root!();
    require_program!("useradd");
    let attacker = UserGuard::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let victim = Victim::new();
    let pid_file = open.join("x.pid");
    let swap = format!(
        "test -s {0} && rm -f {0} && ln -s {1} {0}",
        pid_file.display(),
        victim.path.display()
    );
    let (uid, gid) = (attacker.uid().to_string(), attacker.gid().to_string());
    nsrun()
        .run([
            "--uts",
            "--pid-file",
            pid_file.to_str().unwrap(),
            "--setuid",
            &uid,
            "--setgid",
            &gid,
            "sh",
            "-c",
            &swap,
        ])
        .success();
    assert!(pid_file.is_symlink(), "nsrun removed the attacker's link");
    victim.assert_untouched();
    assert_eq!(
        std::fs::read_dir(&open).unwrap().count(),
        1,
        "a file left behind"
    );
}

#[test]
fn out_of_range_time_offsets_are_usage_errors() {
    require_root!();
    for args in [
        ["--monotonic", "-99999999999999"],
        ["--boottime", "-99999999999999"],
        ["--monotonic", "99999999999999"],
        ["--boottime", "4611686018"],
    ] {
        let out = nsrun().run([args[0], args[1], "true"]);
        out.expect_code(2);
        assert!(
            out.stderr()
                .starts_with(&format!("nsrun: {} {} is out of range", args[0], args[1])),
            "{}",
            out.stderr()
        );
    }
    assert_eq!(
        nsrun()
            .run(["--monotonic", "-1", "--boottime", "86400", "true"])
            .code(),
        0
    );
}

#[test]
fn a_full_stderr_never_panics() {
    require_root!();
    for (args, code) in [
        (&["--no-such-flag", "true"][..], 2),
        (&["--monotonic", "-99999999999999", "true"], 2),
        (&["/nonexistent"], 127),
        (&["--uts", "/nonexistent"], 127),
        (&["--pid", "/nonexistent"], 127),
        (&["--mount", "--root", "/nonexistent", "true"], 125),
        (&["--pid", "--setup", "exit 3", "true"], 125),
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let status = nsrun().command(args).stderr(full).status().unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

#[test]
fn an_ending_signal_during_setup_undoes_everything() {
    require_root!();
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("net");
        std::fs::write(&net, "").unwrap();
        let _unmount = Unmount(net.clone());
        let _unmount = Unmount(net.clone());
        let pid_file = dir.path().join("pid");
        let started = dir.path().join("setup-started");
        let marker = dir.path().join("ran");
        let setup = format!("echo $$ > {}; sleep 30", started.display());
        let child = nsrun()
            .command([
                &format!("--net={}", net.display()),
                "--pid-file",
                pid_file.to_str().unwrap(),
                "--setup",
                &setup,
                "touch",
                marker.to_str().unwrap(),
            ])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut run = ProcessGuard::new(child);
        let setup_runs = wait_until(Duration::from_secs(10), || {
            std::fs::read_to_string(&started).is_ok_and(|s| s.ends_with('\n'))
        });
        assert!(setup_runs, "the setup command did not start");
        let setup_pid: i32 = std::fs::read_to_string(&started)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let child_pid = testkit::read_pid_file(&pid_file, Duration::from_secs(10)).unwrap();
        assert!(is_mounted(&net));
        kill(Pid::from_raw(run.pid()), sig).unwrap();
        let status = run
            .wait_timeout(Duration::from_secs(10))
            .expect("nsrun did not end");
        let mut stderr = String::new();
        std::io::Read::read_to_string(run.child().stderr.as_mut().unwrap(), &mut stderr).unwrap();
        let leaked = is_mounted(&net);
        if leaked {
            let _ = nix::mount::umount2(&net, nix::mount::MntFlags::MNT_DETACH);
        }
        assert_eq!(status.code(), Some(128 + sig as i32), "{sig}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{} received while the setup command ran",
                sig.as_str()
            )),
            "{stderr}"
        );
        assert!(!leaked, "{sig}: FILE stayed mounted");
        assert!(!pid_file.exists(), "{sig}: the PID file stayed");
        assert!(!marker.exists(), "{sig}: COMMAND ran");
        assert!(
            !testkit::is_alive(setup_pid),
            "{sig}: the setup command lives on"
        );
        assert!(!testkit::is_alive(child_pid), "{sig}: the child lives on");
    }
}

#[test]
fn a_child_that_dies_during_setup_is_undone_too() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    std::fs::write(&net, "").unwrap();
    let _unmount = Unmount(net.clone());
    let pid_file = dir.path().join("pid");
    let out = nsrun().run([
        &format!("--net={}", net.display()),
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--setup",
        // Once it is a zombie its pipes are closed: the go-ahead fails for sure.
        "kill -KILL $NSRUN_PID; until grep -q zombie /proc/$NSRUN_PID/status; do sleep 0.01; done",
        "true",
    ]);
    let leaked = is_mounted(&net);
    if leaked {
        let _ = nix::mount::umount2(&net, nix::mount::MntFlags::MNT_DETACH);
    }
    // Not killed by SIGPIPE on the go-ahead to a dead child (141).
    out.expect_code(125);
    assert_eq!(
        out.stderr(),
        "nsrun: the child process exited before COMMAND started\n"
    );
    assert!(!leaked, "FILE stayed mounted");
    assert!(!pid_file.exists(), "the PID file stayed");

    // Alive when the go-ahead is sent (stopped), killed before reading it: the unread
    // go-ahead tells nsrun that COMMAND never ran.
    let out = nsrun().run([
        &format!("--net={}", net.display()),
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--setup",
        // kill(2) returns before the child has stopped: wait until it has, or it may
        // still take the go-ahead that is already in the pipe.
        "kill -STOP $NSRUN_PID; \
         until grep -q '^State:.*stopped' /proc/$NSRUN_PID/status; do sleep 0.01; done; \
         (sleep 0.5; kill -KILL $NSRUN_PID) &",
        "true",
    ]);
    let leaked = is_mounted(&net);
    if leaked {
        let _ = nix::mount::umount2(&net, nix::mount::MntFlags::MNT_DETACH);
    }
    out.expect_code(125);
    assert!(!leaked, "FILE stayed mounted");
    assert!(!pid_file.exists(), "the PID file stayed");
}
