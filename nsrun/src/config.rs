//! What one nsrun invocation is to do, independent of how it was asked for.

use std::ffi::OsString;
use std::path::PathBuf;

use nix::sys::signal::Signal;

use crate::idmap::UserMaps;
use crate::mounts::Propagation;
use crate::timens::TimeOffsets;
use nskind::Kind;

#[derive(Clone, Debug, Default)]
pub struct Config {
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
    pub maps: UserMaps,
    pub keep_caps: bool,
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

    /// Whether nsrun must stay as COMMAND's parent. Otherwise it enters the namespaces
    /// itself and becomes COMMAND, as `unshare` without `--fork` does.
    pub fn needs_parent(&self) -> bool {
        self.has(Kind::Pid)
            || self.has(Kind::User)
            || self.init
            || self.kill_child.is_some()
            || self.has_outside_steps()
    }

    /// Whether nsrun has work to do outside once the namespaces exist and before COMMAND
    /// starts.
    pub fn has_outside_steps(&self) -> bool {
        !self.persist.is_empty() || self.pid_file.is_some() || self.setup.is_some()
    }
}
