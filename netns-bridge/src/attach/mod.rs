//! `attach`: one veth pair per namespace, its namespace end made directly inside the
//! namespace; an address from the bridge's lease store; `lo` and the interface up and a
//! default route inside. Each step registers its undo with the attach's [`Transaction`]:
//! a failure anywhere undoes every step before it.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use nix::errno::Errno;
use nsproc::NsId;
use serde::Serialize;

mod work;

use crate::error::Error;
use crate::ipam::{self, Subnet};
use crate::ipam6::Subnet6;
use crate::lease::{BridgeState, CniKey, Lease, Store};
use crate::names;
use crate::netlink::{InsideSockets, Socket};
use crate::netns::{self, Netns};
use crate::route::{self, Link};
use crate::undo::Transaction;
use work::Work;

/// The ifindex of `lo` in every network namespace.
const LOOPBACK_INDEX: u32 = 1;

/// What to attach, and how.
#[derive(Clone, Debug)]
pub struct Request {
    pub target: String,
    pub bridge: String,
    pub subnet: Option<Subnet>,
    /// The bridge's IPv6 subnet when it is created: both families then.
    pub subnet6: Option<Subnet6>,
    pub ip: Option<String>,
    /// A static IPv6 address (on a bridge with an IPv6 subnet).
    pub ip6: Option<Ipv6Addr>,
    pub ifname: String,
    pub mtu: Option<u32>,
    pub default_route: bool,
    pub nat: bool,
    pub state_root: PathBuf,
    pub cni: Option<CniKey>,
    /// Where dynamic addresses come from (first, last), tried in order; empty: the
    /// whole subnet (CNI `rangeStart`/`rangeEnd`).
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Routes inside besides the default one (CNI `ipam.routes`).
    pub routes: Vec<Route>,
    /// The gateway address on the bridge (false: CNI `isGateway: false`).
    pub gateway: bool,
    /// Hairpin mode on the host veth (CNI `hairpinMode`).
    pub hairpin: bool,
    /// The bridge in promiscuous mode (CNI `promiscMode`).
    pub promisc: bool,
}

/// A route inside the namespace: `dst/prefix via gateway` (`None`: the bridge's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
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
    /// The IPv6 address (CIDR) and gateway; `null` on a bridge without IPv6.
    pub address6: Option<String>,
    pub gateway6: Option<Ipv6Addr>,
    /// The namespace's identity: `{"dev": N, "ino": N}` in JSON.
    pub netns: NsId,
    pub netns_path: String,
    #[serde(skip)]
    pub default_route: bool,
    #[serde(skip)]
    pub routes: Vec<Route>,
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
    if request.subnet6.is_some() {
        check_static6(request.ip6, request.subnet6)?;
    }
    Ok(())
}

/// A static IPv6 address must be one to hand out in the bridge's IPv6 subnet (`None`: the
/// bridge has none, and the address cannot be given).
fn check_static6(ip6: Option<Ipv6Addr>, subnet6: Option<Subnet6>) -> Result<(), Error> {
    let Some(ip6) = ip6 else {
        return Ok(());
    };
    match subnet6 {
        Some(s6) if s6.is_assignable(ip6) => Ok(()),
        Some(s6) => Err(Error::invalid(format!(
            "address {ip6} is not one to hand out in {s6} (outside, or its network or gateway address)"
        ))),
        None => Err(Error::invalid(format!(
            "cannot give {ip6}: the bridge has no IPv6 subnet"
        ))),
    }
}

/// Attaches the namespace; returns its attachment (the existing one if it was attached).
/// `deliver` hands the attachment to the caller's reader before the attach is committed:
/// when it fails, what this attach made is rolled back, so no attachment is left that
/// the caller never heard of.
pub fn attach(
    request: &Request,
    deliver: impl FnOnce(&Attachment) -> Result<(), Error>,
) -> Result<Attachment, Error> {
    let targets = std::slice::from_ref(&request.target);
    let mut all = attach_all(request, targets, |all| match all {
        [one] => deliver(one),
        _ => Ok(()),
    })?;
    all.pop().ok_or_else(|| Error::Protocol {
        what: format!("cannot attach {}", request.target),
        why: "no attachment came back".into(),
    })
}

/// Attaches the namespaces `targets` (`request.target` aside) in one go: one lock, one
/// host netlink socket, one transaction. All or nothing: when one fails, what was made
/// for every one of them is undone. Returns the attachments in the order given, after
/// `deliver` took them.
pub fn attach_all(
    request: &Request,
    targets: &[String],
    deliver: impl FnOnce(&[Attachment]) -> Result<(), Error>,
) -> Result<Vec<Attachment>, Error> {
    validate(request)?;
    if targets.len() > 1 && (request.ip.is_some() || request.ip6.is_some()) {
        return Err(Error::invalid(
            "--ip and --ip6 give one namespace its address: name one TARGET with them",
        ));
    }
    // From here on, the state of the host namespace this runs in.
    let request = &Request {
        state_root: crate::lease::host_root(&request.state_root)?,
        ..request.clone()
    };
    // Every target is opened and checked before anything is made.
    let mut opened: Vec<Netns> = Vec::with_capacity(targets.len());
    for target in targets {
        let netns = netns::open(target)?.ok_or_else(|| {
            Error::invalid(format!(
                "no network namespace at {}",
                netns::target_path(target)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| target.clone())
            ))
        })?;
        refuse_host(&netns)?;
        if let Some(first) = opened.iter().find(|n| n.id == netns.id) {
            return Err(Error::invalid(format!(
                "{} and {} are the same namespace: name it once",
                first.path.display(),
                netns.path.display()
            )));
        }
        opened.push(netns);
    }
    // The sockets inside, opened by one helper thread while the host side is prepared;
    // the thread is joined before `opened` (whose fds it enters) goes.
    std::thread::scope(|scope| {
        let fds = opened.iter().map(|n| n.fd()).collect();
        let inside = InsideSockets::start(scope, fds);
        attach_opened(request, &opened, inside, deliver)
    })
}

/// [`attach_all`] for the namespaces `opened`, checked and distinct, with `inside`
/// yielding a socket inside each in turn.
fn attach_opened(
    request: &Request,
    opened: &[Netns],
    mut inside: InsideSockets,
    deliver: impl FnOnce(&[Attachment]) -> Result<(), Error>,
) -> Result<Vec<Attachment>, Error> {
    let host = Socket::open()?;
    let store = Store::lock(&request.state_root, &request.bridge)?;
    let ids: Vec<NsId> = opened.iter().map(|n| n.id).collect();
    // Only the bridge's record and these namespaces' leases: the cost of an attach does
    // not grow with the number of attachments.
    let mut state = store.load_for(&ids).inspect_err(|_| {
        if store.fresh() {
            // Nothing to read: the directory this attach just made goes again.
            let _ = store.remove();
        }
    })?;

    let mut tx = Transaction::new(host);
    // Undone last: the state as it was, or no state directory if this attach made it.
    let before = state.clone();
    let store = &store;
    tx.on_undo(move |_| {
        // Nothing was there (leases without a record are refused by `load_for`): all
        // in the directory is this attach's.
        if before == BridgeState::default() {
            store.remove()
        } else {
            store.save(&before)
        }
    });
    let mut attachments = Vec::with_capacity(opened.len());
    let mut made = Vec::new();
    for netns in opened {
        let host_veth = names::host_veth_name(&request.bridge, netns.id);
        let found = inspect(request, netns, &mut tx, store, &mut state, &host_veth)?;
        let attachment = match found {
            Found::Attached(attachment) => {
                // Not needed: attached already.
                let _ = inside.take();
                attachment
            }
            Found::Bridge(bridge_link) => {
                made.push(netns);
                Work {
                    request,
                    netns,
                    tx: &mut tx,
                    store,
                    state: &mut state,
                    host_veth: &host_veth,
                    first: made.len() == 1,
                    gateway_known: made.len() > 1,
                }
                .run(bridge_link, &mut inside)?
            }
        };
        attachments.push(attachment);
    }
    if !made.is_empty() {
        work::through(request, &made, store, &mut state)?;
    }
    deliver(&attachments)?;
    tx.commit();
    Ok(attachments)
}

/// Refuses the namespace netns-bridge runs in (the host) and a kernel thread's (the
/// machine's own, whatever namespace netns-bridge runs in): neither is a guest.
fn refuse_host(netns: &Netns) -> Result<(), Error> {
    if netns.id == netns::own_id()? {
        return Err(Error::invalid(format!(
            "{} is the namespace netns-bridge runs in (the host), not one to attach",
            netns.path.display()
        )));
    }
    if let Some(process) = netns.process() {
        if process.is_kernel_thread()? {
            return Err(Error::invalid(format!(
                "PID {} is a kernel thread: its namespace is the machine's own, not one to attach",
                process.pid()
            )));
        }
    }
    Ok(())
}

/// What [`inspect`] found.
enum Found {
    /// The namespace is attached: its attachment.
    Attached(Attachment),
    /// It is not: the bridge's link, if there is one.
    Bridge(Option<Link>),
}

/// Looks at what is there before anything is made: the bridge, a link by the host end's
/// name, the namespace's lease.
fn inspect<'a>(
    request: &Request,
    netns: &Netns,
    tx: &mut Transaction<'a, Socket>,
    store: &'a Store,
    state: &mut BridgeState,
    host_veth: &str,
) -> Result<Found, Error> {
    // One round trip for what is there: the bridge, and a link by the host end's name.
    let host = tx.context();
    let mut found = host
        .batch(vec![
            (route::get_link_message(&request.bridge), 0),
            (route::get_link_message(host_veth), 0),
        ])?
        .into_iter()
        .zip([request.bridge.as_str(), host_veth])
        .map(|(reply, name)| match reply {
            Ok(replies) => Ok(route::link_of(&replies)),
            Err(Errno::ENODEV) => Ok(None),
            Err(source) => Err(Error::Netlink {
                what: format!("cannot look up link {name}"),
                source,
            }),
        });
    let bridge_link = found.next().unwrap_or(Ok(None))?;
    let mut veth_link = found.next().unwrap_or(Ok(None))?;

    if let Some(lease) = state.find(netns.id).cloned() {
        // A pending lease is an attach that was killed halfway: made anew (its tagged
        // veth is replaced below).
        let whole = !lease.pending;
        if let Some(link) = veth_link
            .as_ref()
            .filter(|l| whole && l.name == lease.host_veth)
        {
            let bridge_mac = bridge_link
                .and_then(|l| l.mac)
                .unwrap_or_else(|| names::bridge_mac(&request.bridge));
            let host_mac = link.mac;
            let subnet = existing(request, netns, tx, store, state, &lease)?;
            let attachment = describe(
                request,
                &lease,
                &subnet,
                state.subnet6(),
                bridge_mac,
                host_mac,
                netns,
            );
            return Ok(Found::Attached(attachment));
        }
        // The veth is gone (deleted by hand), or the lease pending: stale, attach anew.
        state.leases.retain(|l| l.netns != lease.netns);
    }
    // A static address is checked against the bridge's known subnet before anything is
    // made (whether it is free is decided later: leases of dead namespaces may yield).
    if let (Some(ip), Some(subnet)) = (&request.ip, request.subnet.or_else(|| state.subnet())) {
        ipam::parse_static(ip, &subnet)?;
    }
    check_static6(request.ip6, request.subnet6.or_else(|| state.subnet6()))?;
    if let Some(link) = veth_link.take() {
        // A link has the host end's name, without a lease: ours, left over from a lost
        // lease (replaced), or someone else's (never touched).
        let ours = link
            .alias
            .as_deref()
            .and_then(names::parse_veth_tag)
            .is_some_and(|(b, id)| b == request.bridge && id == netns.id);
        if !ours {
            return Err(Error::invalid(format!(
                "a link named {host_veth} exists and is not netns-bridge's ({})",
                link.kind.as_deref().unwrap_or("no kind")
            )));
        }
        route::delete_link(tx.context(), host_veth)?;
    }
    Ok(Found::Bridge(bridge_link))
}

/// The namespace is attached already with `lease`: checks the request agrees with it and
/// returns the bridge's subnet. `--nat` is applied to a bridge that has no NAT yet.
fn existing<'a>(
    request: &Request,
    netns: &Netns,
    tx: &mut Transaction<'a, Socket>,
    store: &'a Store,
    state: &mut BridgeState,
    lease: &Lease,
) -> Result<Subnet, Error> {
    let already = |what: String| {
        Error::invalid(format!(
            "{} is already attached to {} with {what}",
            netns.path.display(),
            request.bridge
        ))
    };
    if let Some(ip) = &request.ip {
        let bare = ip.split_once('/').map_or(ip.as_str(), |(a, _)| a);
        if ipam::parse_ipv4(bare) != Some(lease.address) {
            return Err(already(format!("address {}", lease.address)));
        }
    }
    if request.ip6.is_some() && request.ip6 != lease.address6 {
        return Err(already(match lease.address6 {
            Some(ip6) => format!("address {ip6}"),
            None => "no IPv6 address".into(),
        }));
    }
    let subnet = state.subnet().ok_or_else(|| Error::State {
        path: request.state_root.join(&request.bridge),
        why: "a lease without a bridge subnet".into(),
    })?;
    if request.subnet.is_some_and(|s| s != subnet) {
        return Err(already(format!("subnet {subnet}")));
    }
    if request.subnet6.is_some() && request.subnet6 != state.subnet6() {
        return Err(already(match state.subnet6() {
            Some(s6) => format!("IPv6 subnet {s6}"),
            None => "no IPv6 subnet".into(),
        }));
    }
    if request.nat {
        if let Some(record) = state.bridge.as_mut().filter(|r| !r.nat || r.nat_pending) {
            // Recorded first, so that gc turns it off if this attach dies halfway.
            record.nat = true;
            record.nat_pending = true;
            store.save(state)?;
            let bridge = request.bridge.clone();
            tx.on_undo(move |_| crate::nat::disable(&bridge));
            crate::nat::enable(&request.bridge, &subnet, state.subnet6())?;
            if let Some(record) = state.bridge.as_mut() {
                record.nat_pending = false;
            }
            store.save(state)?;
        }
    }
    Ok(subnet)
}

#[allow(clippy::too_many_arguments)]
fn describe(
    request: &Request,
    lease: &Lease,
    subnet: &Subnet,
    subnet6: Option<Subnet6>,
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
        address6: lease
            .address6
            .zip(subnet6)
            .map(|(ip, s6)| format!("{ip}/{}", s6.prefix())),
        gateway6: lease.address6.and(subnet6).map(|s6| s6.gateway()),
        netns: netns.id,
        netns_path: netns.path.display().to_string(),
        default_route: request.default_route,
        routes: request.routes.clone(),
    }
}
