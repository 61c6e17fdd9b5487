//! The last steps before exec(2), in bubblewrap's order: a new session, the capability
//! sets, no_new_privs, and the seccomp filter last of all (so nothing nsrun still does
//! is filtered). Without no_new_privs the kernel lets only a holder of CAP_SYS_ADMIN
//! install a filter, so then the filter goes in before the capabilities are dropped.

use nix::errno::Errno;

use crate::caps::{self, CapChange};
use crate::error::Error;
use crate::seccomp::{self, Filters};

/// What COMMAND is denied, applied by [`Lockdown::apply`].
#[derive(Clone, Debug, Default)]
pub struct Lockdown {
    /// `--setuid`, `--setgid`: the IDs COMMAND runs as (inside, with --user).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// `--cap-drop`/`--cap-add`, if given.
    pub caps: Option<CapChange>,
    /// `--keep-caps`: kept capabilities become ambient.
    pub keep_caps: bool,
    pub no_new_privs: bool,
    pub new_session: bool,
    pub seccomp: Option<Filters>,
}

impl Lockdown {
    /// Switches to `--setuid`/`--setgid` first thing inside, so that what nsrun makes
    /// there is theirs (a user namespace's tmpfs takes no file from an unmapped uid).
    /// The capabilities are kept (PR_SET_KEEPCAPS) for the rest of the set-up; exec(2)
    /// then gives a non-root COMMAND only what `--cap-add` or `--keep-caps` ask for.
    pub fn become_ids(&self) -> Result<(), Error> {
        if self.uid.is_none() && self.gid.is_none() {
            return Ok(());
        }
        prctl(libc::PR_SET_KEEPCAPS, 1)
            .map_err(|e| Error::sys("cannot keep capabilities (prctl)", e))?;
        if let Some(gid) = self.gid {
            let gid = nix::unistd::Gid::from_raw(gid);
            // Denied (EPERM) when /proc/PID/setgroups says deny: then there are none.
            match nix::unistd::setgroups(&[]) {
                Ok(()) | Err(Errno::EPERM) => {}
                Err(e) => return Err(Error::sys("cannot clear the supplementary groups", e)),
            }
            nix::unistd::setgid(gid).map_err(|e| Error::sys(format!("cannot set gid {gid}"), e))?;
        }
        if let Some(uid) = self.uid {
            let uid = nix::unistd::Uid::from_raw(uid);
            nix::unistd::setuid(uid).map_err(|e| Error::sys(format!("cannot set uid {uid}"), e))?;
        }
        prctl(libc::PR_SET_KEEPCAPS, 0)
            .map_err(|e| Error::sys("cannot reset keepcaps (prctl)", e))?;
        caps::make_effective()
    }

    /// Whether COMMAND needs to be a child of nsrun (setsid fails for a group leader,
    /// which nsrun itself may be).
    pub fn needs_fork(&self) -> bool {
        self.new_session
    }

    /// Applies everything but the seccomp filter when it goes last; returns what
    /// [`install_last`] installs just before exec.
    pub fn apply(&self) -> Result<Option<&Filters>, Error> {
        if self.new_session {
            nix::unistd::setsid()
                .map_err(|e| Error::sys("cannot start a new session (setsid)", e))?;
        }
        let filter_first = !self.no_new_privs;
        if filter_first {
            if let Some(filters) = &self.seccomp {
                seccomp::install(filters)?;
            }
        }
        match self.caps {
            Some(change) => {
                let ambient = self.keep_caps || !nix::unistd::geteuid().is_root();
                caps::restrict(change, ambient)?;
            }
            None if self.keep_caps => caps::keep_across_exec()?,
            None => {}
        }
        if self.no_new_privs {
            prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
                .map_err(|e| Error::sys("cannot set no_new_privs (prctl)", e))?;
        }
        Ok(if filter_first {
            None
        } else {
            self.seccomp.as_ref()
        })
    }
}

fn prctl(option: libc::c_int, value: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(option, value, 0, 0, 0) };
    Errno::result(rc).map(drop)
}

/// Installs the filter [`Lockdown::apply`] left for last.
pub fn install_last(filters: Option<&Filters>) -> Result<(), Error> {
    filters.map_or(Ok(()), seccomp::install)
}
