//! netns-bridge: connects network namespaces to a host bridge with veth pairs, hands out
//! their addresses, and removes everything again; also a CNI plugin.
//!
//! Layers, bottom up: [`netlink`] (socket, sequence numbers, ACKs, dumps, batches),
//! [`route`] (link, address and route messages), [`bridge`], [`attach`], [`teardown`]
//! and [`publish`] (the operations, [`undo`] rolling back a failed attach), over
//! [`ipam`], [`ipam6`], [`ports`] and [`names`] (pure) and [`lease`] (the locked state
//! per host namespace, one file per lease in [`store`], written through [`statedir`]). [`netns`] opens TARGETs
//! through nsproc; [`nat`] drives nftables; [`columns`] is `ls`'s table; [`cni`] speaks
//! the CNI protocol.

pub mod attach;
pub mod bridge;
pub mod cli;
pub mod cni;
pub mod columns;
pub mod error;
pub mod fault;
pub mod helptext;
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
pub mod store;
pub mod teardown;
pub mod undo;

pub use error::Error;
