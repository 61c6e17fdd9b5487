//! nsproc: the processes and namespaces the nstools binaries act on.
//!
//! - [`Kind`]: the namespace kinds, their clone flags and /proc names;
//! - [`NsId`] and [`NsFile`]: a namespace's identity (device, inode) and an open
//!   namespace file answering the nsfs ioctls;
//! - [`target`]: one parser for TARGET arguments (PID, `self`, path, named netns);
//! - [`Process`]: a process held by a pidfd and its /proc/PID directory, through which
//!   its namespaces, cgroups, status and command line are read;
//! - [`mountinfo`], [`cgroup`] and [`procinfo`]: pure parsers of /proc files.
//!
//! Nothing happens at start-up: no statics, and /proc is only read when asked.

pub mod cgroup;
pub mod error;
pub mod kind;
pub mod mountinfo;
pub mod nsid;
pub mod pidfd;
pub mod process;
pub mod procinfo;
pub mod target;

pub use error::{Error, Result};
pub use kind::{Kind, UnknownKind};
pub use nsid::{NsFile, NsId};
pub use process::{read_all, Process};
pub use target::{Policy, Target, TargetError};
