//! The process side: exit statuses, --setup, --pid-file, --init, --kill-child, signals.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use testkit::{children_of, is_alive, require_root, wait_until, ProcessGuard, Tool};

fn nsrun() -> Tool {
    Tool::new(env!("CARGO_BIN_EXE_nsrun"))
}

/// nsrun started in the background with `--pid-file`, killed and reaped on drop.
struct Background {
    run: ProcessGuard,
    pid_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Background {
    /// Starts `nsrun --pid-file FILE ARGS...`, with COMMAND's stdout piped.
    fn start(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let mut all = vec!["--pid-file", pid_file.to_str().unwrap()];
        all.extend_from_slice(args);
        let child = nsrun().command(all).stdout(Stdio::piped()).spawn().unwrap();
        Background {
            run: ProcessGuard::new(child),
            pid_file,
            _dir: dir,
        }
    }

    /// The PID nsrun wrote, once it is there.
    fn child_pid(&self) -> i32 {
        testkit::read_pid_file(&self.pid_file, Duration::from_secs(10)).expect("no PID file")
    }

    fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.run.pid()), sig).unwrap();
    }

    fn wait(&mut self, what: &str) -> std::process::ExitStatus {
        self.run
            .wait_timeout(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{what}"))
    }
}

#[test]
fn exit_statuses() {
    require_root!();
    nsrun().run(["--uts", "true"]).expect_code(0);
    nsrun().run(["--uts", "sh", "-c", "exit 7"]).expect_code(7);
    nsrun()
        .run(["--uts", "sh", "-c", "kill -TERM $$"])
        .expect_code(128 + 15);
    let out = nsrun().run(["--uts", "/nonexistent/command"]);
    out.expect_code(127);
    assert_eq!(
        out.stderr(),
        "nsrun: cannot execute '/nonexistent/command': No such file or directory\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let not_executable = dir.path().join("data");
    std::fs::write(&not_executable, "data").unwrap();
    let out = nsrun().run(["--uts", not_executable.to_str().unwrap()]);
    out.expect_code(126);
    assert!(
        out.stderr().contains("Permission denied"),
        "{}",
        out.stderr()
    );
    let out = nsrun().run(["--mount", "--root", "/nonexistent", "true"]);
    out.expect_code(125);
    assert_eq!(
        out.stderr(),
        "nsrun: cannot change root to /nonexistent: No such file or directory\n"
    );
    let out = nsrun().run(["--no-such-flag", "true"]);
    out.expect_code(2);
    assert_eq!(out.stderr().lines().count(), 1, "{}", out.stderr());
    nsrun()
        .run(["-r", "--map-user", "5", "true"])
        .expect_code(2);
    nsrun()
        .run(["--map-users", "0:1000:0", "true"])
        .expect_code(2);
    nsrun().run(["--kill-child=NOSIG", "true"]).expect_code(2);
    // With --pid the child is PID 1 and exits like any other command.
    nsrun().run(["--pid", "sh", "-c", "exit 3"]).expect_code(3);
    // The same failures in a child (and below --init) are reported the same way.
    for extra in [&["--pid"][..], &["--pid", "--init"], &["--user", "--init"]] {
        let mut args = extra.to_vec();
        args.push("/nonexistent/command");
        let out = nsrun().run(&args);
        out.expect_code(127);
        assert_eq!(
            out.stderr(),
            "nsrun: cannot execute '/nonexistent/command': No such file or directory\n",
            "{args:?}"
        );
    }
    let out = nsrun().run(["--pid", "--mount", "--root", "/nonexistent", "true"]);
    out.expect_code(125);
    assert_eq!(
        out.stderr(),
        "nsrun: cannot change root to /nonexistent: No such file or directory\n"
    );
}

#[test]
fn setup_runs_between_namespaces_and_command() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seen");
    let setup = format!(
        "readlink /proc/$NSRUN_PID/ns/uts > {f}; echo setup-out",
        f = file.display()
    );
    let out = nsrun().run([
        "--uts",
        "--setup",
        &setup,
        "sh",
        "-c",
        &format!("cat {}; readlink /proc/self/ns/uts", file.display()),
    ]);
    // CMD's stdout goes to stderr; COMMAND's stdout is COMMAND's alone.
    assert!(out.stderr().contains("setup-out"), "{}", out.stderr());
    let lines: Vec<String> = out.success().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], lines[1], "CMD did not see COMMAND's namespace");
    assert_ne!(
        lines[0],
        std::fs::read_link("/proc/self/ns/uts")
            .unwrap()
            .display()
            .to_string()
    );
}

#[test]
fn failing_setup_means_command_never_runs() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let pid_file = dir.path().join("pid");
    let out = nsrun().run([
        "--pid",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--setup",
        "echo broken wiring >&2; exit 4",
        "touch",
        marker.to_str().unwrap(),
    ]);
    out.expect_code(125);
    assert!(out.stderr().contains("broken wiring"), "{}", out.stderr());
    assert!(
        out.stderr()
            .contains("nsrun: setup command failed with exit status 4"),
        "{}",
        out.stderr()
    );
    assert!(!marker.exists(), "COMMAND ran after a failed setup");
    assert!(!pid_file.exists(), "the PID file was left behind");
}

#[test]
fn pid_file_holds_host_pid_of_namespace_init() {
    require_root!();
    let mut bg = Background::start(&["--pid", "sleep", "30"]);
    let pid = bg.child_pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    let ids: Vec<&str> = nspid.split_whitespace().skip(1).collect();
    assert_eq!(ids, [pid.to_string().as_str(), "1"]);
    assert_eq!(children_of(bg.run.pid()), [pid]);
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    let status = bg.wait("nsrun did not end");
    assert_eq!(status.code(), Some(128 + 9));
    assert!(!bg.pid_file.exists(), "the PID file was not removed");
}

#[test]
fn init_reaps_orphans_and_runs_command_as_pid_2() {
    require_root!();
    testkit::require_program!("ps");
    assert_eq!(
        nsrun()
            .run(["--pid", "--init", "sh", "-c", "echo $$"])
            .success(),
        "2\n"
    );
    // COMMAND leaves an orphan, which is reparented to PID 1, and never waits for
    // children it does not know (perl waits only for the PIDs it started).
    let script = r#"system("sh -c 'sleep 0.2 &'"); sleep 1; print `ps -e -o stat=,comm=`"#;
    let out = nsrun()
        .run(["--pid", "--init", "--mount-proc", "perl", "-e", script])
        .success();
    assert!(out.contains("perl"), "{out}");
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with('Z')),
        "zombie left:\n{out}"
    );
    // Without --init, perl is PID 1 and the orphan stays a zombie.
    let out = nsrun()
        .run(["--pid", "--mount-proc", "perl", "-e", script])
        .success();
    assert!(
        out.lines().any(|l| l.trim_start().starts_with('Z')),
        "expected a zombie:\n{out}"
    );
}

#[test]
fn init_forwards_term_to_command() {
    require_root!();
    let mut bg = Background::start(&["--pid", "--init", "sleep", "30"]);
    let init = bg.child_pid();
    let sleep_runs = wait_until(Duration::from_secs(10), || {
        children_of(init).iter().any(|c| {
            std::fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|n| n == "sleep\n")
        })
    });
    assert!(sleep_runs, "sleep did not start under the init");
    bg.signal(Signal::SIGTERM);
    assert_eq!(bg.wait("TERM was not forwarded").code(), Some(128 + 15));
}

#[test]
fn signals_reach_command() {
    require_root!();
    let script = "trap 'exit 3' USR1; echo ready; while :; do sleep 0.05; done";
    let mut bg = Background::start(&["--uts", "sh", "-c", script]);
    let mut line = String::new();
    let stdout = bg.run.child().stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    assert_eq!(line, "ready\n");
    bg.signal(Signal::SIGUSR1);
    assert_eq!(bg.wait("USR1 was not forwarded").code(), Some(3));
}

#[test]
fn kill_child_ends_command_when_nsrun_dies() {
    require_root!();
    let mut bg = Background::start(&["--kill-child", "sleep", "30"]);
    let child = bg.child_pid();
    // Wait for exec, so the PID is sleep itself.
    let sleep_runs = wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(format!("/proc/{child}/comm")).is_ok_and(|n| n == "sleep\n")
    });
    assert!(sleep_runs, "sleep did not start");
    bg.signal(Signal::SIGKILL);
    bg.wait("nsrun did not die");
    assert!(
        wait_until(Duration::from_secs(10), || !is_alive(child)),
        "the child outlived nsrun"
    );
}

#[test]
fn without_kill_child_command_outlives_nsrun() {
    require_root!();
    let mut bg = Background::start(&["--uts", "sleep", "30"]);
    let child = bg.child_pid();
    bg.signal(Signal::SIGKILL);
    bg.wait("nsrun did not die");
    std::thread::sleep(Duration::from_millis(100));
    let alive = is_alive(child);
    // End the process this test started, by PID.
    let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
    assert!(
        alive,
        "the child died with nsrun although --kill-child was not given"
    );
}

#[test]
fn a_failure_before_command_starts_undoes_everything() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    std::fs::write(&net, "").unwrap();
    let net_arg = format!("--net={}", net.display());
    // The namespace is persisted first, then the PID file cannot be written.
    let out = nsrun().run([&net_arg, "--pid-file", "/nonexistent/dir/pid", "true"]);
    out.expect_code(125);
    assert!(
        out.stderr()
            .starts_with("nsrun: cannot write /nonexistent/dir/"),
        "{}",
        out.stderr()
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let leaked = mounts.contains(&format!(" {} ", net.display()));
    if leaked {
        let _ = nix::mount::umount2(&net, nix::mount::MntFlags::MNT_DETACH);
    }
    assert!(!leaked, "the persisted namespace was not unmounted");
}
