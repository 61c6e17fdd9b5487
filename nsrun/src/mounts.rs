//! Mount set-up inside a new mount namespace: propagation, root, working directory, proc.

use std::path::Path;

use nix::mount::{mount, MsFlags};

use crate::error::{Context, Error};

/// Mount propagation applied recursively to `/` in the new mount namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Propagation {
    /// Nothing crosses in either direction (the default).
    #[default]
    Private,
    /// Mounts propagate both ways with the namespace nsrun came from.
    Shared,
    /// Host mounts appear inside; nothing inside appears on the host.
    Slave,
    /// Keep what the copied mounts had (shared mounts stay shared with the host).
    Unchanged,
}

impl Propagation {
    fn flag(self) -> Option<MsFlags> {
        match self {
            Propagation::Private => Some(MsFlags::MS_PRIVATE),
            Propagation::Shared => Some(MsFlags::MS_SHARED),
            Propagation::Slave => Some(MsFlags::MS_SLAVE),
            Propagation::Unchanged => None,
        }
    }
}

/// Sets the propagation of every mount in this (new) mount namespace.
pub fn set_propagation(p: Propagation) -> Result<(), Error> {
    let Some(flag) = p.flag() else { return Ok(()) };
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | flag,
        None::<&str>,
    )
    .context(|| format!("cannot make mounts {p:?} (mount --make-r{p:?} /)").to_lowercase())?;
    Ok(())
}

/// chroot(2) into `root`, then change to `wd` (or `/`) inside it; or only change to `wd`.
pub fn enter_root(root: Option<&Path>, wd: Option<&Path>) -> Result<(), Error> {
    if let Some(root) = root {
        nix::unistd::chroot(root)
            .context(|| format!("cannot change root to {}", root.display()))?;
    }
    let dir = wd.or(root.map(|_| Path::new("/")));
    if let Some(dir) = dir {
        nix::unistd::chdir(dir)
            .context(|| format!("cannot change directory to {}", dir.display()))?;
    }
    Ok(())
}

/// Mounts a new proc on `dir`, showing the PID namespace of the caller.
pub fn mount_proc(dir: &Path) -> Result<(), Error> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), dir, Some("proc"), flags, None::<&str>)
        .context(|| format!("cannot mount proc on {}", dir.display()))?;
    Ok(())
}
