//! What one nsrun invocation is to do, independent of how it was asked for.

use std::ffi::OsString;
use std::path::PathBuf;

use nix::sys::signal::Signal;

use crate::error::Error;
use crate::fsplan::FsOp;
use crate::idmap::UserMaps;
use crate::join::JoinSpec;
use crate::lockdown::Lockdown;
use crate::mounts::Propagation;
use crate::timens::TimeOffsets;
use nsproc::Kind;

#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Existing namespaces to enter first (`--join`), in the order given.
    pub join: Vec<JoinSpec>,
    /// Namespaces to create, each once, in [`Kind`] order.
    pub namespaces: Vec<Kind>,
    /// Namespaces to keep alive by bind-mounting them on these files.
    pub persist: Vec<(Kind, PathBuf)>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    /// Where to mount a fresh proc, if anywhere.
    pub mount_proc: Option<PathBuf>,
    pub propagation: Propagation,
    pub root: Option<PathBuf>,
    pub wd: Option<PathBuf>,
    /// Filesystem operations, in the order given.
    pub fs_ops: Vec<FsOp>,
    /// Mask and write-protect the OCI default paths of /proc and /sys.
    pub mask_defaults: bool,
    /// Make the root read-only once the operations are done.
    pub read_only: bool,
    pub maps: UserMaps,
    /// Session, capabilities, no_new_privs and seccomp of COMMAND.
    pub lockdown: Lockdown,
    pub time: TimeOffsets,
    /// Run nsrun's own init as the child, with COMMAND below it.
    pub init: bool,
    /// Signal COMMAND gets when nsrun dies.
    pub kill_child: Option<Signal>,
    pub pid_file: Option<PathBuf>,
    /// Shell command run outside before COMMAND starts.
    pub setup: Option<String>,
    /// COMMAND and its arguments; never empty.
    pub command: Vec<OsString>,
}

impl Config {
    pub fn has(&self, kind: Kind) -> bool {
        self.namespaces.contains(&kind)
    }

    /// Checks what can be checked before anything is created.
    pub fn check(&self) -> Result<(), Error> {
        // HOST_NAME_MAX; the kernel's EINVAL would not say why.
        const MAX_NAME: usize = 64;
        for (what, name) in [
            ("--hostname", &self.hostname),
            ("--domainname", &self.domainname),
        ] {
            if name.as_ref().is_some_and(|n| n.len() > MAX_NAME) {
                return Err(Error::Usage(format!(
                    "{what} takes at most {MAX_NAME} bytes"
                )));
            }
        }
        if let Some(path) = &self.pid_file {
            if path.file_name().is_none() {
                return Err(Error::Usage(format!(
                    "--pid-file {} does not name a file",
                    path.display()
                )));
            }
        }
        if self.command.is_empty() {
            return Err(Error::Usage("no COMMAND to run".into()));
        }
        self.time.check()
    }

    /// Whether nsrun must stay as COMMAND's parent. Otherwise it enters the namespaces
    /// itself and becomes COMMAND, as `unshare` without `--fork` does.
    pub fn needs_parent(&self) -> bool {
        self.has(Kind::Pid)
            || self.has(Kind::User)
            || self.init
            || self.kill_child.is_some()
            || self.lockdown.needs_fork()
            || self.has_outside_steps()
    }

    /// Whether the cgroup namespace is made only after the setup command ran, so that
    /// its root is the cgroup the setup command put the child in.
    pub fn cgroup_after_setup(&self) -> bool {
        self.has(Kind::Cgroup) && self.setup.is_some()
    }

    /// Whether nsrun has work to do outside once the namespaces exist and before COMMAND
    /// starts.
    pub fn has_outside_steps(&self) -> bool {
        !self.persist.is_empty() || self.pid_file.is_some() || self.setup.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_command() -> Config {
        Config {
            command: vec!["true".into()],
            ..Default::default()
        }
    }

    #[test]
    fn checks_names_and_files_before_anything_is_made() {
        assert!(with_command().check().is_ok());
        let long = Config {
            hostname: Some("h".repeat(65)),
            ..with_command()
        };
        assert!(matches!(long.check(), Err(Error::Usage(_))));
        let ok = Config {
            domainname: Some("d".repeat(64)),
            ..with_command()
        };
        assert!(ok.check().is_ok());
        let dir = Config {
            pid_file: Some("/".into()),
            ..with_command()
        };
        assert!(matches!(dir.check(), Err(Error::Usage(_))));
        assert!(matches!(Config::default().check(), Err(Error::Usage(_))));
    }

    #[test]
    fn stays_as_parent_only_when_needed() {
        let plain = Config {
            namespaces: vec![Kind::Uts, Kind::Net],
            ..with_command()
        };
        assert!(!plain.needs_parent());
        for cfg in [
            Config {
                namespaces: vec![Kind::Pid],
                ..with_command()
            },
            Config {
                namespaces: vec![Kind::User],
                ..with_command()
            },
            Config {
                init: true,
                ..with_command()
            },
            Config {
                setup: Some("true".into()),
                ..with_command()
            },
            Config {
                persist: vec![(Kind::Net, "/x".into())],
                ..with_command()
            },
            Config {
                lockdown: Lockdown {
                    new_session: true,
                    ..Default::default()
                },
                ..with_command()
            },
        ] {
            assert!(cfg.needs_parent(), "{cfg:?}");
        }
    }
}
