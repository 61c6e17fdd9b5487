//! `publish` and `unpublish`: a port of an attached namespace recorded with its lease,
//! under the bridge's lock, and the bridge's ports table made anew from the state
//! (see [`crate::ports`]). Detach, gc and down remove a namespace's ports with it.

use std::path::PathBuf;

use crate::error::Error;
use crate::lease::{self, BridgeState, Store};
use crate::names;
use crate::netns;
use crate::ports::{self, Port, Proto};

/// Where forwarding is turned on: connections from outside and from other namespaces
/// are forwarded to the namespace.
const FORWARDING: &str = "/proc/sys/net/ipv4/ip_forward";
const FORWARDING6: &str = "/proc/sys/net/ipv6/conf/all/forwarding";

/// `publish`: forward `port` of the host to the namespace `target` on `bridge`.
#[derive(Clone, Debug)]
pub struct Publish {
    pub state_root: PathBuf,
    pub bridge: String,
    pub target: String,
    pub port: Port,
}

/// `unpublish`: stop forwarding `host_port`/`proto` to `target`.
#[derive(Clone, Debug)]
pub struct Unpublish {
    pub state_root: PathBuf,
    pub bridge: String,
    pub target: String,
    pub host_port: u16,
    pub proto: Proto,
}

/// Publishes the port. The same mapping again is success; a host port another mapping
/// takes is refused.
pub fn publish(request: &Publish) -> Result<(), Error> {
    let bridge = request.bridge.as_str();
    names::check_ifname(bridge, "bridge name")?;
    let root = lease::host_root(&request.state_root)?;
    let ns = netns::open(&request.target)?
        .ok_or_else(|| Error::invalid(format!("no network namespace at {}", request.target)))?;
    let not_attached = || {
        Error::invalid(format!(
            "{} is not attached to bridge {bridge}",
            ns.path.display()
        ))
    };
    let store = Store::lock_existing(&root, bridge)?.ok_or_else(not_attached)?;
    let mut state = store.load()?;
    let port = request.port;
    if let Some(owner) = state
        .leases
        .iter()
        .find(|l| l.ports.iter().any(|p| ports::clash(p, &port) && *p != port))
    {
        return Err(Error::Busy(format!(
            "host port {}/{} is published for {} already",
            port.host_port, port.proto, owner.target
        )));
    }
    let lease = state
        .leases
        .iter_mut()
        .find(|l| l.netns_id() == Some(ns.id) && !l.pending)
        .ok_or_else(not_attached)?;
    if lease.ports.contains(&port) {
        return Ok(());
    }
    // With br_netfilter, the namespace's connections to its own published port are
    // bridged back out of the port they came in by: hairpin mode lets them.
    let veth = lease.host_veth.clone();
    crate::netlink::Socket::open()?
        .request(crate::route::set_hairpin_message(&veth), 0)
        .map_err(|source| Error::Netlink {
            what: format!("cannot turn hairpin mode on for {veth}"),
            source,
        })?;
    let before = state.clone();
    if let Some(lease) = state
        .leases
        .iter_mut()
        .find(|l| l.netns_id() == Some(ns.id))
    {
        lease.ports.push(port);
    }
    let knobs = [FORWARDING, FORWARDING6];
    let family = if state.subnet6().is_some() { 2 } else { 1 };
    for knob in &knobs[..family] {
        std::fs::write(knob, "1").map_err(|e| Error::File {
            what: "cannot turn on forwarding in",
            path: knob.into(),
            source: e,
        })?;
    }
    store.save(&state)?;
    if let Err(e) = apply(bridge, &state) {
        // Back to what was published before; the error says why.
        let _ = store.save(&before).and_then(|()| apply(bridge, &before));
        return Err(e);
    }
    Ok(())
}

/// Unpublishes the port; one that is not published is success.
pub fn unpublish(request: &Unpublish) -> Result<(), Error> {
    let bridge = request.bridge.as_str();
    names::check_ifname(bridge, "bridge name")?;
    let root = lease::host_root(&request.state_root)?;
    let Some(ns) = netns::open(&request.target)? else {
        return Ok(());
    };
    let Some(store) = Store::lock_existing(&root, bridge)? else {
        return Ok(());
    };
    let mut state = store.load()?;
    let mut changed = false;
    for lease in state
        .leases
        .iter_mut()
        .filter(|l| l.netns_id() == Some(ns.id))
    {
        let before = lease.ports.len();
        lease
            .ports
            .retain(|p| !(p.host_port == request.host_port && p.proto == request.proto));
        changed |= lease.ports.len() != before;
    }
    if !changed {
        return Ok(());
    }
    store.save(&state)?;
    apply(bridge, &state)
}

/// Makes the bridge's ports table say what `state` says (removes it with no port).
pub fn apply(bridge: &str, state: &BridgeState) -> Result<(), Error> {
    crate::nat::nft(
        &ports::ruleset(bridge, state),
        &format!("cannot update the published ports of {bridge}"),
    )
}

/// After a teardown changed the leases: the ports table follows, when `before` had any
/// published port.
pub fn follow(bridge: &str, before: &BridgeState, after: &BridgeState) -> Result<(), Error> {
    if before.leases.iter().all(|l| l.ports.is_empty()) || before == after {
        return Ok(());
    }
    apply(bridge, after)
}

/// Parses `HOSTPORT[/tcp|udp]` for `unpublish`.
pub fn parse_host_port(spec: &str) -> Result<(u16, Proto), Error> {
    let probe: Port = match spec.split_once('/') {
        Some((port, proto)) => format!("{port}:1/{proto}").parse()?,
        None => format!("{spec}:1").parse()?,
    };
    Ok((probe.host_port, probe.proto))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports_parse() {
        assert_eq!(parse_host_port("8080").ok(), Some((8080, Proto::Tcp)));
        assert_eq!(parse_host_port("53/udp").ok(), Some((53, Proto::Udp)));
        for bad in ["", "0", "x", "80/icmp", "80:80"] {
            assert!(parse_host_port(bad).is_err(), "{bad}");
        }
    }
}
