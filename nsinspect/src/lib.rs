//! nsinspect: show and compare the namespaces of processes, and list every namespace
//! on the host.
//!
//! One target ([`show`]) and compare ([`compare`]) read only the targets' own /proc
//! entries; `--all` ([`listing`]) scans every process ([`procscan`]) with as few system
//! calls as it can. Processes, namespace files and their identities, and the /proc
//! parsers come from the shared crate `nsproc`. The binary parses the command line
//! and runs one of the [`modes`]; [`output`] turns results into nscli's cells.

pub mod cli;
pub mod columns;
pub mod compare;
pub mod details;
pub mod entry;
pub mod error;
pub mod fdscan;
pub mod listing;
pub mod modes;
pub mod output;
pub mod parallel;
pub mod procread;
pub mod procscan;
pub mod relations;
pub mod show;
pub mod target;
pub mod userns;

pub use error::Error;
