//! `detach`, `gc` and `down`: removing host veths, leases, the bridge and its NAT table.
//! Teardown goes on past failures and reports them all; what is already gone is success.
//! What a killed attach left pending (see [`crate::lease`]) is removed by `gc` and `down`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::lease::{self, BridgeRecord, BridgeState, Lease, Store};
use crate::names;
use crate::netlink::Socket;
use crate::netns;
use crate::route::{self, Link};
use crate::undo;
use nsproc::NsId;

/// Which attachments a detach is about.
#[derive(Clone, Debug)]
pub enum Selector {
    /// A namespace that still exists.
    Netns(NsId),
    /// A namespace that is gone, by the file it was attached through.
    Target(String),
    /// A CNI attachment, by container ID and interface name.
    Cni {
        container_id: String,
        ifname: String,
    },
    /// Every CNI attachment but these (CNI 1.1 GC's `cni.dev/valid-attachments`).
    CniExcept(Vec<lease::CniKey>),
}

impl Selector {
    fn matches(&self, lease: &Lease) -> bool {
        match self {
            Selector::Netns(id) => lease.netns_id() == Some(*id),
            Selector::Target(path) => &lease.target == path,
            Selector::Cni {
                container_id,
                ifname,
            } => lease
                .cni
                .as_ref()
                .is_some_and(|c| &c.container_id == container_id && &c.ifname == ifname),
            Selector::CniExcept(valid) => lease.cni.as_ref().is_some_and(|c| !valid.contains(c)),
        }
    }
}

/// `detach`: the attachments `selectors` name, on `bridge`.
#[derive(Clone, Debug)]
pub struct Detach {
    pub state_root: PathBuf,
    pub bridge: String,
    pub selectors: Vec<Selector>,
}

/// `ls`: the attachments of one bridge, or of every bridge with state (`None`).
#[derive(Clone, Debug)]
pub struct List {
    pub state_root: PathBuf,
    pub bridge: Option<String>,
}

/// `gc`: release what belongs to dead namespaces on `bridge`.
#[derive(Clone, Debug)]
pub struct Gc {
    pub state_root: PathBuf,
    pub bridge: String,
}

/// `down`: remove `bridge` (after detaching everything, with `force`).
#[derive(Clone, Debug)]
pub struct Down {
    pub state_root: PathBuf,
    pub bridge: String,
    pub force: bool,
}

/// Resolves a TARGET for detach: its namespace if it exists, else the path it had.
pub fn selector_for(target: &str) -> Result<Selector, Error> {
    match netns::open(target)? {
        Some(ns) => Ok(Selector::Netns(ns.id)),
        None => Ok(Selector::Target(
            netns::target_path(target)?.display().to_string(),
        )),
    }
}

/// Detaches what the selectors name from the bridge: deletes the host veths (which takes
/// the namespace ends with them) and releases the leases. Nothing there is success.
pub fn detach(request: &Detach) -> Result<usize, Error> {
    let (bridge, selectors) = (request.bridge.as_str(), request.selectors.as_slice());
    names::check_ifname(bridge, "bridge name")?;
    let root = &lease::host_root(&request.state_root)?;
    let mut socket = Socket::open()?;
    let Some(store) = Store::lock_existing(root, bridge)? else {
        // Never attached anything: nothing to release. Leftover veths of a lost state
        // directory are found by the tag.
        return delete_untracked(&mut socket, bridge, selectors, &HashSet::new());
    };
    // Detaching namespaces by their identity reads their leases only; unless one has
    // published ports (the ports table is made from every lease).
    let ids: Option<Vec<NsId>> = selectors
        .iter()
        .map(|s| match s {
            Selector::Netns(id) => Some(*id),
            _ => None,
        })
        .collect();
    let mut state = match &ids {
        Some(ids) => store.load_for(ids)?,
        None => store.load()?,
    };
    if ids.is_some() && state.leases.iter().any(|l| !l.ports.is_empty()) {
        state = store.load()?;
    }
    let before = state.clone();
    let (gone, kept): (Vec<Lease>, Vec<Lease>) = state
        .leases
        .drain(..)
        .partition(|l| selectors.iter().any(|s| s.matches(l)));
    state.leases = kept;
    let veths: Vec<String> = gone.iter().map(|l| l.host_veth.clone()).collect();
    let mut errors = delete_links(&mut socket, &veths);
    let known: HashSet<String> = veths.into_iter().collect();
    if let Err(e) = delete_untracked(&mut socket, bridge, selectors, &known) {
        errors.push(e);
    }
    if !gone.is_empty() {
        if let Err(e) = store.save(&state) {
            errors.push(e);
        }
    }
    if let Err(e) = crate::publish::follow(bridge, &before, &state) {
        errors.push(e);
    }
    Error::from_list(errors)?;
    Ok(gone.len())
}

/// Deletes host veths tagged for `bridge` and one of the selected namespaces that no
/// lease accounts for.
fn delete_untracked(
    socket: &mut Socket,
    bridge: &str,
    selectors: &[Selector],
    known: &HashSet<String>,
) -> Result<usize, Error> {
    let ids: Vec<NsId> = selectors
        .iter()
        .filter_map(|s| match s {
            Selector::Netns(id) => Some(*id),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let mut leftovers = Vec::new();
    for id in ids {
        let name = names::host_veth_name(bridge, id);
        if known.contains(&name) {
            continue;
        }
        if let Some(link) = route::link_by_name(socket, &name)? {
            if lease::tag_of(&link).is_some_and(|(b, i)| b == bridge && i == id) {
                leftovers.push(name);
            }
        }
    }
    let count = leftovers.len();
    Error::from_list(delete_links(socket, &leftovers))?;
    Ok(count)
}

/// Deletes links by name; gone is success. Returns the failures.
///
/// The kernel pays a synchronisation (an RCU grace period, milliseconds) for every
/// deletion request, whatever it holds. So several links are first moved into a fresh
/// link group and then deleted by group: one request, one grace period for all.
fn delete_links(socket: &mut Socket, links: &[String]) -> Vec<Error> {
    match links {
        [] => Vec::new(),
        [one] => route::delete_link(socket, one).err().into_iter().collect(),
        many => match delete_as_group(socket, many) {
            Ok(()) => Vec::new(),
            // Fall back to one request per link; what is gone is skipped there.
            Err(_) => many
                .iter()
                .filter_map(|name| route::delete_link(socket, name).err())
                .collect(),
        },
    }
}

fn delete_as_group(socket: &mut Socket, links: &[String]) -> Result<(), Error> {
    let group = fresh_group(socket)?;
    let batch = links
        .iter()
        .map(|n| (route::set_group_message(n, group), 0))
        .collect();
    for (reply, name) in socket.batch(batch)?.into_iter().zip(links) {
        match reply {
            Ok(_) => {}
            Err(source) if undo::gone(source) => {}
            Err(source) => {
                return Err(Error::Netlink {
                    what: format!("cannot put {name} into link group {group}"),
                    source,
                })
            }
        }
    }
    match socket.request(route::delete_group_message(group), 0) {
        Ok(_) => Ok(()),
        Err(source) if undo::gone(source) => Ok(()),
        Err(source) => Err(Error::Netlink {
            what: format!("cannot delete link group {group}"),
            source,
        }),
    }
}

/// A link group number no link of this namespace is in: random, above the range
/// people number their groups in, and checked.
fn fresh_group(socket: &mut Socket) -> Result<u32, Error> {
    let used: HashSet<u32> = route::links(socket)?.iter().map(|l| l.group).collect();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ (u64::from(std::process::id()) << 32);
    loop {
        // xorshift: enough to keep two concurrent processes apart.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let group = 0x4e00_0000 | (seed as u32 & 0x00ff_ffff);
        if !used.contains(&group) {
            return Ok(group);
        }
    }
}

/// An attachment as `ls` shows it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub bridge: String,
    pub namespace: String,
    /// The namespace's identity (`None` only for a state file that lacks it).
    pub netns: Option<NsId>,
    pub host_veth: String,
    pub interface: String,
    pub address: String,
    /// The IPv6 address (CIDR), on a bridge with an IPv6 subnet.
    pub address6: Option<String>,
    pub mac: String,
    pub alive: bool,
    /// Its published ports.
    pub ports: Vec<crate::ports::Port>,
}

/// The attachments the request asks for.
pub fn list(request: &List) -> Result<Vec<Entry>, Error> {
    let root = &lease::host_root(&request.state_root)?;
    let bridges = match &request.bridge {
        Some(bridge) => {
            names::check_ifname(bridge, "bridge name")?;
            vec![bridge.clone()]
        }
        None => Store::bridges(root)?,
    };
    let mut socket = Socket::open()?;
    let links = route::links(&mut socket)?;
    let mut out = Vec::new();
    for bridge in &bridges {
        let Some(store) = Store::lock_existing(root, bridge)? else {
            continue;
        };
        let state = store.load()?;
        let prefix = state.subnet().map(|s| s.prefix()).unwrap_or(32);
        for lease in &state.leases {
            out.push(Entry {
                bridge: bridge.clone(),
                namespace: lease.target.clone(),
                netns: lease.netns_id(),
                host_veth: lease.host_veth.clone(),
                interface: lease.ifname.clone(),
                address: format!("{}/{prefix}", lease.address),
                address6: lease
                    .address6
                    .zip(state.subnet6())
                    .map(|(ip, s6)| format!("{ip}/{}", s6.prefix())),
                mac: lease.mac.clone(),
                alive: lease.alive(&links, bridge),
                ports: lease.ports.clone(),
            });
        }
    }
    Ok(out)
}

/// Releases what belongs to namespaces that no longer exist, and deletes host veths
/// tagged for the bridge that no lease accounts for. Returns how many were released.
pub fn gc(request: &Gc) -> Result<usize, Error> {
    let bridge = request.bridge.as_str();
    names::check_ifname(bridge, "bridge name")?;
    let root = &lease::host_root(&request.state_root)?;
    let mut socket = Socket::open()?;
    let Some(store) = Store::lock_existing(root, bridge)? else {
        let links = route::links(&mut socket)?;
        let released = collect(&mut socket, bridge, &links, &mut BridgeState::default())?;
        remove_tagged_bridge(&mut socket, bridge, &links)?;
        lease::release_host_root(root)?;
        return Ok(released);
    };
    let mut state = store.load()?;
    // Claims of attaches that died before they recorded their lease.
    store.sweep()?;
    let links = settle(&mut socket, bridge, &state)?;
    let before = state.clone();
    let released = collect(&mut socket, bridge, &links, &mut state)?;
    // A pending bridge record with nothing attached: its attach died making it.
    if state.leases.is_empty() {
        if let Some(record) = state.bridge.clone().filter(|r| r.pending) {
            remove_bridge(&mut socket, bridge, &record)?;
            state.bridge = None;
        }
    }
    // NAT a dead attach was turning on goes off again.
    if let Some(record) = state.bridge.as_mut().filter(|r| r.nat_pending) {
        crate::nat::disable(bridge)?;
        record.nat = false;
        record.nat_pending = false;
    }
    crate::publish::follow(bridge, &before, &state)?;
    if state == BridgeState::default() {
        store.remove()?;
        drop(store);
        lease::release_host_root(root)?;
    } else {
        // Only what differs from the files is written (a record resolved on load too).
        store.save(&state)?;
    }
    Ok(released)
}

/// Removes what netns-bridge made of the bridge according to its record: the bridge or
/// its gateway address, and the NAT table.
fn remove_bridge(socket: &mut Socket, bridge: &str, record: &BridgeRecord) -> Result<(), Error> {
    let mut errors = Vec::new();
    if let Err(e) = crate::bridge::remove(socket, bridge, record) {
        errors.push(e);
    }
    if record.nat {
        if let Err(e) = crate::nat::disable(bridge) {
            errors.push(e);
        }
    }
    Error::from_list(errors)
}

/// Without state: deletes the bridge if it carries netns-bridge's tag (made by an attach
/// whose state is lost) and no port is left on it.
fn remove_tagged_bridge(socket: &mut Socket, bridge: &str, links: &[Link]) -> Result<(), Error> {
    let tag = names::bridge_tag(bridge);
    let Some(link) = links
        .iter()
        .find(|l| l.name == bridge && l.alias.as_deref() == Some(tag.as_str()))
    else {
        return Ok(());
    };
    let ports = route::links(socket)?
        .iter()
        .filter(|l| l.master == Some(link.index))
        .count();
    if ports > 0 {
        return Ok(());
    }
    route::delete_link(socket, bridge)
}

/// How long [`settle`] waits at most for the veths of namespaces that have just gone.
const DYING_WAIT: Duration = Duration::from_secs(2);

/// The host namespace's links, once the namespaces that have just gone have taken their
/// veths with them. A namespace whose last process exits (or that `ip netns delete`
/// unmounts) is destroyed a moment later, on a kernel work queue: until then its veth
/// pair is still there and its lease looks alive. So a lease whose veth is there but
/// whose namespace file no longer leads to its namespace is waited for (up to
/// [`DYING_WAIT`]): then one `gc` right after a container's exit releases it. A
/// namespace still held by someone else keeps its veth and counts as alive.
fn settle(socket: &mut Socket, bridge: &str, state: &BridgeState) -> Result<Vec<Link>, Error> {
    let deadline = Instant::now() + DYING_WAIT;
    let mut links = route::links(socket)?;
    let dying: Vec<&Lease> = state
        .leases
        .iter()
        .filter(|l| l.alive(&links, bridge) && !leads_to(l))
        .collect();
    while !dying.is_empty() && Instant::now() < deadline {
        if dying.iter().all(|l| !l.alive(&links, bridge)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        links = route::links(socket)?;
    }
    Ok(links)
}

/// Whether the file a lease was attached through still leads to its namespace.
fn leads_to(lease: &Lease) -> bool {
    matches!(netns::open(&lease.target), Ok(Some(ns)) if Some(ns.id) == lease.netns_id())
}

fn collect(
    socket: &mut Socket,
    bridge: &str,
    links: &[Link],
    state: &mut BridgeState,
) -> Result<usize, Error> {
    // A pending lease under our lock: its attach was killed. Its veth goes as an orphan.
    let pending = state.leases.len();
    state.leases.retain(|l| !l.pending);
    let released = state.prune_dead(links, bridge) + pending - state.leases.len();
    let leased: HashSet<&str> = state.leases.iter().map(|l| l.host_veth.as_str()).collect();
    let orphans: Vec<String> = links
        .iter()
        .filter(|l| lease::tag_of(l).is_some_and(|(b, _)| b == bridge))
        .filter(|l| !leased.contains(l.name.as_str()))
        .map(|l| l.name.clone())
        .collect();
    let count = orphans.len();
    Error::from_list(delete_links(socket, &orphans))?;
    Ok(released + count)
}

/// Removes the bridge and its NAT table when nothing is attached (`force`: detach
/// everything first). A bridge netns-bridge has no record of is left alone.
pub fn down(request: &Down) -> Result<(), Error> {
    let bridge = request.bridge.as_str();
    names::check_ifname(bridge, "bridge name")?;
    let root = &lease::host_root(&request.state_root)?;
    let mut socket = Socket::open()?;
    let Some(store) = Store::lock_existing(root, bridge)? else {
        // No state: only what carries netns-bridge's tag for this bridge goes.
        let links = route::links(&mut socket)?;
        collect(&mut socket, bridge, &links, &mut BridgeState::default())?;
        remove_tagged_bridge(&mut socket, bridge, &links)?;
        return lease::release_host_root(root);
    };
    let mut state = store.load()?;
    let before = state.clone();
    let links = settle(&mut socket, bridge, &state)?;
    collect(&mut socket, bridge, &links, &mut state)?;
    if !state.leases.is_empty() && !request.force {
        crate::publish::follow(bridge, &before, &state)?;
        store.save(&state)?;
        return Err(Error::Busy(format!(
            "bridge {bridge} still has {} attachment(s); detach them or use --force",
            state.leases.len()
        )));
    }
    let veths: Vec<String> = state.leases.iter().map(|l| l.host_veth.clone()).collect();
    let mut errors = delete_links(&mut socket, &veths);
    state.leases.clear();
    if let Err(e) = crate::publish::follow(bridge, &before, &state) {
        errors.push(e);
    }
    if let Some(record) = &state.bridge {
        if let Err(e) = remove_bridge(&mut socket, bridge, record) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        store.remove()?;
        drop(store);
        lease::release_host_root(root)?;
    } else {
        store.save(&state)?;
    }
    Error::from_list(errors)
}
