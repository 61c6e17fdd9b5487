//! The steps of an attach under the bridge's lock, each registering its undo with the
//! transaction so that a failure undoes exactly what was made: bridge, lease, veth pair,
//! the setup inside, NAT.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nsproc::NsId;

use nix::errno::Errno;

use super::{describe, Attachment, Request, LOOPBACK_INDEX};
use crate::bridge::{self, Bridge};
use crate::error::Error;
use crate::fault;
use crate::ipam::{self, Subnet};
use crate::ipam6::Subnet6;
use crate::lease::{BridgeState, Lease, Store};
use crate::names;
use crate::netlink::{InsideSockets, Socket};
use crate::netns::Netns;
use crate::route::{self, Link, VethSpec};
use crate::undo::Transaction;

/// The steps of one attach, under the bridge's lock; `tx` holds the host's socket and
/// what to undo (the state as it was is restored by the caller's first undo action).
pub(super) struct Work<'a, 't> {
    pub(super) request: &'a Request,
    pub(super) netns: &'a Netns,
    pub(super) tx: &'a mut Transaction<'t, Socket>,
    pub(super) store: &'t Store,
    pub(super) state: &'a mut BridgeState,
    pub(super) host_veth: &'a str,
    /// Whether this is the first namespace the attach makes something for.
    pub(super) first: bool,
    /// Whether the bridge's gateway address is known to be there (an earlier namespace
    /// of this attach saw to it).
    pub(super) gateway_known: bool,
}

impl Work<'_, '_> {
    pub(super) fn run(
        &mut self,
        bridge_link: Option<Link>,
        inside: &mut InsideSockets,
    ) -> Result<Attachment, Error> {
        let request = self.request;
        // NAT a dead attach was turning on counts as off (gc turns it off).
        let nat_before = self
            .state
            .bridge
            .as_ref()
            .is_some_and(|b| b.nat && !b.nat_pending);
        let mut bridge = bridge::ensure(
            self.tx,
            &request.bridge,
            bridge_link,
            self.store,
            self.state,
            request.subnet,
            request.subnet6,
            request.gateway,
            request.mtu,
            &request.state_root,
        )?;
        bridge.verify_gateway &= !self.gateway_known;
        fault::checkpoint("bridge")?;
        let subnet = bridge.subnet;

        let lease = self.lease(&subnet, bridge.subnet6)?;
        if request.nat && !nat_before {
            if let Some(record) = self.state.bridge.as_mut() {
                record.nat = true;
                record.nat_pending = true;
            }
        }
        // Whose flags they are: this attach's, resolved by its committed lease. A batch
        // names its first namespace only: its leases are committed together, after
        // every veth pair is made, so any one of them tells the attach got through (and
        // the record is not written again for each namespace).
        if let Some(record) = self
            .state
            .bridge
            .as_mut()
            .filter(|r| (r.pending || r.nat_pending) && self.first)
        {
            record.pending_by.push(lease.netns.clone());
        }
        self.store.save(self.state)?;
        fault::checkpoint("lease")?;

        let host_link = self.create_veth(&bridge, &lease)?;
        self.port_settings(&bridge)?;
        fault::checkpoint("veth")?;

        let mut inside = inside.take()?;
        self.configure_inside(&mut inside, host_link.peer, &lease, &subnet, bridge.subnet6)?;
        fault::checkpoint("inside")?;

        if request.nat {
            if !nat_before {
                // Before: nft may have installed the table and still report a failure.
                let name = request.bridge.clone();
                self.tx.on_undo(move |_| crate::nat::disable(&name));
            }
            crate::nat::enable(&request.bridge, &subnet, bridge.subnet6)?;
        }
        fault::checkpoint("nat")?;
        Ok(describe(
            request,
            &lease,
            &subnet,
            bridge.subnet6,
            bridge.mac,
            host_link.mac,
            self.netns,
        ))
    }

    /// Picks the address and adds the lease to the state (not saved yet).
    fn lease(&mut self, subnet: &Subnet, subnet6: Option<Subnet6>) -> Result<Lease, Error> {
        let request = self.request;
        let me = self.netns.id;
        let mut address = pick_address(request, subnet, self.store, me);
        if matches!(address, Err(Error::NoAddress(_))) {
            let links = route::links(self.tx.context())?;
            if self.store.prune_dead(&links, &request.bridge)? > 0 {
                // Leases of namespaces that died without a detach were in the way.
                address = pick_address(request, subnet, self.store, me);
            }
        }
        let address = address?;
        let address6 = pick_address6(request, subnet6, self.store, me)?;
        let lease = Lease {
            netns: names::id_text(self.netns.id),
            target: self.netns.path.display().to_string(),
            address,
            address6,
            host_veth: self.host_veth.to_string(),
            ifname: request.ifname.clone(),
            mac: names::mac_string(&names::interface_mac(address)),
            cni: request.cni.clone(),
            pending: true,
            ports: Vec::new(),
        };
        self.state.leases.push(lease.clone());
        Ok(lease)
    }

    /// Creates the veth pair, tags its host end and reads it back, in one batch (with
    /// the gateway address of a bridge that was not looked at closely). The caller has
    /// made sure no link has the host end's name, so the tag cannot land on another.
    fn create_veth(&mut self, bridge: &Bridge, lease: &Lease) -> Result<Link, Error> {
        let request = self.request;
        let spec = VethSpec {
            host_name: self.host_veth,
            peer_name: &request.ifname,
            peer_netns: self.netns.fd(),
            peer_mac: names::interface_mac(lease.address),
            master: bridge.index,
            mtu: request
                .mtu
                .or_else(|| self.state.bridge.as_ref().and_then(|b| b.mtu)),
        };
        let tag = names::veth_tag(&request.bridge, self.netns.id);
        let mut batch = Vec::new();
        if bridge.verify_gateway {
            batch.push((bridge::gateway_message(bridge), route::CREATE));
        }
        // The host end comes back with the creation (echo): no lookup, where the kernel
        // sends it (6.3 and later).
        batch.push((
            route::create_veth_message(&spec),
            route::CREATE | route::ECHO,
        ));
        batch.push((route::set_alias_message(self.host_veth, &tag), 0));
        // Before: with the acknowledgement lost, the pair may exist all the same.
        let (name, ours) = (self.host_veth.to_string(), tag.clone());
        self.tx
            .on_undo(move |socket| route::delete_link_if_tagged(socket, &name, &ours));
        let mut replies = self.tx.context().batch(batch)?.into_iter();
        let mut next = || replies.next().unwrap_or(Err(Errno::EIO));

        let gateway = if bridge.verify_gateway {
            match next() {
                Ok(_) => {
                    // It was missing and is back: a failed attach takes it away again.
                    let (name, index, subnet) = (bridge.name.clone(), bridge.index, bridge.subnet);
                    self.tx.on_undo(move |socket| {
                        bridge::remove_gateway(socket, &name, index, &subnet)
                    });
                    Ok(())
                }
                Err(Errno::EEXIST) => Ok(()),
                Err(source) => Err(Error::Netlink {
                    what: format!(
                        "cannot add {}/{} to bridge {}",
                        bridge.subnet.gateway(),
                        bridge.subnet.prefix(),
                        bridge.name
                    ),
                    source,
                }),
            }
        } else {
            Ok(())
        };
        let created = next();
        let tagged = next();
        let echoed = match created {
            // Deleting the host end (undo above) takes the namespace end with it.
            Ok(replies) => route::link_of(&replies),
            Err(Errno::EEXIST) => {
                return Err(Error::invalid(format!(
                    "{} already has an interface named {}",
                    self.netns.path.display(),
                    request.ifname
                )))
            }
            Err(source) => {
                gateway?;
                return Err(Error::Netlink {
                    what: format!(
                        "cannot create veth pair {}/{} in {}",
                        self.host_veth,
                        request.ifname,
                        self.netns.path.display()
                    ),
                    source,
                });
            }
        };
        gateway?;
        tagged.map_err(|source| Error::Netlink {
            what: format!("cannot tag {}", self.host_veth),
            source,
        })?;
        if let Some(link) = echoed.filter(|l| l.name == self.host_veth && l.peer.is_some()) {
            return Ok(link);
        }
        route::link_by_name(self.tx.context(), self.host_veth)?.ok_or_else(|| Error::Protocol {
            what: format!("cannot look up link {}", self.host_veth),
            why: "the kernel sent no link".into(),
        })
    }

    /// Hairpin mode on the host veth, promiscuous mode on the bridge, when asked (an
    /// undo of the veth takes the former with it; the latter stays, as with the
    /// reference plugin).
    fn port_settings(&mut self, bridge: &Bridge) -> Result<(), Error> {
        let request = self.request;
        let mut batch = Vec::new();
        if request.hairpin {
            batch.push((route::set_hairpin_message(self.host_veth), 0));
        }
        if request.promisc {
            batch.push((route::set_promisc_message(bridge.index), 0));
        }
        if batch.is_empty() {
            return Ok(());
        }
        let whats = [
            (
                request.hairpin,
                format!("turn hairpin mode on for {}", self.host_veth),
            ),
            (
                request.promisc,
                format!("put bridge {} into promiscuous mode", bridge.name),
            ),
        ];
        let whats = whats.into_iter().filter(|(on, _)| *on).map(|(_, w)| w);
        for (reply, what) in self.tx.context().batch(batch)?.into_iter().zip(whats) {
            reply.map_err(|source| Error::Netlink {
                what: format!("cannot {what}"),
                source,
            })?;
        }
        Ok(())
    }

    /// Inside, in one batch: `lo` and the interface up, the address, the default route.
    /// `peer` is the interface's index as the host end reports it (IFLA_LINK); without
    /// it, the interface is looked up by name.
    fn configure_inside(
        &mut self,
        inside: &mut Socket,
        peer: Option<u32>,
        lease: &Lease,
        subnet: &Subnet,
        subnet6: Option<Subnet6>,
    ) -> Result<(), Error> {
        let address = lease.address;
        let request = self.request;
        let path = self.netns.path.display();
        let index = match peer {
            Some(index) => index,
            None => {
                route::link_by_name(inside, &request.ifname)?
                    .ok_or_else(|| Error::Protocol {
                        what: format!("cannot configure {} inside {path}", request.ifname),
                        why: "the interface is not there after creation".into(),
                    })?
                    .index
            }
        };
        let mut steps = vec![
            (
                route::set_up_message(LOOPBACK_INDEX),
                0,
                "bring lo up".to_string(),
            ),
            (
                route::set_up_message(index),
                0,
                "bring the interface up".into(),
            ),
            (
                route::add_address_message(index, address, subnet),
                route::CREATE,
                "add the address".into(),
            ),
        ];
        let default_at = steps.len();
        if request.default_route {
            steps.push((
                route::default_route_message(subnet.gateway()),
                route::CREATE,
                "add the default route".into(),
            ));
        }
        let mut default6_at = None;
        if let (Some(ip), Some(s6)) = (lease.address6, subnet6) {
            steps.push((
                route::add_address6_message(index, ip, s6.prefix()),
                route::CREATE,
                "add the IPv6 address".into(),
            ));
            if request.default_route {
                default6_at = Some(steps.len());
                steps.push((
                    route::default_route6_message(s6.gateway()),
                    route::CREATE,
                    "add the IPv6 default route".into(),
                ));
            }
        }
        for r in &request.routes {
            let via = r.gateway.unwrap_or(subnet.gateway());
            steps.push((
                route::route_message(r.dst, r.prefix, via),
                route::CREATE,
                format!("add the route to {}/{} via {via}", r.dst, r.prefix),
            ));
        }
        let (batch, whats): (Vec<_>, Vec<_>) =
            steps.into_iter().map(|(m, f, w)| ((m, f), w)).unzip();
        for (i, (reply, what)) in inside.batch(batch)?.into_iter().zip(whats).enumerate() {
            let default_route = request.default_route && i == default_at || Some(i) == default6_at;
            match reply {
                Ok(_) => {}
                // A runtime attaching a second network: the first one's route is kept,
                // as the reference plugin does.
                Err(Errno::EEXIST) if default_route && request.cni.is_some() => {}
                Err(source) => {
                    let hint = if default_route && source == Errno::EEXIST {
                        " (it has one already: use --no-default-route)"
                    } else {
                        ""
                    };
                    return Err(Error::Netlink {
                        what: format!("cannot {what} inside {path}{hint}"),
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}

/// The last step of an attach, once for all the namespaces it made something for
/// (`made`): each is checked to be still there, then nothing is pending any more.
pub(super) fn through(
    request: &Request,
    made: &[&Netns],
    store: &Store,
    state: &mut BridgeState,
) -> Result<(), Error> {
    fault::checkpoint("done")?;
    if let Some(netns) = made.iter().find(|n| !n.still_there()) {
        return Err(Error::Vanished(format!(
            "{} went away while it was being attached",
            netns.path.display()
        )));
    }
    if let Some(record) = state.bridge.as_mut() {
        record.pending = false;
        // Left pending without --nat: that NAT is a dead attach's, gc's to remove.
        record.nat_pending &= !request.nat;
        if !record.nat_pending {
            record.pending_by.clear();
        }
    }
    for lease in &mut state.leases {
        lease.pending = false;
    }
    store.save(state)?;
    store.flush_cursor()
}

/// The static IPv6 address if it is free, else the lowest free one; none on a bridge
/// without an IPv6 subnet. (Where a static address may go was checked before anything
/// was made.)
fn pick_address6(
    request: &Request,
    subnet6: Option<Subnet6>,
    store: &Store,
    me: NsId,
) -> Result<Option<Ipv6Addr>, Error> {
    let Some(s6) = subnet6 else {
        return Ok(None);
    };
    let bridge = &request.bridge;
    match request.ip6 {
        Some(ip6) if store.taken(IpAddr::V6(ip6), Some(me))? => Err(Error::NoAddress(format!(
            "address {ip6} is already leased on bridge {bridge}"
        ))),
        Some(ip6) => Ok(Some(ip6)),
        None => store.free_address6(&s6, me)?.map(Some).ok_or_else(|| {
            Error::NoAddress(format!("IPv6 subnet {s6} of bridge {bridge} is full"))
        }),
    }
}

/// The static address if it is free, else the lowest free one.
fn pick_address(
    request: &Request,
    subnet: &Subnet,
    store: &Store,
    me: NsId,
) -> Result<Ipv4Addr, Error> {
    match &request.ip {
        Some(ip) => {
            let ip = ipam::parse_static(ip, subnet)?;
            if store.taken(IpAddr::V4(ip), Some(me))? {
                return Err(Error::NoAddress(format!(
                    "address {ip} is already leased on bridge {}",
                    request.bridge
                )));
            }
            Ok(ip)
        }
        None => store
            .free_address(subnet, &request.ranges, me)?
            .ok_or_else(|| {
                Error::NoAddress(format!(
                    "subnet {subnet} of bridge {} is full ({} addresses leased)",
                    request.bridge,
                    subnet.capacity()
                ))
            }),
    }
}
