//! nsrun's own side: create the child in new namespaces, finish what must be done from
//! outside (ID maps, persisted namespaces, PID file, setup command), start COMMAND and
//! wait for it while forwarding signals. A failure before COMMAND starts undoes it all.

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::channel::{Order, ParentEnd, Pipes, Report};
use crate::child::{self, Child};
use crate::command::{Command, ExecOptions};
use crate::config::Config;
use crate::error::Error;
use crate::hook;
use crate::join::Joins;
use crate::persist::{self, Persisted};
use crate::pidfile::PidFile;
use crate::signals;
use crate::terminal::Terminal;
use nsproc::Kind;

/// Runs `cfg`; returns the exit status nsrun should end with.
pub fn run(cfg: &Config) -> Result<i32, Error> {
    cfg.check()?;
    let command = Command::new(&cfg.command)?;
    let joins = Joins::open(&cfg.join, &cfg.namespaces)?;
    // Joining a PID namespace takes a fork: only children are made in it.
    if !cfg.needs_parent() && !joins.has(Kind::Pid) {
        joins.enter()?;
        return Err(become_command(cfg, &command));
    }
    persist::check_targets(&cfg.persist)?;
    if let Some(path) = &cfg.pid_file {
        crate::pidfile::check(path)?;
    }
    let mask = signals::block(&signals::blocked_set())?;
    let terminal = Terminal::foreground();
    let parent = match cfg.kill_child {
        Some(_) => pidfd_of_self()?,
        None => None,
    };
    let pipes = Pipes::new()?;
    let own = joins.save_own()?;
    joins.enter()?;

    let pid = match clone_child(clone_flags(cfg)) {
        Err(e) => return Err(namespace_error(cfg, e, "clone")),
        Ok(None) => child::run(Child {
            cfg,
            command: &command,
            end: pipes.child(),
            mask: &mask,
            foreground: terminal.is_some(),
            parent,
        }),
        Ok(Some(pid)) => pid,
    };
    drop(parent);
    let mut child = Running { pid, reaped: false };
    let mut end = pipes.parent();
    if let Some(own) = own {
        own.restore()?;
    }

    if cfg.has(Kind::User) {
        cfg.maps.write(pid)?;
        end.send(Order::MapsWritten)?;
    }
    let outside = prepare_outside(cfg, pid, &mut end)?;
    let status = supervise(&mut child, terminal.as_ref());
    // The child has ended. A report left in the pipe means COMMAND never ran; none
    // (end-of-file: the pipe closed on exec) means it did, unless the child died with
    // its go-ahead unread. Reading it only now spares a wake-up before COMMAND starts.
    match end.receive_left()? {
        None if end.orders_unread()? => return Err(Error::ChildVanished),
        None => {}
        Some(Report::ExecFailed(source)) => {
            return Err(Error::Exec {
                command: command.name(),
                source,
            })
        }
        Some(Report::Failed(text)) => return Err(Error::Child(text)),
        Some(Report::Ready) => return Err(Error::Child("the child reported twice".into())),
    }
    outside.persisted.keep();
    status
}

/// What nsrun made outside for its child: undone when dropped, unless kept.
struct Outside {
    persisted: Persisted,
    _pid_file: Option<PidFile>,
}

/// Once the child reports its inside ready: persisted namespaces, the PID file, the
/// setup command, then the go-ahead. With --setup, the cgroup namespace is made (and
/// persisted) only after the setup command ran, with one more round.
fn prepare_outside(cfg: &Config, pid: Pid, end: &mut ParentEnd) -> Result<Outside, Error> {
    let mut outside = Outside {
        persisted: Persisted::default(),
        _pid_file: None,
    };
    if !cfg.has_outside_steps() {
        return Ok(outside);
    }
    let (late, early): (Vec<_>, Vec<_>) = cfg
        .persist
        .iter()
        .cloned()
        .partition(|(kind, _)| *kind == Kind::Cgroup && cfg.cgroup_after_setup());
    expect_ready(end.receive()?)?;
    outside.persisted.mount(pid, &early)?;
    outside._pid_file = cfg
        .pid_file
        .as_deref()
        .map(|path| PidFile::create(path, pid))
        .transpose()?;
    if let Some(cmd) = &cfg.setup {
        hook::run(cmd, pid)?;
    }
    go(end)?;
    if !late.is_empty() {
        expect_ready(end.receive()?)?;
        outside.persisted.mount(pid, &late)?;
        go(end)?;
    }
    Ok(outside)
}

/// The go-ahead for the child, unless a signal of [`signals::ENDING`] came first: then
/// nsrun ends, and what it made is undone.
fn go(end: &mut ParentEnd) -> Result<(), Error> {
    if let Some(signal) = signals::take_pending(&signals::ending_set())? {
        return Err(Error::Interrupted {
            signal,
            during: "before COMMAND started",
        });
    }
    end.send(Order::Go).map_err(|e| match e {
        Error::Sys {
            source: Errno::EPIPE,
            ..
        } => Error::ChildVanished,
        e => e,
    })
}

/// Enters the namespaces and executes COMMAND in this very process, saving a fork when
/// nothing needs nsrun to stay. Returns only on failure.
fn become_command(cfg: &Config, command: &Command) -> Error {
    if let Err(source) = nix::sched::unshare(clone_flags(cfg)) {
        return namespace_error(cfg, source, "unshare");
    }
    if let Err(e) = child::set_up_inside(cfg) {
        return e;
    }
    let mask = nix::sys::signal::SigSet::thread_get_mask()
        .unwrap_or_else(|_| nix::sys::signal::SigSet::empty());
    command.replace_process(ExecOptions {
        mask: &mask,
        foreground: false,
        lockdown: &cfg.lockdown,
    })
}

fn expect_ready(report: Option<Report>) -> Result<(), Error> {
    match report {
        Some(Report::Ready) => Ok(()),
        Some(Report::Failed(text)) => Err(Error::Child(text)),
        Some(Report::ExecFailed(e)) => Err(Error::Child(format!("the child failed early: {e}"))),
        None => Err(Error::ChildVanished),
    }
}

/// Every namespace but time, which the child makes itself (see `timens`), and cgroup when
/// it is made after the setup command.
fn clone_flags(cfg: &Config) -> CloneFlags {
    cfg.namespaces
        .iter()
        .filter(|k| **k != Kind::Time && !(**k == Kind::Cgroup && cfg.cgroup_after_setup()))
        .fold(CloneFlags::empty(), |f, k| f | k.clone_flag())
}

/// clone(2) without CLONE_VM or a new stack: a fork(2) that creates namespaces.
/// `Ok(None)` in the child.
fn clone_child(flags: CloneFlags) -> Result<Option<Pid>, Errno> {
    let flags = flags.bits() as libc::c_ulong | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: without CLONE_VM the child runs on a copy of this process's memory, exactly
    // as after fork(2); nsrun has a single thread, so no lock is held by another thread.
    let rc = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    match Errno::result(rc)? {
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid as i32))),
    }
}

fn namespace_error(cfg: &Config, source: Errno, call: &str) -> Error {
    let kinds: Vec<&str> = cfg.namespaces.iter().map(|k| k.proc_name()).collect();
    let hint = match source {
        Errno::EPERM if !cfg.has(Kind::User) => {
            " (creating namespaces needs CAP_SYS_ADMIN: run as root, or add --user --map-root-user)"
        }
        Errno::EPERM => " (user namespaces may be disabled here, e.g. by kernel.unprivileged_userns_clone or an LSM)",
        Errno::ENOSPC | Errno::EUSERS => " (a namespace limit in /proc/sys/user/ was reached)",
        Errno::EINVAL => " (this kernel may lack one of these namespace kinds)",
        _ => "",
    };
    Error::Sys {
        what: format!("cannot create {} namespaces ({call})", kinds.join(", ")),
        source,
        hint,
    }
}

/// A pidfd of nsrun for the child's check; `None` on a kernel without pidfds.
fn pidfd_of_self() -> Result<Option<OwnedFd>, Error> {
    nsproc::pidfd::open(std::process::id() as i32)
        .map_err(|e| Error::sys("cannot open a pidfd of nsrun", e))
}

/// The child; killed and reaped if nsrun gives up on it before it has ended.
struct Running {
    pid: Pid,
    reaped: bool,
}

impl Running {
    fn wait(&mut self) {
        let _ = waitpid(self.pid, None);
        self.reaped = true;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = kill(self.pid, Signal::SIGKILL);
            self.wait();
        }
    }
}

/// Waits for COMMAND to end, forwarding signals to it; returns its exit status.
fn supervise(child: &mut Running, terminal: Option<&Terminal>) -> Result<i32, Error> {
    let set = signals::wait_set();
    let flags = match terminal {
        Some(_) => WaitPidFlag::WNOHANG | WaitPidFlag::WUNTRACED,
        None => WaitPidFlag::WNOHANG,
    };
    loop {
        let received = signals::wait(&set)?;
        if received.signal != Signal::SIGCHLD {
            // A terminal's Ctrl-C reaches COMMAND by itself when it shares our group.
            if terminal.is_some() || !received.from_kernel {
                let _ = kill(child.pid, received.signal);
            }
            continue;
        }
        loop {
            match waitpid(child.pid, Some(flags)) {
                Ok(WaitStatus::Exited(_, code)) => {
                    child.reaped = true;
                    return Ok(code);
                }
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    child.reaped = true;
                    return Ok(signals::exit_code(sig as i32));
                }
                Ok(WaitStatus::Stopped(pid, _)) => {
                    if let Some(t) = terminal {
                        t.suspend(pid);
                    }
                }
                Ok(_) => break,
                Err(Errno::EINTR) => {}
                Err(e) => {
                    child.reaped = true;
                    return Err(Error::sys(format!("cannot wait for PID {}", child.pid), e));
                }
            }
        }
    }
}
