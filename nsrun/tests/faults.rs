//! Fault injection (issue 16): `nsrun --setup true --pid-file F --net=FILE -- true` with
//! each call that creates or records failing (EIO), or killed (SIGKILL) at it, in turn,
//! under `strace -f -e inject=...`. Whatever fails, nsrun never panics, and nothing of it
//! is left: no mount on FILE, no PID file or temporary, no process. Only SIGKILL of
//! nsrun itself may leave the mount and the PID file (documented: nothing can catch it).
//!
//! One test in a binary of its own: it makes the test process a child subreaper, so
//! that any process nsrun leaves behind becomes its child and is seen.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::mount::{umount2, MntFlags};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use testkit::{children_of, require_program, require_root, wait_until, ProcessGuard};

/// The calls that create or record something, and those of nsrun's undo path.
const SYSCALLS: [&str; 14] = [
    "write",
    "mkdir",
    "mkdirat",
    "rename",
    "renameat",
    "renameat2",
    "openat",
    "mount",
    "umount2",
    "unlinkat",
    "pipe2",
    "clone",
    "clone3",
    "wait4",
];

/// The whole suite's budget.
const BUDGET: Duration = Duration::from_secs(60);

struct Run {
    dir: tempfile::TempDir,
    log: tempfile::NamedTempFile,
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("net"), "").unwrap();
        Run {
            dir,
            log: tempfile::NamedTempFile::new().unwrap(),
        }
    }

    fn net(&self) -> std::path::PathBuf {
        self.dir.path().join("net")
    }

    /// strace's arguments, then nsrun's.
    fn command(&self, strace: &[&str]) -> Command {
        let mut cmd = Command::new("strace");
        cmd.args(["-f", "-qq", "-o"])
            .arg(self.log.path())
            .args(strace)
            .arg(env!("CARGO_BIN_EXE_nsrun"))
            .args(["--setup", "true", "--pid-file"])
            .arg(self.dir.path().join("pid"))
            .arg(format!("--net={}", self.net().display()))
            .args(["--", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // Also when the test fails before its own check.
        let _ = umount2(&self.net(), MntFlags::MNT_DETACH);
    }
}

fn is_mounted(path: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mounts.contains(&format!(" {} ", path.display()))
}

/// How many times each of [`SYSCALLS`] is called by a run without faults (all processes).
fn counts() -> Vec<(&'static str, u32)> {
    let run = Run::new();
    let status = run.command(&["-c", "-U", "name,calls"]).status().unwrap();
    let _ = umount2(&run.net(), MntFlags::MNT_DETACH);
    assert!(status.success(), "nsrun failed without faults: {status}");
    let text = std::fs::read_to_string(run.log.path()).unwrap();
    SYSCALLS
        .iter()
        .filter_map(|name| {
            text.lines().find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some(name))
                    .then(|| words.next()?.parse().ok())
                    .flatten()
                    .map(|n| (*name, n))
            })
        })
        .collect()
}

/// What one run under injection did and left.
struct Outcome {
    status: std::process::ExitStatus,
    stderr: String,
    /// nsrun itself was killed by the injected SIGKILL.
    nsrun_killed: bool,
    /// COMMAND (`true`) was executed.
    command_started: bool,
    mounted: bool,
    /// Files in the directory but FILE.
    files: Vec<String>,
}

fn inject(spec: &str) -> Outcome {
    let run = Run::new();
    let trace = format!("trace=execve,{}", spec.split(':').next().unwrap());
    let child = run
        .command(&["-e", &trace, "-e", &format!("inject={spec}")])
        .spawn()
        .unwrap();
    let mut guard = ProcessGuard::new(child);
    let status = guard
        .wait_timeout(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{spec}: nsrun hung"));
    let mut stderr = String::new();
    std::io::Read::read_to_string(guard.child().stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let log = std::fs::read_to_string(run.log.path()).unwrap();
    // The first line is nsrun's own execve, with its PID first.
    let nsrun_pid = log
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let nsrun_killed = log
        .lines()
        .any(|l| l.starts_with(&format!("{nsrun_pid} ")) && l.contains("killed by SIGKILL"));
    let command_started = log
        .lines()
        .any(|l| l.contains("execve(\"") && l.contains("/true\"") && l.ends_with("= 0"));
    let mounted = is_mounted(&run.net());
    if mounted {
        let _ = umount2(&run.net(), MntFlags::MNT_DETACH);
    }
    let files = std::fs::read_dir(run.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "net")
        .collect();
    Outcome {
        status,
        stderr,
        nsrun_killed,
        command_started,
        mounted,
        files,
    }
}

/// Reaps orphans that reached this (subreaper) process; the ones still running.
fn leftover_processes() -> Vec<i32> {
    let me = std::process::id() as i32;
    wait_until(Duration::from_secs(2), || {
        while let Ok(s) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            if s == WaitStatus::StillAlive {
                break;
            }
        }
        children_of(me).is_empty()
    });
    children_of(me)
}

#[test]
fn no_fault_leaves_anything_behind() {
    require_root!();
    require_program!("strace");
    // SAFETY: prctl with integer arguments only.
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
        0
    );
    let start = Instant::now();
    let (mut tried, mut successes, mut killed) = (0, 0, 0);
    'all: for (name, calls) in counts() {
        for n in 1..=calls {
            for fault in ["error=EIO", "signal=KILL"] {
                if start.elapsed() > BUDGET {
                    break 'all;
                }
                let spec = format!("{name}:{fault}:when={n}");
                let o = inject(&spec);
                tried += 1;
                let what = format!("{spec}: {:?} {}", o.status, o.stderr);
                assert!(!o.stderr.contains("panicked"), "{what}");
                assert_ne!(o.status.code(), Some(134), "{what}");
                assert_eq!(leftover_processes(), Vec::<i32>::new(), "{what}");
                if o.status.success() {
                    successes += 1;
                    assert!(o.command_started && o.mounted, "{what}: not a full success");
                }
                if o.nsrun_killed {
                    // Nothing can catch SIGKILL: the mount and the PID file may stay.
                    killed += 1;
                    continue;
                }
                // A failed removal cannot itself be undone: nsrun must say so.
                let left_said = match name {
                    "unlinkat" => o.stderr.contains("cannot remove the PID file"),
                    "umount2" => o.stderr.contains("cannot unmount"),
                    _ => false,
                };
                if !left_said {
                    assert_eq!(o.files, Vec::<String>::new(), "{what}: files left");
                }
                if !o.command_started {
                    assert!(!o.status.success(), "{what}");
                    assert!(!o.mounted || left_said, "{what}: FILE stayed mounted");
                }
            }
        }
    }
    eprintln!(
        "fault injection: {tried} injection points tried in {:.1} s, {successes} full \
         successes, {killed} with nsrun itself killed",
        start.elapsed().as_secs_f64()
    );
    assert!(tried > 0);
}
