//! Link, address and route operations over a [`Socket`]: the few rtnetlink messages
//! netns-bridge needs, built and read in one place.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVeth, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::errno::Errno;

use crate::error::Error;
use crate::ipam::Subnet;
use crate::netlink::Socket;

/// What netns-bridge reads of a link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub kind: Option<String>,
    pub alias: Option<String>,
    pub mac: Option<[u8; 6]>,
    /// IFLA_LINK: for a veth, the peer's ifindex (in the peer's namespace).
    pub peer: Option<u32>,
    pub group: u32,
    pub up: bool,
    /// IFLA_MASTER: the bridge the link is a port of.
    pub master: Option<u32>,
}

impl Link {
    fn from_message(m: &LinkMessage) -> Link {
        let mut link = Link {
            index: m.header.index,
            up: m.header.flags.contains(LinkFlags::Up),
            ..Link::default()
        };
        for attr in &m.attributes {
            match attr {
                LinkAttribute::IfName(n) => link.name = n.clone(),
                LinkAttribute::IfAlias(a) => link.alias = Some(a.clone()),
                LinkAttribute::Address(a) => link.mac = <[u8; 6]>::try_from(a.as_slice()).ok(),
                LinkAttribute::Link(i) => link.peer = Some(*i),
                LinkAttribute::Group(g) => link.group = *g,
                LinkAttribute::Controller(i) => link.master = Some(*i),
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        if let LinkInfo::Kind(kind) = info {
                            link.kind = Some(kind.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        link
    }
}

/// The request for a veth pair whose peer is created directly in another namespace.
pub struct VethSpec<'a> {
    pub host_name: &'a str,
    pub peer_name: &'a str,
    pub peer_netns: BorrowedFd<'a>,
    pub peer_mac: [u8; 6],
    pub master: u32,
    pub mtu: Option<u32>,
}

/// Asks for the link called `name` (read the reply with [`link_of`]).
pub fn get_link_message(name: &str) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_string()));
    RouteNetlinkMessage::GetLink(m)
}

/// The link in the reply to [`get_link_message`].
pub fn link_of(replies: &[RouteNetlinkMessage]) -> Option<Link> {
    replies.iter().find_map(|r| match r {
        RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
        _ => None,
    })
}

/// The link called `name`, if there is one.
pub fn link_by_name(socket: &mut Socket, name: &str) -> Result<Option<Link>, Error> {
    match socket.request(get_link_message(name), 0) {
        Ok(replies) => Ok(link_of(&replies)),
        Err(Errno::ENODEV) => Ok(None),
        Err(source) => Err(Error::Netlink {
            what: format!("cannot look up link {name}"),
            source,
        }),
    }
}

/// Every link of the namespace.
pub fn links(socket: &mut Socket) -> Result<Vec<Link>, Error> {
    let replies = socket.dump(
        || "cannot list links".into(),
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
    )?;
    Ok(replies
        .iter()
        .filter_map(|r| match r {
            RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
            _ => None,
        })
        .collect())
}

/// Creates a bridge, up, with a fixed MAC (so it does not follow its ports').
pub fn create_bridge_message(name: &str, mac: [u8; 6], mtu: Option<u32>) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    m.attributes.push(LinkAttribute::IfName(name.to_string()));
    m.attributes.push(LinkAttribute::Address(mac.to_vec()));
    if let Some(mtu) = mtu {
        m.attributes.push(LinkAttribute::Mtu(mtu));
    }
    m.attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    RouteNetlinkMessage::NewLink(m)
}

/// Creates a veth pair in one request: the host end joins `master` and comes up; the
/// peer is made inside the target namespace (IFLA_NET_NS_FD), down, with its MAC.
pub fn create_veth_message(spec: &VethSpec<'_>) -> RouteNetlinkMessage {
    // The peer is created down: since Linux 6.x an IFF_UP in the peer's header fails with
    // ENOTCONN when the peer goes to another namespace. It is brought up from inside.
    let mut peer = LinkMessage::default();
    peer.attributes
        .push(LinkAttribute::IfName(spec.peer_name.to_string()));
    peer.attributes
        .push(LinkAttribute::NetNsFd(spec.peer_netns.as_raw_fd()));
    peer.attributes
        .push(LinkAttribute::Address(spec.peer_mac.to_vec()));
    if let Some(mtu) = spec.mtu {
        peer.attributes.push(LinkAttribute::Mtu(mtu));
    }

    let mut m = LinkMessage::default();
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    m.attributes
        .push(LinkAttribute::IfName(spec.host_name.to_string()));
    m.attributes.push(LinkAttribute::Controller(spec.master));
    if let Some(mtu) = spec.mtu {
        m.attributes.push(LinkAttribute::Mtu(mtu));
    }
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    RouteNetlinkMessage::NewLink(m)
}

/// Sets a link's alias (IFLA_IFALIAS), the tag netns-bridge finds its host veths by.
pub fn set_alias_message(name: &str, alias: &str) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_string()));
    m.attributes.push(LinkAttribute::IfAlias(alias.to_string()));
    RouteNetlinkMessage::SetLink(m)
}

/// Turns hairpin mode on for the bridge port `name`: frames may go back out of the port
/// they came in by, so a namespace reaches itself through an address on the host. A
/// NEWLINK without NLM_F_CREATE: only it carries a port's settings (SETLINK ignores them).
pub fn set_hairpin_message(name: &str) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_string()));
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::PortKind(InfoPortKind::Bridge),
        LinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(
            true,
        )])),
    ]));
    RouteNetlinkMessage::NewLink(m)
}

/// Puts a link (by index) into promiscuous mode.
pub fn set_promisc_message(index: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.header.flags = LinkFlags::Promisc;
    m.header.change_mask = LinkFlags::Promisc;
    RouteNetlinkMessage::SetLink(m)
}

/// Brings a link up, by index.
pub fn set_up_message(index: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    RouteNetlinkMessage::SetLink(m)
}

/// Deletes a link, by name.
pub fn delete_link_message(name: &str) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_string()));
    RouteNetlinkMessage::DelLink(m)
}

/// Puts a link (by name) into the link group `group`.
pub fn set_group_message(name: &str, group: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_string()));
    m.attributes.push(LinkAttribute::Group(group));
    RouteNetlinkMessage::SetLink(m)
}

/// Deletes every link of the group `group` in one kernel operation: one unregister
/// batch, so the expensive synchronisation is paid once for all of them.
pub fn delete_group_message(group: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::Group(group));
    RouteNetlinkMessage::DelLink(m)
}

/// Deletes a link by name; a link that is not there is success.
pub fn delete_link(socket: &mut Socket, name: &str) -> Result<(), Error> {
    match socket.request(delete_link_message(name), 0) {
        Ok(_) => Ok(()),
        Err(source) if crate::undo::gone(source) => Ok(()),
        Err(source) => Err(Error::Netlink {
            what: format!("cannot delete link {name}"),
            source,
        }),
    }
}

/// Deletes the link `name` if it carries the alias `tag`; one that is not there, or
/// not tagged so, is left as it is.
pub fn delete_link_if_tagged(socket: &mut Socket, name: &str, tag: &str) -> Result<(), Error> {
    match link_by_name(socket, name)? {
        Some(link) if link.alias.as_deref() == Some(tag) => delete_link(socket, name),
        _ => Ok(()),
    }
}

/// Adds an IPv4 address (with its broadcast) to the link `index`.
pub fn add_address_message(index: u32, address: Ipv4Addr, subnet: &Subnet) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewAddress(address_message(index, address, subnet))
}

/// Removes an IPv4 address from the link `index`.
pub fn delete_address_message(
    index: u32,
    address: Ipv4Addr,
    subnet: &Subnet,
) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelAddress(address_message(index, address, subnet))
}

fn address_message(index: u32, address: Ipv4Addr, subnet: &Subnet) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = subnet.prefix();
    m.header.index = index;
    m.attributes
        .push(AddressAttribute::Local(IpAddr::V4(address)));
    m.attributes
        .push(AddressAttribute::Address(IpAddr::V4(address)));
    if subnet.prefix() < 31 {
        m.attributes
            .push(AddressAttribute::Broadcast(subnet.broadcast()));
    }
    m
}

/// Adds an IPv6 address to the link `index`, with no duplicate address detection
/// (IFA_F_NODAD): usable at once, as netns-bridge hands out every address itself.
pub fn add_address6_message(index: u32, address: Ipv6Addr, prefix: u8) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewAddress(address6_message(index, address, prefix))
}

/// Removes an IPv6 address from the link `index`.
pub fn delete_address6_message(index: u32, address: Ipv6Addr, prefix: u8) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelAddress(address6_message(index, address, prefix))
}

fn address6_message(index: u32, address: Ipv6Addr, prefix: u8) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet6;
    m.header.prefix_len = prefix;
    m.header.index = index;
    m.header.flags = AddressHeaderFlags::Nodad;
    m.attributes
        .push(AddressAttribute::Local(IpAddr::V6(address)));
    m.attributes
        .push(AddressAttribute::Address(IpAddr::V6(address)));
    m.attributes
        .push(AddressAttribute::Flags(AddressFlags::Nodad));
    m
}

/// An IPv6 default route via `gateway` (main table).
pub fn default_route6_message(gateway: Ipv6Addr) -> RouteNetlinkMessage {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet6;
    m.header.table = libc::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Static;
    m.header.scope = RouteScope::Universe;
    m.header.kind = RouteType::Unicast;
    m.attributes
        .push(RouteAttribute::Gateway(RouteAddress::Inet6(gateway)));
    RouteNetlinkMessage::NewRoute(m)
}

/// The IPv4 addresses (with prefix length) of the link `index`.
pub fn addresses(socket: &mut Socket, index: u32) -> Result<Vec<(Ipv4Addr, u8)>, Error> {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    let replies = socket.dump(
        || "cannot list addresses".into(),
        RouteNetlinkMessage::GetAddress(m),
    )?;
    let mut out = Vec::new();
    for r in &replies {
        let RouteNetlinkMessage::NewAddress(a) = r else {
            continue;
        };
        if a.header.index != index {
            continue;
        }
        for attr in &a.attributes {
            if let AddressAttribute::Local(IpAddr::V4(ip)) = attr {
                out.push((*ip, a.header.prefix_len));
            }
        }
    }
    Ok(out)
}

/// A default route via `gateway` (main table).
pub fn default_route_message(gateway: Ipv4Addr) -> RouteNetlinkMessage {
    route_message(Ipv4Addr::UNSPECIFIED, 0, gateway)
}

/// A route to `dst/prefix` via `gateway` (main table); prefix 0 is the default route.
pub fn route_message(dst: Ipv4Addr, prefix: u8, gateway: Ipv4Addr) -> RouteNetlinkMessage {
    let mut m = RouteMessage::default();
    m.header.destination_prefix_length = prefix;
    if prefix > 0 {
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet(dst)));
    }
    m.header.address_family = AddressFamily::Inet;
    m.header.table = libc::RT_TABLE_MAIN;
    m.header.protocol = RouteProtocol::Static;
    m.header.scope = RouteScope::Universe;
    m.header.kind = RouteType::Unicast;
    m.attributes
        .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
    RouteNetlinkMessage::NewRoute(m)
}

/// The IPv4 destinations (network, prefix length) of every route in every table, except
/// default routes.
pub fn ipv4_route_destinations(socket: &mut Socket) -> Result<Vec<(Ipv4Addr, u8)>, Error> {
    let mut m = RouteMessage::default();
    m.header.address_family = AddressFamily::Inet;
    let replies = socket.dump(
        || "cannot list routes".into(),
        RouteNetlinkMessage::GetRoute(m),
    )?;
    let mut out = Vec::new();
    for r in &replies {
        let RouteNetlinkMessage::NewRoute(route) = r else {
            continue;
        };
        let prefix = route.header.destination_prefix_length;
        if route.header.address_family != AddressFamily::Inet || prefix == 0 {
            continue;
        }
        for attr in &route.attributes {
            if let RouteAttribute::Destination(RouteAddress::Inet(ip)) = attr {
                out.push((*ip, prefix));
            }
        }
    }
    Ok(out)
}

/// The flags a creating request carries: fail if the object exists.
pub const CREATE: u16 = NLM_F_CREATE | NLM_F_EXCL;
/// Asks the kernel to send the object made back (Linux 6.3 and later do for links),
/// which saves looking it up.
pub const ECHO: u16 = NLM_F_ECHO;
