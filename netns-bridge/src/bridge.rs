//! The host bridge: found or created (gateway address, up, stable MAC), with the subnet
//! it serves; removed by `down`.

use std::net::Ipv4Addr;
use std::path::Path;

use netlink_packet_route::RouteNetlinkMessage;

use crate::error::Error;
use crate::ipam::{self, Subnet};
use crate::lease::{BridgeRecord, BridgeState, Store};
use crate::netlink::Socket;
use crate::route::{self, Link};
use crate::undo::{self, Transaction};

/// A bridge ready to take ports.
#[derive(Clone, Debug)]
pub struct Bridge {
    pub name: String,
    pub index: u32,
    pub subnet: Subnet,
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
pub fn ensure(
    tx: &mut Transaction<'_, Socket>,
    name: &str,
    existing: Option<Link>,
    state: &mut BridgeState,
    requested: Option<Subnet>,
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
    // The common case: a bridge netns-bridge keeps and has seen. No address dump.
    if let (Some(link), Some(subnet)) = (&existing, remembered) {
        if !link.up {
            socket.call(
                || format!("cannot bring bridge {name} up"),
                route::set_up_message(link.index),
                0,
            )?;
        }
        let bridge = Bridge {
            name: name.to_string(),
            index: link.index,
            subnet,
            mac: link.mac.unwrap_or(mac),
            verify_gateway: true,
        };
        return Ok(bridge);
    }

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
    state.bridge = Some(BridgeRecord {
        subnet: subnet.to_string(),
        nat: state.bridge.as_ref().is_some_and(|b| b.nat),
        mtu: state.bridge.as_ref().and_then(|b| b.mtu).or(mtu),
        created: existing.is_none(),
        gateway_added: existing.is_some() && on_link.is_none(),
    });

    match existing {
        Some(link) => {
            let mut batch = Vec::new();
            if on_link.is_none() {
                batch.push((
                    route::add_address_message(link.index, subnet.gateway(), &subnet),
                    route::CREATE,
                ));
                // Before the batch: the address may be added and the bring-up then fail.
                let (bridge, index) = (name.to_string(), link.index);
                tx.on_undo(move |socket| remove_gateway(socket, &bridge, index, &subnet));
            }
            if !link.up {
                batch.push((route::set_up_message(link.index), 0));
            }
            let bridge = Bridge {
                name: name.to_string(),
                index: link.index,
                subnet,
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
            tx.context().call(
                || format!("cannot create bridge {name}"),
                route::create_bridge_message(name, mac, mtu),
                route::CREATE,
            )?;
            let bridge = name.to_string();
            tx.on_undo(move |socket| route::delete_link(socket, &bridge));
            let socket = tx.context();
            let link = route::link_by_name(socket, name)?.ok_or_else(|| Error::Protocol {
                what: format!("cannot create bridge {name}"),
                why: "it vanished right after creation".into(),
            })?;
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
            Ok(Bridge {
                name: name.to_string(),
                index: link.index,
                subnet,
                mac,
                verify_gateway: false,
            })
        }
    }
}

fn mismatch(name: &str, known: Subnet, requested: Subnet) -> Error {
    Error::invalid(format!(
        "bridge {name} already serves subnet {known}, not {requested}"
    ))
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
    remove_gateway(socket, name, link.index, &subnet)
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
        Subnet::new(network, prefix).ok()
    }))
}

fn mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

/// The subnets of the other bridges netns-bridge keeps under `state_root`. Their state
/// is read without their lock: a bridge's subnet never changes.
fn other_subnets(state_root: &Path, name: &str) -> Result<Vec<(String, Subnet)>, Error> {
    let mut out = Vec::new();
    for other in Store::bridges(state_root)? {
        if other == name {
            continue;
        }
        let path = state_root.join(&other).join("state.json");
        if let Ok(text) = std::fs::read(&path) {
            if let Ok(s) = serde_json::from_slice::<BridgeState>(&text) {
                if let Some(subnet) = s.subnet() {
                    out.push((other, subnet));
                }
            }
        }
    }
    Ok(out)
}

/// A new bridge's `--subnet` must not overlap another bridge's: two bridges with one
/// gateway address and one route would split the subnet's traffic at random.
fn check_no_overlap(state_root: &Path, name: &str, subnet: &Subnet) -> Result<(), Error> {
    for (other, theirs) in other_subnets(state_root, name)? {
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
        other_subnets(state_root, name)?
            .into_iter()
            .map(|(_, s)| (s.network(), s.prefix())),
    );
    ipam::pick_default(&taken).ok_or_else(|| {
        Error::invalid("no free default subnet (10.213.0.0/16 and 172.29.0.0/16 are all routed): give --subnet")
    })
}
