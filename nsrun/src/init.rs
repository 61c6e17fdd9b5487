//! `--init`: a minimal init that runs as PID 1 of the new PID namespace (or as a child
//! subreaper without one). It starts COMMAND as its child, forwards signals to it, reaps
//! every orphan, and exits with COMMAND's status.

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, getpid, getppid, ForkResult, Pid};

use crate::channel::{ChildEnd, Report};
use crate::command::{exit, Command, ExecOptions};
use crate::error::EXIT_FAILED;
use crate::signals::{self, set_parent_death_signal};

/// Runs the init; returns the exit status it should end with.
pub fn run(
    command: &Command,
    opts: ExecOptions<'_>,
    kill_child: Option<Signal>,
    mut end: ChildEnd,
) -> i32 {
    let me = getpid();
    // SAFETY: PR_SET_NAME reads a NUL-terminated name of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, c"nsrun-init".as_ptr(), 0, 0, 0) };
    if me.as_raw() != 1 {
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    // SAFETY: this process has a single thread, so the child may run any code.
    match unsafe { fork() } {
        Err(e) => {
            end.report(&Report::Failed(format!(
                "init cannot start COMMAND (fork): {e}"
            )));
            EXIT_FAILED
        }
        Ok(ForkResult::Child) => {
            if let Some(sig) = kill_child {
                if set_parent_death_signal(sig).is_err() || getppid() != me {
                    exit(EXIT_FAILED);
                }
            }
            command.exec(opts, &mut end)
        }
        Ok(ForkResult::Parent { child }) => {
            // COMMAND holds the report pipe now; nsrun reads end-of-file once it has exec'd.
            drop(end);
            supervise(child, opts.foreground)
        }
    }
}

fn supervise(command: Pid, own_group: bool) -> i32 {
    let set = signals::wait_set();
    loop {
        let Ok(received) = signals::wait(&set) else {
            return EXIT_FAILED;
        };
        if received.signal != Signal::SIGCHLD {
            // A terminal's signal already reached COMMAND if it shares our process group.
            if own_group || !received.from_kernel {
                let _ = kill(command, received.signal);
            }
            continue;
        }
        let mut status = None;
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid == command => status = Some(code),
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid == command => {
                    status = Some(signals::exit_code(sig as i32));
                }
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if let Some(code) = status {
            return code;
        }
    }
}
