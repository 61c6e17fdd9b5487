//! The host bridge: found or created (gateway address, up, stable MAC), with the subnet
//! it serves; removed by `down`.

use std::net::Ipv4Addr;
use std::path::Path;

use netlink_packet_route::RouteNetlinkMessage;
use nix::errno::Errno;

use crate::error::Error;
use crate::ipam::{self, Subnet};
use crate::lease::{BridgeRecord, BridgeState, Store};
use crate::netlink::Socket;
use crate::route::{self, Link};

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

/// What [`ensure`] did, so a failed attach can undo exactly that.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// The bridge was there and ready.
    #[default]
    Nothing,
    /// The gateway address was added to a bridge that was there.
    Address,
    /// The bridge was created.
    Bridge,
}

/// Adds the gateway address to the bridge; fails with EEXIST when it is there.
pub fn gateway_message(bridge: &Bridge) -> RouteNetlinkMessage {
    route::add_address_message(bridge.index, bridge.subnet.gateway(), &bridge.subnet)
}

/// Finds the bridge `name` or creates it. `requested` is `--subnet`: used for a new
/// bridge, and must match the subnet of an existing one. Records the subnet in `state`.
/// `existing` is the link called `name` as the caller just looked it up.
pub fn ensure(
    socket: &mut Socket,
    name: &str,
    existing: Option<Link>,
    state: &mut BridgeState,
    requested: Option<Subnet>,
    mtu: Option<u32>,
    state_root: &Path,
) -> Result<(Bridge, Made), Error> {
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
        return Ok((bridge, Made::Nothing));
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
            let mut made = Made::Nothing;
            let mut batch = Vec::new();
            if on_link.is_none() {
                batch.push((
                    route::add_address_message(link.index, subnet.gateway(), &subnet),
                    route::CREATE,
                ));
                made = Made::Address;
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
            for reply in socket.batch(batch)? {
                if let Err(source) = reply {
                    // The address may have been added before the bring-up failed.
                    let _ = undo(socket, &bridge, made);
                    return Err(Error::Netlink {
                        what: format!("cannot set up bridge {name}"),
                        source,
                    });
                }
            }
            Ok((bridge, made))
        }
        None => {
            socket.call(
                || format!("cannot create bridge {name}"),
                route::create_bridge_message(name, mac, mtu),
                route::CREATE,
            )?;
            let made = (|| {
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
            })();
            match made {
                Ok(bridge) => Ok((bridge, Made::Bridge)),
                Err(e) => {
                    let _ = route::delete_link(socket, name);
                    Err(e)
                }
            }
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
    let bridge = Bridge {
        name: name.to_string(),
        index: link.index,
        subnet,
        mac: [0; 6],
        verify_gateway: false,
    };
    undo(socket, &bridge, Made::Address)
}

/// Undoes what [`ensure`] made.
pub fn undo(socket: &mut Socket, bridge: &Bridge, made: Made) -> Result<(), Error> {
    match made {
        Made::Nothing => Ok(()),
        Made::Bridge => route::delete_link(socket, &bridge.name),
        Made::Address => {
            let message = route::delete_address_message(
                bridge.index,
                bridge.subnet.gateway(),
                &bridge.subnet,
            );
            match socket.request(message, 0) {
                Ok(_) | Err(Errno::EADDRNOTAVAIL | Errno::ENODEV) => Ok(()),
                Err(source) => Err(Error::Netlink {
                    what: format!("cannot remove the gateway address from {}", bridge.name),
                    source,
                }),
            }
        }
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
