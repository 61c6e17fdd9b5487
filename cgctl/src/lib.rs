//! cgctl: cgroups from the shell — create hierarchies and groups, move processes, set
//! limits and read usage — on cgroup v1, hybrid and v2 hosts.
//!
//! Parsing (values, names; mountinfo and /proc/PID/cgroup are nsproc's) is pure and
//! kept apart from the modules that act on cgroupfs ([`cgroup`]); processes are held
//! by pidfd ([`held`]). The binary only parses the command line ([`cli`]) and calls
//! [`run`], which runs the request ([`ops`]) and prints the result ([`print`]) through
//! nscli.

pub mod apply;
pub mod cgfs;
pub mod cgpath;
pub mod cgroup;
pub mod cli;
pub mod columns;
pub mod create;
pub mod ctx;
pub mod error;
pub mod events;
pub mod exec;
pub mod held;
pub mod helptext;
pub mod hook;
pub mod layout;
pub mod mount;
pub mod notify;
pub mod ops;
pub mod print;
pub mod procs;
pub mod psi;
pub mod remove;
pub mod resource;
pub mod run;
pub mod show;
pub mod subtree;
pub mod systemd;
pub mod top;
pub mod topview;
pub mod tree;
pub mod undo;
pub mod value;
pub mod watch;

pub use ctx::Ctx;
pub use error::Error;
