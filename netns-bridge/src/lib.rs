//! netns-bridge: connects network namespaces to a host bridge with veth pairs, hands out
//! their addresses, and removes everything again; also a CNI plugin.
//!
//! Layers, bottom up: [`netlink`] (socket, sequence numbers, ACKs, dumps, batches),
//! [`route`] (link, address and route messages), [`bridge`], [`attach`] and
//! [`teardown`] (the operations, [`undo`] rolling back a failed attach), over [`ipam`] and [`names`] (pure) and [`lease`] (the
//! locked state, kept in files through [`statedir`]). [`nat`] drives nftables; [`cni`] speaks the CNI protocol.

pub mod attach;
pub mod bridge;
pub mod cli;
pub mod cni;
pub mod columns;
pub mod error;
pub mod fault;
pub mod ipam;
pub mod ipam6;
pub mod lease;
pub mod names;
pub mod nat;
pub mod netlink;
pub mod netns;
pub mod ports;
pub mod publish;
pub mod route;
pub mod statedir;
pub mod teardown;
pub mod undo;

pub use error::Error;
