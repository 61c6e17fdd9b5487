//! `attach`: one veth pair per namespace, its namespace end made directly inside the
//! namespace; an address from the bridge's lease store; `lo` and the interface up and a
//! default route inside. Every step that fails undoes the ones before it.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use nix::errno::Errno;
use serde::Serialize;

use crate::bridge::{self, Bridge, Made};
use crate::error::Error;
use crate::ipam::{self, Subnet};
use crate::lease::{BridgeState, CniKey, Lease, Store};
use crate::names;
use crate::netlink::{PendingSocket, Socket};
use crate::netns::{self, Netns};
use crate::route::{self, VethSpec};

/// The ifindex of `lo` in every network namespace.
const LOOPBACK_INDEX: u32 = 1;

/// What to attach, and how.
#[derive(Clone, Debug)]
pub struct Request {
    pub target: String,
    pub bridge: String,
    pub subnet: Option<Subnet>,
    pub ip: Option<String>,
    pub ifname: String,
    pub mtu: Option<u32>,
    pub default_route: bool,
    pub nat: bool,
    pub state_root: PathBuf,
    pub cni: Option<CniKey>,
    /// Report every detail (the host end's MAC costs one more lookup).
    pub details: bool,
}

/// A namespace's attachment, as `--json` and CNI report it.
#[derive(Clone, Debug, Serialize)]
pub struct Attachment {
    pub bridge: String,
    pub bridge_mac: String,
    pub host_veth: String,
    pub host_veth_mac: String,
    pub interface: String,
    pub mac: String,
    pub address: String,
    pub gateway: Ipv4Addr,
    pub netns: String,
    pub netns_path: String,
    #[serde(skip)]
    pub default_route: bool,
}

/// Checks everything that can be checked without touching anything.
pub fn validate(request: &Request) -> Result<(), Error> {
    names::check_ifname(&request.bridge, "bridge name")?;
    names::check_ifname(&request.ifname, "interface name")?;
    if let Some(mtu) = request.mtu {
        if !(68..=65535).contains(&mtu) {
            return Err(Error::invalid(format!(
                "invalid MTU {mtu}: must be between 68 and 65535"
            )));
        }
    }
    if let (Some(ip), Some(subnet)) = (&request.ip, &request.subnet) {
        ipam::parse_static(ip, subnet)?;
    } else if let Some(ip) = &request.ip {
        let bare = ip.split_once('/').map_or(ip.as_str(), |(a, _)| a);
        ipam::parse_ipv4(bare).ok_or_else(|| Error::invalid(format!("invalid address '{ip}'")))?;
    }
    Ok(())
}

/// Attaches the namespace; returns its attachment (the existing one if it was attached).
pub fn attach(request: &Request) -> Result<Attachment, Error> {
    validate(request)?;
    let netns = netns::open(&request.target)?.ok_or_else(|| {
        Error::invalid(format!(
            "no network namespace at {}",
            netns::target_path(&request.target)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| request.target.clone())
        ))
    })?;
    if netns.id == netns::own_id()? {
        return Err(Error::invalid(format!(
            "{} is the namespace netns-bridge runs in (the host), not one to attach",
            netns.path.display()
        )));
    }
    // The socket inside is opened on a helper thread while the host side is prepared.
    let inside = netns.fd().try_clone_to_owned().map_err(|e| {
        Error::sys(
            "cannot duplicate the namespace fd",
            crate::error::io_errno(&e),
        )
    })?;
    let inside = Socket::open_in_background(inside);
    let mut host = Socket::open()?;

    let store = Store::lock(&request.state_root, &request.bridge)?;
    let mut state = store.load()?;
    let host_veth = names::host_veth_name(&request.bridge, netns.id);

    if let Some(lease) = state.find(netns.id).cloned() {
        match route::link_by_name(&mut host, &lease.host_veth)? {
            Some(link) => {
                if let Some(ip) = &request.ip {
                    let bare = ip.split_once('/').map_or(ip.as_str(), |(a, _)| a);
                    if ipam::parse_ipv4(bare) != Some(lease.address) {
                        return Err(Error::invalid(format!(
                            "{} is already attached to {} with address {}",
                            netns.path.display(),
                            request.bridge,
                            lease.address
                        )));
                    }
                }
                let subnet = state.subnet().ok_or_else(|| Error::State {
                    path: request.state_root.join(&request.bridge),
                    why: "a lease without a bridge subnet".into(),
                })?;
                let bridge_mac = route::link_by_name(&mut host, &request.bridge)?
                    .and_then(|l| l.mac)
                    .unwrap_or_else(|| names::bridge_mac(&request.bridge));
                return Ok(describe(
                    request, &lease, &subnet, bridge_mac, link.mac, &netns,
                ));
            }
            // The veth is gone (deleted by hand): the lease is stale, attach anew.
            None => state.leases.retain(|l| l.netns != lease.netns),
        }
    }

    let before = state.clone();
    let mut done = Done::default();
    match attach_locked(
        request, &netns, &mut host, inside, &store, &mut state, &host_veth, &mut done,
    ) {
        Ok(attachment) => Ok(attachment),
        Err(e) => {
            rollback(&mut host, store, &before, &host_veth, done);
            Err(e)
        }
    }
}

/// What a failed attach has to undo.
#[derive(Default)]
struct Done {
    bridge: Option<(Bridge, Made)>,
    veth: bool,
}

#[allow(clippy::too_many_arguments)]
fn attach_locked(
    request: &Request,
    netns: &Netns,
    host: &mut Socket,
    inside: PendingSocket,
    store: &Store,
    state: &mut BridgeState,
    host_veth: &str,
    done: &mut Done,
) -> Result<Attachment, Error> {
    let (bridge, made) = bridge::ensure(
        host,
        &request.bridge,
        state,
        request.subnet,
        request.mtu,
        &request.state_root,
    )?;
    done.bridge = Some((bridge.clone(), made));
    let subnet = bridge.subnet;

    let mut address = pick_address(request, &subnet, state);
    if matches!(address, Err(Error::NoAddress(_)))
        && crate::teardown::prune_dead(host, &request.bridge, state)? > 0
    {
        // Leases of namespaces that died without a detach were in the way: gone now.
        address = pick_address(request, &subnet, state);
    }
    let address = address?;
    let mac = names::interface_mac(address);
    let lease = Lease {
        netns: netns.id.to_string(),
        target: netns.path.display().to_string(),
        address,
        host_veth: host_veth.to_string(),
        ifname: request.ifname.clone(),
        mac: names::mac_string(&mac),
        cni: request.cni.clone(),
    };
    state.leases.push(lease.clone());
    store.save(state)?;

    let spec = VethSpec {
        host_name: host_veth,
        peer_name: &request.ifname,
        peer_netns: netns.fd(),
        peer_mac: mac,
        master: bridge.index,
        mtu: request
            .mtu
            .or_else(|| state.bridge.as_ref().and_then(|b| b.mtu)),
    };
    let tag = names::veth_tag(&request.bridge, netns.id);
    let mut replies = create_veth(host, &spec, &tag, request, netns)?.into_iter();
    done.veth = true;
    replies
        .next()
        .unwrap_or(Err(Errno::EIO))
        .map_err(|source| Error::Netlink {
            what: format!("cannot tag {host_veth}"),
            source,
        })?;

    let mut inside = inside.wait()?;
    // Inside: find the new interface, then lo and it up, the address and the route in
    // one batch.
    let link =
        route::link_by_name(&mut inside, &request.ifname)?.ok_or_else(|| Error::Protocol {
            what: format!(
                "cannot configure {} inside {}",
                request.ifname,
                netns.path.display()
            ),
            why: "the interface is not there after creation".into(),
        })?;
    let mut steps = vec![
        (route::set_up_message(LOOPBACK_INDEX), 0),
        (route::set_up_message(link.index), 0),
        (
            route::add_address_message(link.index, address, &subnet),
            route::CREATE,
        ),
    ];
    if request.default_route {
        steps.push((
            route::default_route_message(subnet.gateway()),
            route::CREATE,
        ));
    }
    let names = [
        "bring lo up",
        "bring the interface up",
        "add the address",
        "add the default route",
    ];
    for (reply, what) in inside.batch(steps)?.into_iter().zip(names) {
        reply.map_err(|source| {
            let hint = match (what, source) {
                ("add the default route", Errno::EEXIST) => {
                    " (it has one already: use --no-default-route)"
                }
                _ => "",
            };
            Error::Netlink {
                what: format!("cannot {what} inside {}{hint}", netns.path.display()),
                source,
            }
        })?;
    }

    if request.nat {
        crate::nat::enable(&request.bridge, &subnet)?;
        if let Some(record) = state.bridge.as_mut() {
            if !record.nat {
                record.nat = true;
                store.save(state)?;
            }
        }
    }

    // The host end's MAC is only reported in detail (--json, CNI): a lookup otherwise saved.
    let host_mac = if request.details {
        route::link_by_name(host, host_veth)?.and_then(|l| l.mac)
    } else {
        None
    };
    Ok(describe(
        request, &lease, &subnet, bridge.mac, host_mac, netns,
    ))
}

/// The static address if it is free, else the lowest free one.
fn pick_address(
    request: &Request,
    subnet: &Subnet,
    state: &BridgeState,
) -> Result<Ipv4Addr, Error> {
    match &request.ip {
        Some(ip) => {
            let ip = ipam::parse_static(ip, subnet)?;
            if state.used().contains(&ip) {
                return Err(Error::NoAddress(format!(
                    "address {ip} is already leased on bridge {}",
                    request.bridge
                )));
            }
            Ok(ip)
        }
        None => subnet.first_free(&state.used()).ok_or_else(|| {
            Error::NoAddress(format!(
                "subnet {subnet} of bridge {} is full ({} addresses leased)",
                request.bridge,
                subnet.capacity()
            ))
        }),
    }
}

/// Creates the veth pair and tags its host end (one batch). A host veth of that name
/// with our tag for this namespace is a leftover of a lost lease: it is replaced.
/// Returns the replies after the creation's.
fn create_veth(
    host: &mut Socket,
    spec: &VethSpec<'_>,
    tag: &str,
    request: &Request,
    netns: &Netns,
) -> Result<Vec<crate::netlink::Reply>, Error> {
    let mut replaced = false;
    loop {
        let mut replies = host.batch(vec![
            (route::create_veth_message(spec), route::CREATE),
            (route::set_alias_message(spec.host_name, tag), 0),
        ])?;
        let created = if replies.is_empty() {
            Err(Errno::EIO)
        } else {
            replies.remove(0).map(|_| ())
        };
        match created {
            Ok(()) => return Ok(replies),
            Err(Errno::EEXIST) => {}
            Err(source) => {
                return Err(Error::Netlink {
                    what: format!(
                        "cannot create veth pair {}/{}",
                        spec.host_name, request.ifname
                    ),
                    source,
                })
            }
        }
        // Which name is taken: the host end's, or the one inside?
        let Some(old) = route::link_by_name(host, spec.host_name)? else {
            return Err(Error::invalid(format!(
                "{} already has an interface named {}",
                netns.path.display(),
                request.ifname
            )));
        };
        let ours = old
            .alias
            .as_deref()
            .and_then(names::parse_veth_tag)
            .is_some_and(|(b, id)| b == request.bridge && id == netns.id);
        if !ours || replaced {
            return Err(Error::invalid(format!(
                "a link named {} exists and is not netns-bridge's",
                spec.host_name
            )));
        }
        route::delete_link(host, spec.host_name)?;
        replaced = true;
    }
}

fn describe(
    request: &Request,
    lease: &Lease,
    subnet: &Subnet,
    bridge_mac: [u8; 6],
    host_mac: Option<[u8; 6]>,
    netns: &Netns,
) -> Attachment {
    Attachment {
        bridge: request.bridge.clone(),
        bridge_mac: names::mac_string(&bridge_mac),
        host_veth: lease.host_veth.clone(),
        host_veth_mac: host_mac.map(|m| names::mac_string(&m)).unwrap_or_default(),
        interface: lease.ifname.clone(),
        mac: lease.mac.clone(),
        address: format!("{}/{}", lease.address, subnet.prefix()),
        gateway: subnet.gateway(),
        netns: netns.id.to_string(),
        netns_path: netns.path.display().to_string(),
        default_route: request.default_route,
    }
}

/// Undoes a failed attach, step by step, going on past failures (there is no one left to
/// tell but stderr). A bridge state that ends up empty is removed with its directory.
fn rollback(host: &mut Socket, store: Store, before: &BridgeState, host_veth: &str, done: Done) {
    if done.veth {
        if let Err(e) = route::delete_link(host, host_veth) {
            eprintln!("netns-bridge: rollback: {e}");
        }
    }
    // The state as it was: without the new lease, and without the record of a bridge
    // this attach created.
    let state = before;
    if let Some((bridge, made)) = &done.bridge {
        if let Err(e) = bridge::undo(host, bridge, *made) {
            eprintln!("netns-bridge: rollback: {e}");
        }
    }
    let result = if state.bridge.is_none() && state.leases.is_empty() {
        store.remove()
    } else {
        store.save(state)
    };
    if let Err(e) = result {
        eprintln!("netns-bridge: rollback: {e}");
    }
}
