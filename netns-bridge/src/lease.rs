//! What netns-bridge remembers of a bridge: its record (the subnet, from its creation;
//! what it made) and its leases, keyed by the namespace's (device, inode), kept by
//! [`Store`] under an exclusive lock per bridge. What an attach is about to make is
//! recorded before it is made (`pending`), so a later `gc` or `down` finds it even when
//! that attach was killed. Also the host namespace's state directory and its lock.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ipam::Subnet;
use crate::ipam6::Subnet6;
use crate::ports::Port;
use crate::route::Link;
use crate::statedir::Dir;
use nsproc::NsId;

/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/run/netns-bridge";
/// The environment variable that moves it.
pub const STATE_DIR_ENV: &str = "NETNS_BRIDGE_STATE_DIR";

/// The state directory: `--state-dir`, else `$NETNS_BRIDGE_STATE_DIR`, else the default.
pub fn state_root(option: Option<PathBuf>) -> PathBuf {
    option
        .or_else(|| {
            std::env::var_os(STATE_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
}

/// The directory, under the state directory, of the host network namespace `id`.
pub fn host_dir_name(id: NsId) -> String {
    format!("netns-{}-{}", id.dev, id.ino)
}

/// The state of the host namespace netns-bridge runs in: `TOP/netns-DEV-INO`, so that
/// host namespaces sharing a state directory never share leases, and `ls`, `gc` and
/// `down` only see their own. A state directory of an earlier version (a directory per
/// bridge right under TOP, whose host namespace is unknown) is refused, not guessed at.
pub fn host_root(top: &Path) -> Result<PathBuf, Error> {
    let id = crate::netns::own_id()?;
    if let Some(dir) = Dir::open_root(top, false)? {
        for name in dir.names()? {
            if dir
                .identity(&format!("{name}/{}", crate::store::LOCK))
                .is_some()
            {
                return Err(Error::State {
                    path: top.join(&name),
                    why: format!(
                        "state of an earlier netns-bridge version, kept per bridge only; \
                         remove it with that version's `down`, or move it to {} if it is \
                         this host namespace's",
                        top.join(host_dir_name(id)).join(&name).display()
                    ),
                });
            }
        }
    }
    Ok(top.join(host_dir_name(id)))
}

/// What is remembered of a bridge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeRecord {
    pub subnet: String,
    /// The bridge's address when it is not the subnet's first (CNI `gateway`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
    /// The IPv6 subnet (`--subnet6`), when the bridge serves both families.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet6: Option<String>,
    #[serde(default)]
    pub nat: bool,
    #[serde(default)]
    pub mtu: Option<u32>,
    /// netns-bridge created the bridge, so `down` deletes it. A bridge that was there
    /// before is left in place (only the gateway address netns-bridge added goes).
    #[serde(default = "yes")]
    pub created: bool,
    /// netns-bridge added the gateway address to a bridge it did not create.
    #[serde(default)]
    pub gateway_added: bool,
    /// Written before the bridge or its gateway address is made, cleared when the attach
    /// that made them is through: found by a later holder of the lock, that attach died.
    #[serde(default, skip_serializing_if = "no")]
    pub pending: bool,
    /// An attach is turning NAT on (written before `nft` runs, cleared when it is
    /// through); a later holder of the lock finds its attach died, and turns it off.
    #[serde(default, skip_serializing_if = "no")]
    pub nat_pending: bool,
    /// The namespaces ("dev:ino") of the attach the pending flags are for: once one of
    /// their leases is committed, that attach got through and the flags are stale (its
    /// last write, of this record, did not happen). See [`BridgeState::resolve`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_by: Vec<String>,
}

fn no(value: &bool) -> bool {
    !*value
}

fn yes() -> bool {
    true
}

/// A CNI attachment's identity, for DEL after the namespace is gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniKey {
    pub container_id: String,
    pub ifname: String,
}

/// One namespace's address on the bridge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The namespace's identity, "dev:ino".
    pub netns: String,
    /// The namespace file it was attached through, for `detach` after it is gone.
    pub target: String,
    pub address: Ipv4Addr,
    /// The IPv6 address, on a bridge with an IPv6 subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address6: Option<Ipv6Addr>,
    pub host_veth: String,
    pub ifname: String,
    pub mac: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cni: Option<CniKey>,
    /// Written before the veth pair is made, cleared when the attach is through (see
    /// [`BridgeRecord::pending`]).
    #[serde(default, skip_serializing_if = "no")]
    pub pending: bool,
    /// Its published ports (`publish`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
}

impl Lease {
    pub fn netns_id(&self) -> Option<NsId> {
        crate::names::parse_id(&self.netns)
    }

    /// Whether the lease's namespace is alive: its host veth is among `links` with its
    /// tag for `bridge`. A network namespace that dies takes its veth pairs with it, so
    /// this also holds when the inode number has been reused.
    pub fn alive(&self, links: &[Link], bridge: &str) -> bool {
        links.iter().any(|l| {
            l.name == self.host_veth
                && tag_of(l).is_some_and(|(b, id)| b == bridge && Some(id) == self.netns_id())
        })
    }
}

/// The bridge and namespace a link's alias tags it with, if it is a host veth of ours.
pub fn tag_of(link: &Link) -> Option<(String, NsId)> {
    link.alias.as_deref().and_then(crate::names::parse_veth_tag)
}

/// The whole state of a bridge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeState {
    #[serde(default)]
    pub bridge: Option<BridgeRecord>,
    #[serde(default)]
    pub leases: Vec<Lease>,
}

impl BridgeState {
    pub fn subnet(&self) -> Option<Subnet> {
        let b = self.bridge.as_ref()?;
        let subnet: Subnet = b.subnet.parse().ok()?;
        match b.gateway {
            Some(gw) => subnet.with_gateway(gw).ok(),
            None => Some(subnet),
        }
    }

    pub fn subnet6(&self) -> Option<Subnet6> {
        self.bridge
            .as_ref()
            .and_then(|b| b.subnet6.as_deref())
            .and_then(|s| s.parse().ok())
    }

    /// Drops the leases of namespaces that are gone (their host veth with them, see
    /// [`Lease::alive`]); returns how many.
    pub fn prune_dead(&mut self, links: &[Link], bridge: &str) -> usize {
        let before = self.leases.len();
        self.leases.retain(|l| l.alive(links, bridge));
        before - self.leases.len()
    }

    /// Clears the pending flags of a record whose attach committed a lease (it was
    /// killed before its last write, the record's); whether it did.
    pub fn resolve(&mut self) -> bool {
        let Some(record) = self.bridge.as_mut() else {
            return false;
        };
        let through = self
            .leases
            .iter()
            .any(|l| !l.pending && record.pending_by.contains(&l.netns));
        if through {
            record.pending = false;
            record.nat_pending = false;
            record.pending_by.clear();
        }
        through
    }

    pub fn find(&self, netns: NsId) -> Option<&Lease> {
        self.leases.iter().find(|l| l.netns_id() == Some(netns))
    }

    /// Checks what serde cannot: a state that parses but makes no sense (a subnet that
    /// is no CIDR, leases without one, addresses outside it or handed out twice) is
    /// corrupt, and acting on it would hand out wrong addresses.
    pub fn check(&self) -> Result<(), String> {
        let subnet = match &self.bridge {
            Some(record) => {
                let subnet = record
                    .subnet
                    .parse::<Subnet>()
                    .map_err(|e| format!("bridge subnet: {e}"))?;
                Some(match record.gateway {
                    Some(gw) => subnet
                        .with_gateway(gw)
                        .map_err(|e| format!("bridge gateway: {e}"))?,
                    None => subnet,
                })
            }
            None => None,
        };
        let subnet6 = match self.bridge.as_ref().and_then(|b| b.subnet6.as_deref()) {
            Some(text) => Some(
                text.parse::<Subnet6>()
                    .map_err(|e| format!("bridge IPv6 subnet: {e}"))?,
            ),
            None => None,
        };
        let mut addresses6 = BTreeSet::new();
        for lease in &self.leases {
            let Some(ip) = lease.address6 else { continue };
            if !subnet6.is_some_and(|s| s.is_assignable(ip)) {
                return Err(format!(
                    "leased address {ip} is not assignable in the IPv6 subnet"
                ));
            }
            if !addresses6.insert(ip) {
                return Err(format!("address {ip} is leased twice"));
            }
        }
        let mut addresses = BTreeSet::new();
        let mut namespaces = BTreeSet::new();
        for lease in &self.leases {
            let Some(subnet) = subnet else {
                return Err(format!(
                    "lease of {} without a bridge subnet",
                    lease.address
                ));
            };
            if !subnet.is_assignable(lease.address) {
                return Err(format!(
                    "leased address {} is not assignable in subnet {subnet}",
                    lease.address
                ));
            }
            if !addresses.insert(lease.address) {
                return Err(format!("address {} is leased twice", lease.address));
            }
            if lease.netns_id().is_none() || !namespaces.insert(lease.netns.as_str()) {
                return Err(format!(
                    "lease of {} has a bad or repeated namespace id '{}'",
                    lease.address, lease.netns
                ));
            }
            for (name, what) in [(&lease.host_veth, "host veth"), (&lease.ifname, "ifname")] {
                crate::names::check_ifname(name, what).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

pub use crate::store::Store;

fn lock(file: File, path: &Path) -> Result<Flock<File>, Error> {
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::sys(format!("cannot lock {}", path.display()), e))
}

/// The lock that serialises the choice of subnets in one host network namespace: held
/// from reading the other bridges' subnets until the new bridge's is saved.
pub struct HostLock {
    _lock: Flock<File>,
}

fn host_lock_name(host: NsId) -> String {
    format!(".host-{}-{}.lock", host.dev, host.ino)
}

impl HostLock {
    /// Takes the lock `.host-DEV-INO.lock` in `root` for the host namespace `host`.
    pub fn take(root_path: &Path, host: NsId) -> Result<HostLock, Error> {
        let name = host_lock_name(host);
        loop {
            let root = Dir::open_root(root_path, true)?.ok_or_else(|| Error::File {
                what: "cannot create state directory",
                path: root_path.to_path_buf(),
                source: std::io::ErrorKind::NotFound.into(),
            })?;
            let file = match root.lock_file(&name, true) {
                Ok(Some(file)) => file,
                // The directory went (release_host_root) between open and create.
                Ok(None) | Err(_) if !root.linked() => continue,
                Ok(None) => {
                    return Err(Error::File {
                        what: "cannot open lock file",
                        path: root.path().join(&name),
                        source: std::io::ErrorKind::NotFound.into(),
                    })
                }
                Err(e) => return Err(e),
            };
            let lock = lock(file, &root.path().join(&name))?;
            // A holder that released the directory unlinked the file we waited on.
            let held = nix::sys::stat::fstat(lock.as_fd())
                .ok()
                .map(|m| (m.st_dev, m.st_ino));
            if held.is_some() && root.linked() && held == root.identity(&name) {
                return Ok(HostLock { _lock: lock });
            }
        }
    }
}

/// Removes the host namespace's state directory `root` once no bridge has state in it
/// (after `down` or `gc` removed the last), under the host lock so that an attach
/// choosing a subnet meanwhile waits and then starts afresh.
pub fn release_host_root(root: &Path) -> Result<(), Error> {
    let Some(dir) = Dir::open_root(root, false)? else {
        return Ok(());
    };
    let own = crate::netns::own_id()?;
    let name = host_lock_name(own);
    let unused = |dir: &Dir| -> Result<bool, Error> {
        Ok(dir
            .names()?
            .iter()
            .all(|n| *n == name || n.starts_with(crate::statedir::TEMP_PREFIX)))
    };
    if !unused(&dir)? {
        return Ok(());
    }
    let _held = HostLock::take(root, own)?;
    if unused(&dir)? && dir.linked() {
        dir.clean()?;
        dir.remove(&name)?;
        if let (Some(parent), Some(base)) = (root.parent(), root.file_name()) {
            if let Some(top) = Dir::open_root(parent, false)? {
                top.remove_dir(&base.to_string_lossy());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A settled lease of namespace `ns` at `ip`, for unit tests.
    pub(crate) fn lease(ns: &str, ip: [u8; 4]) -> Lease {
        Lease {
            netns: ns.into(),
            target: "/run/netns/x".into(),
            address: Ipv4Addr::from(ip),
            address6: None,
            host_veth: "nb0".into(),
            ifname: "eth0".into(),
            mac: "02:00:00:00:00:00".into(),
            cni: None,
            pending: false,
            ports: Vec::new(),
        }
    }

    #[test]
    fn pending_flags_are_written_only_when_set() {
        let mut l = lease("4:1", [10, 1, 0, 2]);
        let text = serde_json::to_string(&l).expect("json");
        assert!(!text.contains("pending"), "{text}");
        l.pending = true;
        let text = serde_json::to_string(&l).expect("json");
        assert!(text.contains("\"pending\":true"), "{text}");
        let back: Lease = serde_json::from_str(&text).expect("parses");
        assert!(back.pending);
        // A state file of an older version, without the flags, reads as committed.
        let old: BridgeRecord =
            serde_json::from_str(r#"{"subnet":"10.1.0.0/24","nat":true}"#).expect("parses");
        assert!(!old.pending && !old.nat_pending && old.nat && old.created);
    }

    #[test]
    fn a_record_pending_for_a_committed_lease_is_resolved() {
        let mut state: BridgeState = serde_json::from_str(
            r#"{"bridge":{"subnet":"10.1.0.0/24","pending":true,"nat_pending":true,
                "pending_by":["4:1"]},"leases":[]}"#,
        )
        .expect("parses");
        let mut mine = lease("4:1", [10, 1, 0, 2]);
        mine.pending = true;
        state.leases.push(mine);
        assert!(!state.resolve(), "its attach is not through");
        state.leases[0].pending = false;
        state.leases.push(lease("4:2", [10, 1, 0, 3]));
        assert!(state.resolve());
        let record = state.bridge.as_ref().expect("record");
        assert!(!record.pending && !record.nat_pending && record.pending_by.is_empty());
        let text = serde_json::to_string(record).expect("json");
        assert!(!text.contains("pending"), "{text}");
    }

    #[test]
    fn the_host_lock_is_one_per_host_namespace() {
        let root = tempfile::tempdir().expect("tempdir");
        let host = NsId { dev: 4, ino: 7 };
        let held = HostLock::take(root.path(), host).expect("lock");
        assert!(root.path().join(".host-4-7.lock").is_file());
        // Not a bridge's state directory.
        assert!(Store::bridges(root.path()).expect("list").is_empty());
        drop(held);
        HostLock::take(root.path(), host).expect("again");
    }

    #[test]
    fn a_remembered_gateway_frees_the_first_address() {
        let mut state: BridgeState = serde_json::from_str(
            r#"{"bridge":{"subnet":"10.1.0.0/24","gateway":"10.1.0.254"},"leases":[]}"#,
        )
        .expect("parses");
        state.leases.push(lease("4:1", [10, 1, 0, 1]));
        assert_eq!(state.check(), Ok(()));
        assert_eq!(
            state.subnet().map(|s| s.gateway()),
            Some(Ipv4Addr::new(10, 1, 0, 254))
        );
        state.leases.push(lease("4:2", [10, 1, 0, 254]));
        assert!(state.check().is_err(), "the gateway is no lease");
    }

    #[test]
    fn dead_leases_are_those_without_their_tagged_veth() {
        let ours = |name: &str, ns: &str| Link {
            name: name.into(),
            alias: Some(crate::names::veth_tag(
                "br0",
                crate::names::parse_id(ns).expect("id"),
            )),
            ..Link::default()
        };
        let mut alive = lease("4:1", [10, 1, 0, 2]);
        alive.host_veth = "nbalive".into();
        let mut dead = lease("4:2", [10, 1, 0, 3]);
        dead.host_veth = "nbdead".into();
        let mut retagged = lease("4:3", [10, 1, 0, 4]);
        retagged.host_veth = "nbother".into();
        let links = [ours("nbalive", "4:1"), ours("nbother", "4:9")];
        assert!(alive.alive(&links, "br0"));
        assert!(!alive.alive(&links, "br1"));
        let mut state = BridgeState {
            bridge: None,
            leases: vec![alive.clone(), dead, retagged],
        };
        assert_eq!(state.prune_dead(&links, "br0"), 2);
        assert_eq!(state.leases, [alive]);
    }

    #[test]
    fn state_that_parses_but_makes_no_sense_is_corrupt() {
        let good = r#"{"bridge":{"subnet":"10.1.0.0/24"},"leases":[
            {"netns":"4:1","target":"/x","address":"10.1.0.2","host_veth":"nb0",
             "ifname":"eth0","mac":"02:00:00:00:00:00"}]}"#;
        let state: BridgeState = serde_json::from_str(good).expect("parses");
        assert_eq!(state.check(), Ok(()));
        assert!(state.bridge.as_ref().is_some_and(|b| b.created));
        for bad in [
            good.replace("10.1.0.0/24", "10.1.0.0/99"),
            good.replace("\"10.1.0.2\"", "\"10.9.0.2\""),
            good.replace("\"10.1.0.2\"", "\"10.1.0.1\""),
            good.replace("4:1", "four"),
            good.replace("nb0", "a/b"),
            good.replace(r#""bridge":{"subnet":"10.1.0.0/24"},"#, ""),
        ] {
            let state: BridgeState = serde_json::from_str(&bad).expect("parses");
            assert!(state.check().is_err(), "{bad}");
        }
        let mut twice: BridgeState = serde_json::from_str(good).expect("parses");
        let mut other = twice.leases[0].clone();
        other.netns = "4:2".into();
        twice.leases.push(other);
        assert!(twice.check().is_err());
    }
}

#[cfg(test)]
mod properties;
