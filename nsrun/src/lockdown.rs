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
    /// `--cap-drop`/`--cap-add`, if given.
    pub caps: Option<CapChange>,
    /// `--keep-caps`: kept capabilities become ambient.
    pub keep_caps: bool,
    pub no_new_privs: bool,
    pub new_session: bool,
    pub seccomp: Option<Filters>,
}

impl Lockdown {
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
            // SAFETY: prctl with integer arguments only.
            let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
            Errno::result(rc).map_err(|e| Error::sys("cannot set no_new_privs (prctl)", e))?;
        }
        Ok(if filter_first {
            None
        } else {
            self.seccomp.as_ref()
        })
    }
}

/// Installs the filter [`Lockdown::apply`] left for last.
pub fn install_last(filters: Option<&Filters>) -> Result<(), Error> {
    filters.map_or(Ok(()), seccomp::install)
}
