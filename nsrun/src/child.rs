//! What nsrun's child does between clone(2) and exec(2): wait for the ID maps, set up the
//! inside of its new namespaces, report, wait for the go-ahead, then become COMMAND (or
//! nsrun's init).

use std::os::fd::{AsFd, OwnedFd};

use nix::sched::unshare;
use nix::sys::signal::SigSet;

use crate::channel::{ChildEnd, Order, Report};
use crate::command::{exit, Command, ExecOptions};
use crate::config::Config;
use crate::error::{Context, Error, EXIT_FAILED};
use crate::signals::set_parent_death_signal;
use crate::{fsops, init, mounts, timens};
use nsproc::Kind;

pub struct Child<'a> {
    pub cfg: &'a Config,
    pub command: &'a Command,
    pub end: ChildEnd,
    /// nsrun's signal mask from before it blocked anything.
    pub mask: &'a SigSet,
    pub foreground: bool,
    /// A pidfd of nsrun, to tell whether it died before PR_SET_PDEATHSIG took effect.
    pub parent: Option<OwnedFd>,
}

/// Runs in the child; never returns.
pub fn run(mut child: Child<'_>) -> ! {
    let cfg = child.cfg;
    if let Some(sig) = cfg.kill_child {
        if set_parent_death_signal(sig).is_err() || parent_is_gone(child.parent.take()) {
            exit(EXIT_FAILED);
        }
    }
    drop(child.parent.take());
    if cfg.has(Kind::User) && !child.end.wait_for(Order::MapsWritten) {
        exit(EXIT_FAILED);
    }
    if let Err(e) = set_up_inside(cfg) {
        child.end.report(&Report::Failed(e.to_string()));
        exit(EXIT_FAILED);
    }
    if cfg.has_outside_steps() && !child.end.ready() {
        exit(EXIT_FAILED);
    }
    if cfg.cgroup_after_setup() {
        if let Err(e) = unshare(Kind::Cgroup.clone_flag()).context(|| {
            "cannot create the cgroup namespace after the setup command (unshare)".into()
        }) {
            child.end.report(&Report::Failed(e.to_string()));
            exit(EXIT_FAILED);
        }
        if cfg.persist.iter().any(|(kind, _)| *kind == Kind::Cgroup) && !child.end.ready() {
            exit(EXIT_FAILED);
        }
    }
    let opts = ExecOptions {
        mask: child.mask,
        foreground: child.foreground,
        lockdown: &cfg.lockdown,
    };
    if cfg.init {
        exit(init::run(child.command, opts, cfg.kill_child, child.end));
    }
    child.command.exec(opts, &mut child.end)
}

/// Everything done inside the new namespaces before COMMAND may start.
pub fn set_up_inside(cfg: &Config) -> Result<(), Error> {
    cfg.lockdown.become_ids()?;
    if cfg.has(Kind::Time) {
        timens::enter_new(cfg.time)?;
    }
    if let Some(name) = &cfg.hostname {
        nix::unistd::sethostname(name).context(|| format!("cannot set hostname to '{name}'"))?;
    }
    if let Some(name) = &cfg.domainname {
        set_domainname(name)?;
    }
    if cfg.has(Kind::Mount) {
        mounts::set_propagation(cfg.propagation)?;
    }
    let build = fsops::Build {
        ops: &cfg.fs_ops,
        mask_defaults: cfg.mask_defaults,
        read_only: cfg.read_only,
    };
    match &cfg.root {
        Some(root) if cfg.has(Kind::Mount) => {
            fsops::pivot_into(root, build)?;
            mounts::enter_root(None, cfg.wd.as_deref())?;
        }
        root => {
            if cfg.has(Kind::Mount) && (!build.ops.is_empty() || build.read_only) {
                fsops::apply_here(build)?;
            }
            mounts::enter_root(root.as_deref(), cfg.wd.as_deref())?;
            if let Some(dir) = &cfg.mount_proc {
                mounts::mount_proc(dir)?;
            }
        }
    }
    Ok(())
}

fn set_domainname(name: &str) -> Result<(), Error> {
    // SAFETY: the pointer and length describe `name`'s bytes.
    let rc = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    nix::errno::Errno::result(rc).context(|| format!("cannot set domain name to '{name}'"))?;
    Ok(())
}

/// Whether the process behind `pidfd` has exited. Without a pidfd (Linux < 5.3) this
/// cannot be told: nsrun dying just before PR_SET_PDEATHSIG took effect goes unseen.
fn parent_is_gone(pidfd: Option<OwnedFd>) -> bool {
    let Some(fd) = pidfd else { return false };
    nsproc::pidfd::has_exited(fd.as_fd()).unwrap_or(false)
}
