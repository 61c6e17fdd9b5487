//! nsrun: run a command in new Linux namespaces.
//!
//! [`launch::run`] takes a [`Config`] and does the work; the binary only parses the
//! command line into one.

pub mod caps;
pub mod channel;
pub mod child;
pub mod cli;
pub mod command;
pub mod config;
pub mod error;
pub mod fsops;
pub mod fsplan;
pub mod hook;
pub mod idmap;
pub mod init;
pub mod join;
pub mod launch;
pub mod lockdown;
pub mod mask;
pub mod mountapi;
pub mod mounts;
pub mod persist;
pub mod pidfile;
pub mod seccomp;
pub mod signals;
pub mod subid;
pub mod terminal;
pub mod timens;

pub use config::Config;
pub use error::Error;
