//! The host bridge: found or created (gateway address, up, stable MAC), with the subnet
//! it serves; removed by `down`.

use std::net::Ipv4Addr;
use std::path::Path;

use netlink_packet_route::RouteNetlinkMessage;
use nix::errno::Errno;

use crate::error::Error;
use crate::ipam::{self, Subnet};
use crate::ipam6::Subnet6;
use crate::lease::{BridgeRecord, BridgeState, HostLock, Store};
use crate::netlink::Socket;
use crate::route::{self, Link};
use crate::undo::{self, Transaction};

/// A bridge ready to take ports.
#[derive(Clone, Debug)]
pub struct Bridge {
    pub name: String,
    pub index: u32,
    pub subnet: Subnet,
    /// The IPv6 subnet, when the bridge serves both families.
    pub subnet6: Option<Subnet6>,
    pub mac: [u8; 6],
    /// The bridge is one netns-bridge keeps, so its gateway address was not looked up
    /// (that costs a dump): the caller adds it with [`gateway_message`] in its next
    /// batch, where EEXIST means it is there.
    pub verify_gateway: bool,
}

/// Adds the gateway address to the bridge; fails with EEXIST when it is there.
pub fn gateway_message(bridge: &Bridge) -> RouteNetlinkMessage {
    route::add_address_message(bridge.index, bridge.subnet.gateway(), &bridge.subnet)
}

/// Finds the bridge `name` or creates it. `requested` is `--subnet`: used for a new
/// bridge, and must match the subnet of an existing one. Records the subnet in `state`.
/// `existing` is the link called `name` as the caller just looked it up. What it makes
/// (the bridge, or the gateway address on a bridge that was there) is undone by `tx`.
/// Without `gateway` (CNI `isGateway: false`) no gateway address is added.
#[allow(clippy::too_many_arguments)]
pub fn ensure<'a>(
    tx: &mut Transaction<'a, Socket>,
    name: &str,
    existing: Option<Link>,
    store: &'a Store,
    state: &mut BridgeState,
    requested: Option<Subnet>,
    requested6: Option<Subnet6>,
    gateway: bool,
    mtu: Option<u32>,
    state_root: &Path,
) -> Result<Bridge, Error> {
    let socket = tx.context();
    if let Some(link) = &existing {
        if link.kind.as_deref() != Some("bridge") {
            return Err(Error::invalid(format!(
                "{name} exists and is not a bridge ({})",
                link.kind.as_deref().unwrap_or("no kind")
            )));
        }
    }
    let mac = crate::names::bridge_mac(name);
    let remembered = state.subnet();
    if let (Some(known), Some(requested)) = (remembered, requested) {
        if known != requested {
            return Err(mismatch(name, known, requested));
        }
    }
    let remembered6 = state.subnet6();
    if let Some(requested6) = requested6 {
        match remembered6 {
            Some(known) if known != requested6 => {
                return Err(Error::invalid(format!(
                    "bridge {name} already serves IPv6 subnet {known}, not {requested6}"
                )))
            }
            None if state.bridge.is_some() => {
                return Err(Error::invalid(format!(
                    "bridge {name} has no IPv6 subnet: it is given when the bridge is first attached to"
                )))
            }
            _ => {}
        }
    }
    let tag = crate::names::bridge_tag(name);
    // The common case: a bridge netns-bridge keeps and has seen. No address dump.
    if let (Some(link), Some(subnet)) = (&existing, remembered) {
        let mut batch = Vec::new();
        if !link.up {
            batch.push((route::set_up_message(link.index), 0));
        }
        // A bridge an attach killed before it could tag it is tagged now.
        let created = state.bridge.as_ref().is_some_and(|b| b.created);
        if created && link.alias.as_deref() != Some(tag.as_str()) {
            batch.push((route::set_alias_message(name, &tag), 0));
        }
        for reply in socket.batch(batch)? {
            reply.map_err(|source| Error::Netlink {
                what: format!("cannot bring bridge {name} up"),
                source,
            })?;
        }
        let bridge = Bridge {
            name: name.to_string(),
            index: link.index,
            subnet,
            subnet6: remembered6,
            mac: link.mac.unwrap_or(mac),
            verify_gateway: gateway,
        };
        return Ok(bridge);
    }

    // A bridge new to the state: its subnet is chosen under the host's lock, and
    // recorded (pending) before anything is made, so concurrent new bridges see it and a
    // `gc` after a crash finds what this attach was making.
    let host_lock = HostLock::take(state_root, crate::netns::own_id()?)?;
    let on_link = match &existing {
        Some(link) => link_subnet(socket, link)?,
        None => None,
    };
    let known = on_link.or(remembered);
    if let (Some(known), Some(requested)) = (known, requested) {
        if known != requested {
            return Err(mismatch(name, known, requested));
        }
    }
    let subnet = match known.or(requested) {
        Some(s) => {
            if known.is_none() {
                check_no_overlap(state_root, name, &s)?;
            }
            s
        }
        None => default_subnet(socket, state_root, name)?,
    };
    // A bridge with netns-bridge's tag was made by an attach whose state was lost: ours.
    let tagged = existing
        .as_ref()
        .is_some_and(|l| l.alias.as_deref() == Some(tag.as_str()));
    let subnet6 = remembered6.or(requested6);
    state.bridge = Some(BridgeRecord {
        subnet: subnet.to_string(),
        gateway: subnet.custom_gateway(),
        subnet6: subnet6.map(|s| s.to_string()),
        nat: state.bridge.as_ref().is_some_and(|b| b.nat),
        mtu: state.bridge.as_ref().and_then(|b| b.mtu).or(mtu),
        created: existing.is_none() || tagged,
        gateway_added: existing.is_some() && !tagged && on_link.is_none() && gateway,
        pending: true,
        nat_pending: state.bridge.as_ref().is_some_and(|b| b.nat_pending),
        pending_by: state
            .bridge
            .as_ref()
            .map(|b| b.pending_by.clone())
            .unwrap_or_default(),
    });
    store.save(state)?;
    drop(host_lock);

    match existing {
        Some(link) => {
            let mut batch = Vec::new();
            if on_link.is_none() && gateway {
                batch.push((
                    route::add_address_message(link.index, subnet.gateway(), &subnet),
                    route::CREATE,
                ));
                if let Some(s6) = subnet6 {
                    batch.push((
                        route::add_address6_message(link.index, s6.gateway(), s6.prefix()),
                        route::CREATE,
                    ));
                }
                // Before the batch: the address may be added and the bring-up then fail.
                let (bridge, index) = (name.to_string(), link.index);
                tx.on_undo(move |socket| {
                    remove_gateway(socket, &bridge, index, &subnet)?;
                    remove_gateway6(socket, &bridge, index, subnet6)
                });
            }
            if !link.up {
                batch.push((route::set_up_message(link.index), 0));
            }
            let bridge = Bridge {
                name: name.to_string(),
                index: link.index,
                subnet,
                subnet6,
                mac: link.mac.unwrap_or(mac),
                verify_gateway: false,
            };
            for reply in tx.context().batch(batch)? {
                if let Err(source) = reply {
                    return Err(Error::Netlink {
                        what: format!("cannot set up bridge {name}"),
                        source,
                    });
                }
            }
            Ok(bridge)
        }
        None => {
            // Before: with its acknowledgement lost, the bridge may exist all the same.
            // Only a bridge of ours goes (one that was there is someone else's).
            let bridge = name.to_string();
            tx.on_undo(move |socket| delete_if_ours(socket, &bridge));
            tx.context().call(
                || format!("cannot create bridge {name}"),
                route::create_bridge_message(name, mac, mtu),
                route::CREATE,
            )?;
            let socket = tx.context();
            let batch = vec![
                (route::set_alias_message(name, &tag), 0),
                (route::get_link_message(name), 0),
            ];
            let mut replies = socket.batch(batch)?.into_iter();
            let fail = |source| Error::Netlink {
                what: format!("cannot tag bridge {name}"),
                source,
            };
            replies.next().unwrap_or(Err(Errno::EIO)).map_err(fail)?;
            let read = replies.next().unwrap_or(Err(Errno::EIO)).map_err(fail)?;
            let link = route::link_of(&read).ok_or_else(|| Error::Protocol {
                what: format!("cannot create bridge {name}"),
                why: "it vanished right after creation".into(),
            })?;
            if gateway {
                socket.call(
                    || {
                        format!(
                            "cannot add {}/{} to bridge {name}",
                            subnet.gateway(),
                            subnet.prefix()
                        )
                    },
                    route::add_address_message(link.index, subnet.gateway(), &subnet),
                    route::CREATE,
                )?;
            }
            if let Some(s6) = subnet6.filter(|_| gateway) {
                socket.call(
                    || {
                        format!(
                            "cannot add {}/{} to bridge {name}",
                            s6.gateway(),
                            s6.prefix()
                        )
                    },
                    route::add_address6_message(link.index, s6.gateway(), s6.prefix()),
                    route::CREATE,
                )?;
            }
            Ok(Bridge {
                name: name.to_string(),
                index: link.index,
                subnet,
                subnet6,
                mac,
                verify_gateway: false,
            })
        }
    }
}

fn mismatch(name: &str, known: Subnet, requested: Subnet) -> Error {
    if known.to_string() == requested.to_string() {
        return Error::invalid(format!(
            "bridge {name} already has gateway {} in subnet {known}, not {}",
            known.gateway(),
            requested.gateway()
        ));
    }
    Error::invalid(format!(
        "bridge {name} already serves subnet {known}, not {requested}"
    ))
}

/// Whether the link is a bridge netns-bridge made for `name`: one with its tag, or one
/// with the MAC it gives its bridges and no alias yet (made, not yet tagged).
pub fn is_ours(link: &Link, name: &str) -> bool {
    link.kind.as_deref() == Some("bridge")
        && match link.alias.as_deref() {
            Some(alias) => alias == crate::names::bridge_tag(name),
            None => link.mac == Some(crate::names::bridge_mac(name)),
        }
}

/// Deletes the bridge `name` if it is netns-bridge's (see [`is_ours`]); one that is
/// not there, or someone else's, is left as it is.
pub fn delete_if_ours(socket: &mut Socket, name: &str) -> Result<(), Error> {
    match route::link_by_name(socket, name)? {
        Some(link) if is_ours(&link, name) => route::delete_link(socket, name),
        _ => Ok(()),
    }
}

/// Removes what netns-bridge made of the bridge `name` (for `down`): the bridge if it
/// created it, else the gateway address if it added that. Gone is success.
pub fn remove(socket: &mut Socket, name: &str, record: &BridgeRecord) -> Result<(), Error> {
    if record.created {
        return route::delete_link(socket, name);
    }
    if !record.gateway_added {
        return Ok(());
    }
    let (Some(link), Ok(subnet)) = (route::link_by_name(socket, name)?, record.subnet.parse())
    else {
        return Ok(());
    };
    remove_gateway(socket, name, link.index, &subnet)?;
    let subnet6 = record.subnet6.as_deref().and_then(|s| s.parse().ok());
    remove_gateway6(socket, name, link.index, subnet6)
}

/// Removes the IPv6 gateway address of `subnet6` (if any) from the bridge `name`; an
/// address or bridge that is gone is success.
pub fn remove_gateway6(
    socket: &mut Socket,
    name: &str,
    index: u32,
    subnet6: Option<Subnet6>,
) -> Result<(), Error> {
    let Some(s6) = subnet6 else {
        return Ok(());
    };
    let message = route::delete_address6_message(index, s6.gateway(), s6.prefix());
    match socket.request(message, 0) {
        Ok(_) => Ok(()),
        Err(source) if undo::gone(source) => Ok(()),
        Err(source) => Err(Error::Netlink {
            what: format!("cannot remove the IPv6 gateway address from {name}"),
            source,
        }),
    }
}

/// Removes the gateway address of `subnet` from the bridge `name` (ifindex `index`);
/// an address or bridge that is gone is success.
pub fn remove_gateway(
    socket: &mut Socket,
    name: &str,
    index: u32,
    subnet: &Subnet,
) -> Result<(), Error> {
    let message = route::delete_address_message(index, subnet.gateway(), subnet);
    match socket.request(message, 0) {
        Ok(_) => Ok(()),
        Err(source) if undo::gone(source) => Ok(()),
        Err(source) => Err(Error::Netlink {
            what: format!("cannot remove the gateway address from {name}"),
            source,
        }),
    }
}

/// The subnet of the first IPv4 address on an existing link.
fn link_subnet(socket: &mut Socket, link: &Link) -> Result<Option<Subnet>, Error> {
    let addresses = route::addresses(socket, link.index)?;
    Ok(addresses.into_iter().find_map(|(ip, prefix)| {
        let network = Ipv4Addr::from(u32::from(ip) & mask(prefix));
        Subnet::new(network, prefix).ok()?.with_gateway(ip).ok()
    }))
}

fn mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

/// A new bridge's `--subnet` must not overlap another bridge's: two bridges with one
/// gateway address and one route would split the subnet's traffic at random.
fn check_no_overlap(state_root: &Path, name: &str, subnet: &Subnet) -> Result<(), Error> {
    for (other, theirs) in Store::subnets(state_root, name)? {
        if subnet.overlaps(theirs.network(), theirs.prefix()) {
            return Err(Error::invalid(format!(
                "subnet {subnet} overlaps subnet {theirs} of bridge {other}"
            )));
        }
    }
    Ok(())
}

/// A /24 that overlaps no route of this namespace and no other bridge's subnet.
fn default_subnet(socket: &mut Socket, state_root: &Path, name: &str) -> Result<Subnet, Error> {
    let mut taken = route::ipv4_route_destinations(socket)?;
    taken.extend(
        Store::subnets(state_root, name)?
            .into_iter()
            .map(|(_, s)| (s.network(), s.prefix())),
    );
    ipam::pick_default(&taken).ok_or_else(|| {
        Error::invalid("no free default subnet (10.213.0.0/16 and 172.29.0.0/16 are all routed): name a subnet for the bridge")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_is_tagged_or_untagged_with_our_mac() {
        let link = |alias: Option<&str>, mac: [u8; 6], kind: &str| Link {
            name: "br0".into(),
            kind: Some(kind.into()),
            alias: alias.map(str::to_string),
            mac: Some(mac),
            ..Link::default()
        };
        let ours = crate::names::bridge_mac("br0");
        let other = [0x02, 1, 2, 3, 4, 5];
        let tag = crate::names::bridge_tag("br0");
        assert!(is_ours(&link(Some(&tag), other, "bridge"), "br0"));
        assert!(is_ours(&link(None, ours, "bridge"), "br0"));
        assert!(!is_ours(&link(None, other, "bridge"), "br0"));
        assert!(!is_ours(&link(Some("theirs"), ours, "bridge"), "br0"));
        assert!(!is_ours(&link(Some(&tag), ours, "veth"), "br0"));
        assert!(!is_ours(&link(Some(&tag), ours, "bridge"), "br1"));
    }
}
