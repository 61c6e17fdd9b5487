//! cgctl: cgroups from the shell — create hierarchies and groups, move processes, set
//! limits and read usage — on cgroup v1, hybrid and v2 hosts.
//!
//! Parsing (mountinfo, /proc/PID/cgroup, values, names) is pure and kept apart from
//! the modules that act on cgroupfs ([`cgroup`]); the binary only turns the command
//! line into a request ([`cli`]), runs it ([`ops`]) and prints the result ([`print`]).

pub mod apply;
pub mod cgfs;
pub mod cgpath;
pub mod cgroup;
pub mod cli;
pub mod create;
pub mod ctx;
pub mod error;
pub mod exec;
pub mod held;
pub mod hook;
pub mod layout;
pub mod mount;
pub mod ops;
pub mod print;
pub mod procs;
pub mod remove;
pub mod resource;
pub mod show;
pub mod subtree;
pub mod tree;
pub mod value;

pub use ctx::Ctx;
pub use error::Error;
