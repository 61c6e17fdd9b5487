//! `--setup CMD`: a shell command run in nsrun's own namespaces once the child's exist.

use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::error::{io_errno, Error};
use crate::signals;

/// How long the setup command has to end after a signal is passed on, before SIGKILL.
const GRACE: Duration = Duration::from_secs(1);

/// Runs `/bin/sh -c CMD` with `NSRUN_PID` set to `pid`, in a process group of its own.
/// Its stdout goes to nsrun's stderr (nsrun's stdout belongs to COMMAND), its stdin is
/// empty (it belongs to COMMAND too). A signal of [`signals::ENDING`] sent to nsrun
/// meanwhile is passed on to CMD's group, and ends the run with [`Error::Interrupted`].
pub fn run(cmd: &str, pid: Pid) -> Result<(), Error> {
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| {
            Error::sys(
                "cannot duplicate stderr for the setup command",
                io_errno(&e),
            )
        })?;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env("NSRUN_PID", pid.to_string())
        .stdin(Stdio::null())
        .stdout(stderr)
        .process_group(0)
        .spawn()
        .map_err(|e| Error::sys("cannot run the setup command /bin/sh", io_errno(&e)))?;
    let status = wait(&mut child);
    // A SIGCHLD taken while waiting may have been for nsrun's child as well: leave one
    // pending for whoever waits for it next.
    let _ = nix::sys::signal::raise(Signal::SIGCHLD);
    let status = status?;
    if status.success() {
        return Ok(());
    }
    Err(Error::Setup(match (status.code(), status.signal()) {
        (Some(code), _) => format!("failed with exit status {code}"),
        (_, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "failed".to_string(),
    }))
}

/// Waits for the setup command, taking SIGCHLD and the [`signals::ENDING`] signals (all
/// blocked). On an ending signal, or a failure to wait, the command's group is stopped.
fn wait(child: &mut Child) -> Result<ExitStatus, Error> {
    let mut set = signals::ending_set();
    set.add(Signal::SIGCHLD);
    loop {
        let received = match signals::wait(&set) {
            Ok(r) => r,
            Err(e) => {
                stop(child, Signal::SIGKILL);
                return Err(e);
            }
        };
        if received.signal != Signal::SIGCHLD {
            stop(child, received.signal);
            return Err(Error::Interrupted {
                signal: received.signal,
                during: "while the setup command ran",
            });
        }
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => {
                stop(child, Signal::SIGKILL);
                return Err(Error::sys(
                    "cannot wait for the setup command",
                    io_errno(&e),
                ));
            }
        }
    }
}

/// Passes `sig` to the setup command's process group, gives it [`GRACE`] to end, then
/// kills what is left of the group and reaps the command. The group's ID cannot be reused
/// meanwhile: its leader is not reaped before the last kill.
fn stop(child: &mut Child, sig: Signal) {
    let group = Pid::from_raw(-(child.id() as i32));
    let _ = kill(group, sig);
    let deadline = Instant::now() + GRACE;
    while !has_ended(child.id()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = kill(group, Signal::SIGKILL);
    let _ = child.wait();
}

/// Whether process `pid`, a child, has ended (without reaping it).
fn has_ended(pid: u32) -> bool {
    let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
    // SAFETY: `info` is writable memory of the right size; WNOWAIT leaves the child
    // waitable.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid,
            info.as_mut_ptr(),
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: waitid zeroed or filled `info`; si_pid is 0 while the child runs.
    rc != 0 || unsafe { info.assume_init().si_pid() } != 0
}
