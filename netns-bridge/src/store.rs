//! The state of one bridge, `STATE_DIR/netns-DEV-INO/BRIDGE/`, kept in one small file
//! per thing so that an operation on one namespace reads and writes its own files only,
//! however many namespaces are attached:
//! - `lock`: taken (`flock`, exclusive) by every reader and writer;
//! - `bridge.json`: the bridge's [`BridgeRecord`];
//! - `pending-DEV-INO`: a namespace's [`Lease`] while its attach is under way, written
//!   before its veth pair is made and renamed to `lease-DEV-INO` when the attach is
//!   through (the name says it is pending; the two never exist side by side);
//! - `lease-DEV-INO`: a namespace's [`Lease`];
//! - `ip-ADDRESS`, `ip6-ADDRESS`: the claim of an address, a hard link to the lease
//!   that names it (or, as earlier versions wrote it, a file holding its owner's
//!   `DEV:INO`), made exclusively before that lease is in place; a claim whose owner's
//!   lease does not name it (that attach died) is stale, and taken over;
//! - `cursor`: where to look for a free address first, so that picking one is no scan.
//!
//! Every file is written through [`crate::statedir`]: a lease or the record under a
//! fresh name, then renamed (a lease's claims linked to it first); the cursor, a hint
//! read leniently, in place. An attach thus makes one new file and frees none, and a
//! detach frees one: on file systems where a new inode costs more the more were freed
//! lately (ext4), that is most of what the state costs.
//! The `state.json` of earlier versions (everything in one file) is read and turned into
//! these files when the lock is taken, so an upgrade leaves nothing behind.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};
use serde::{de::DeserializeOwned, Serialize};

use crate::error::Error;
use crate::ipam::Subnet;
use crate::ipam6::Subnet6;
use crate::lease::{BridgeRecord, BridgeState, Lease};
use crate::route::Link;
use crate::statedir::{Dir, Staged};
use nsproc::NsId;

/// The name of the lock file of a bridge's directory.
pub(crate) const LOCK: &str = "lock";
/// The bridge's record.
const RECORD: &str = "bridge.json";
/// Where the search for a free address starts.
const CURSOR: &str = "cursor";
/// The whole state, as earlier versions kept it.
const OLD_STATE: &str = "state.json";
/// The fixed temporary name the earliest versions wrote through.
const OLD_TEMP: &str = ".state.json.tmp";
const LEASE_PREFIX: &str = "lease-";
const PENDING_PREFIX: &str = "pending-";
const CLAIM_PREFIX: &str = "ip-";
const CLAIM6_PREFIX: &str = "ip6-";

fn lease_name(id: NsId) -> String {
    format!("{LEASE_PREFIX}{}-{}", id.dev, id.ino)
}

fn pending_name(id: NsId) -> String {
    format!("{PENDING_PREFIX}{}-{}", id.dev, id.ino)
}

/// The file a lease is kept in: by whether it is pending.
fn file_of(lease: &Lease, id: NsId) -> String {
    if lease.pending {
        pending_name(id)
    } else {
        lease_name(id)
    }
}

fn claim_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => format!("{CLAIM_PREFIX}{ip}"),
        IpAddr::V6(ip) => format!("{CLAIM6_PREFIX}{ip}"),
    }
}

/// The owner a claim of `ip` names: its text is the owner's `DEV:INO` (as earlier
/// versions and a migration write it), or it is a link to the owner's lease file.
fn claim_owner(text: &[u8], ip: IpAddr) -> Option<NsId> {
    if text.first() == Some(&b'{') {
        let leases = leases_in(text).ok()?;
        let owner = leases
            .iter()
            .rev()
            .find(|l| addresses(l).any(|a| a == ip))?;
        return owner.netns_id();
    }
    crate::names::parse_id(String::from_utf8_lossy(text).trim())
}

/// The leases a lease file holds: one, written whole, or one per line (an attach's
/// file, appended to; only its last line can be cut short, by a kill, and is skipped).
/// Where two lines are for one namespace, the later one is its lease.
fn leases_in(text: &[u8]) -> Result<Vec<Lease>, serde_json::Error> {
    let whole = match serde_json::from_slice::<Lease>(text) {
        Ok(lease) => return Ok(vec![lease]),
        Err(e) => e,
    };
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut leases = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_slice(line) {
            Ok(lease) => leases.push(lease),
            Err(_) if i + 1 == lines.len() && !text.ends_with(b"\n") => {}
            Err(e) if lines.len() > 1 => return Err(e),
            Err(_) => return Err(whole),
        }
    }
    if leases.is_empty() {
        return Err(whole);
    }
    Ok(leases)
}

/// Lease files read, by (device, inode): their leases by namespace.
type LeaseFiles = HashMap<(u64, u64), HashMap<NsId, Lease>>;

/// The addresses a lease holds.
fn addresses(lease: &Lease) -> impl Iterator<Item = IpAddr> {
    std::iter::once(IpAddr::V4(lease.address)).chain(lease.address6.map(IpAddr::V6))
}

/// Where the next search for a free address starts: at or below the lowest free one
/// while every change goes through [`Store::save`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cursor {
    v4: Option<Ipv4Addr>,
    v6: Option<Ipv6Addr>,
}

impl Cursor {
    fn parse(text: &str) -> Cursor {
        let mut lines = text.lines();
        Cursor {
            v4: lines.next().and_then(|l| l.parse().ok()),
            v6: lines.next().and_then(|l| l.parse().ok()),
        }
    }

    fn text(&self) -> String {
        let show = |ip: Option<String>| ip.unwrap_or_else(|| "-".into());
        format!(
            "{}\n{}\n",
            show(self.v4.map(|ip| ip.to_string())),
            show(self.v6.map(|ip| ip.to_string()))
        )
    }

    /// `ip` is free again: the search starts there if it started above.
    fn release(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(ip) => self.v4 = Some(self.v4.map_or(ip, |c| c.min(ip))),
            IpAddr::V6(ip) => self.v6 = Some(self.v6.map_or(ip, |c| c.min(ip))),
        }
    }
}

/// The state directory of one bridge, locked while this value lives.
pub struct Store {
    root: Dir,
    dir: Dir,
    name: String,
    fresh: bool,
    /// What the files hold of what was loaded: [`Store::save`] writes the difference.
    saved: RefCell<BridgeState>,
    /// The cursor as read (`None`: not read yet) and as it is to be written.
    cursor: RefCell<Option<(Cursor, Cursor)>>,
    /// Claims no lease names, found by the last [`Store::load`].
    stale: RefCell<Vec<String>>,
    /// The file this attach appends its pending leases to, one line each, and links
    /// under their names: its temporary name and the file. One new file per attach,
    /// however many namespaces it attaches.
    group: RefCell<Option<(String, File)>>,
    _lock: Flock<File>,
}

impl Drop for Store {
    fn drop(&mut self) {
        // Its leases are linked under their own names; the temporary one goes.
        if let Some((name, _)) = self.group.get_mut().take() {
            let _ = self.dir.remove(&name);
        }
    }
}

fn lock(file: File, path: &Path) -> Result<Flock<File>, Error> {
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| Error::sys(format!("cannot lock {}", path.display()), e))
}

impl Store {
    /// Creates `root/bridge/` if needed and takes its lock (waits for other holders).
    pub fn lock(root: &Path, bridge: &str) -> Result<Store, Error> {
        Store::take(root, bridge, true)?.ok_or_else(|| Error::File {
            what: "cannot create state directory",
            path: root.join(bridge),
            source: std::io::ErrorKind::NotFound.into(),
        })
    }

    /// Takes the lock of a bridge that has a state directory; `None` when it has none.
    /// Never creates anything, so a reader racing `down` leaves nothing behind. A
    /// directory without a lock file (its attach was killed right after making it) is
    /// removed.
    pub fn lock_existing(root: &Path, bridge: &str) -> Result<Option<Store>, Error> {
        Store::take(root, bridge, false)
    }

    fn take(root_path: &Path, bridge: &str, create: bool) -> Result<Option<Store>, Error> {
        loop {
            // Inside the loop: the holder we waited for may have removed the directory
            // (a failed first attach, `down`), or the host's (`release_host_root`).
            let Some(root) = Dir::open_root(root_path, create)? else {
                return Ok(None);
            };
            let dir = match root.child(bridge, create) {
                Ok(dir) => dir,
                Err(_) if create && !root.linked() => continue,
                Err(e) => return Err(e),
            };
            let Some(dir) = dir else {
                if create {
                    continue;
                }
                return Ok(None);
            };
            let file = match dir.lock_file(LOCK, create) {
                Ok(file) => file,
                Err(e) => {
                    // An empty directory (just made) is not left behind.
                    root.remove_dir(bridge);
                    return Err(e);
                }
            };
            let Some(file) = file else {
                if create {
                    continue;
                }
                root.remove_dir(bridge);
                return Ok(None);
            };
            let lock = lock(file, &dir.path().join(LOCK))?;
            // `down` unlinks the lock file while holding it: a lock taken on an unlinked
            // file guards nothing, so take the one now at the path instead.
            let held = nix::sys::stat::fstat(lock.as_fd())
                .ok()
                .map(|m| (m.st_dev, m.st_ino));
            if held.is_some() && dir.linked() && held == dir.identity(LOCK) {
                let old = dir.identity(OLD_STATE).is_some();
                let store = Store {
                    fresh: !old && dir.identity(RECORD).is_none(),
                    root,
                    dir,
                    name: bridge.to_string(),
                    saved: RefCell::default(),
                    cursor: RefCell::default(),
                    stale: RefCell::default(),
                    group: RefCell::default(),
                    _lock: lock,
                };
                if old {
                    store.migrate()?;
                }
                return Ok(Some(store));
            }
        }
    }

    /// The bridges that have a state directory under `root`.
    pub fn bridges(root: &Path) -> Result<Vec<String>, Error> {
        let Some(root) = Dir::open_root(root, false)? else {
            return Ok(Vec::new());
        };
        let mut names: Vec<String> = root
            .names()?
            .into_iter()
            .filter(|n| root.identity(&format!("{n}/{LOCK}")).is_some())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The subnets of the bridges with state under `root`, except `name`'s. Read
    /// without their locks: a bridge's subnet never changes while it has state.
    pub fn subnets(root_path: &Path, name: &str) -> Result<Vec<(String, Subnet)>, Error> {
        let Some(root) = Dir::open_root(root_path, false)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for other in Store::bridges(root_path)? {
            if other == name {
                continue;
            }
            let Ok(Some(dir)) = root.child(&other, false) else {
                continue;
            };
            let record = match dir.read(RECORD) {
                Ok(Some(text)) => serde_json::from_slice::<BridgeRecord>(&text).ok(),
                // Not migrated yet.
                _ => match dir.read(OLD_STATE) {
                    Ok(Some(text)) => serde_json::from_slice::<BridgeState>(&text)
                        .ok()
                        .and_then(|s| s.bridge),
                    _ => None,
                },
            };
            let state = BridgeState {
                bridge: record,
                leases: Vec::new(),
            };
            if let Some(subnet) = state.subnet() {
                out.push((other, subnet));
            }
        }
        Ok(out)
    }

    /// Whether there was no state when the lock was taken.
    pub fn fresh(&self) -> bool {
        self.fresh
    }

    fn corrupt(&self, name: &str, why: impl ToString) -> Error {
        Error::State {
            path: self.dir.path().join(name),
            why: why.to_string(),
        }
    }

    fn read_json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, Error> {
        let Some(text) = self.dir.read(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|e| self.corrupt(name, e))
    }

    fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), Error> {
        self.stage_json(name, value)?.place()
    }

    fn stage_json<T: Serialize>(&self, name: &str, value: &T) -> Result<Staged<'_>, Error> {
        let mut text = serde_json::to_vec_pretty(value).map_err(|e| self.corrupt(name, e))?;
        text.push(b'\n');
        self.dir.stage(name, &text)
    }

    /// The state of the earlier format, checked, written as the files of this one (each
    /// replaced: a migration killed halfway is done again); `state.json` goes last.
    fn migrate(&self) -> Result<(), Error> {
        let Some(text) = self.dir.read(OLD_STATE)? else {
            return Ok(());
        };
        let state: BridgeState =
            serde_json::from_slice(&text).map_err(|e| self.corrupt(OLD_STATE, e))?;
        state.check().map_err(|why| self.corrupt(OLD_STATE, why))?;
        // It is the whole truth: files of this format it does not name go.
        let named: std::collections::HashSet<String> = state
            .leases
            .iter()
            .filter_map(|l| l.netns_id())
            .map(lease_name)
            .chain(state.leases.iter().flat_map(addresses).map(claim_name))
            .collect();
        for name in self.dir.names()? {
            let ours = [
                LEASE_PREFIX,
                PENDING_PREFIX,
                CLAIM_PREFIX,
                CLAIM6_PREFIX,
                CURSOR,
            ]
            .iter()
            .any(|p| name.starts_with(p));
            if ours && !named.contains(&name) {
                self.dir.remove(&name)?;
            }
        }
        for lease in &state.leases {
            let id = lease
                .netns_id()
                .ok_or_else(|| self.corrupt(OLD_STATE, "a lease without a namespace id"))?;
            for ip in addresses(lease) {
                self.dir
                    .write(&claim_name(ip), crate::names::id_text(id).as_bytes())?;
            }
            self.write_json(&lease_name(id), lease)?;
        }
        match &state.bridge {
            Some(record) => self.write_json(RECORD, record)?,
            None => self.dir.remove(RECORD)?,
        }
        self.dir.remove(OLD_STATE)?;
        self.dir.remove(OLD_TEMP)
    }

    /// The lease of the namespace `id`, committed or pending, if it has one.
    fn read_lease(&self, id: NsId) -> Result<Option<Lease>, Error> {
        self.read_lease_once(id, None)
    }

    /// As [`Store::read_lease`]; with `files`, each file is read once however many names
    /// it has (an attach of many namespaces wrote one file), and kept there by identity.
    fn read_lease_once(
        &self,
        id: NsId,
        mut files: Option<&mut LeaseFiles>,
    ) -> Result<Option<Lease>, Error> {
        for name in [lease_name(id), pending_name(id)] {
            let key = match files {
                Some(ref files) => {
                    let Some(key) = self.dir.identity(&name) else {
                        continue;
                    };
                    if let Some(by_id) = files.get(&key) {
                        let found = by_id.get(&id).cloned();
                        return self.lease_found(&name, id, found).map(Some);
                    }
                    Some(key)
                }
                None => None,
            };
            let Some(text) = self.dir.read(&name)? else {
                continue;
            };
            let leases = leases_in(&text).map_err(|e| self.corrupt(&name, e))?;
            // Later lines win.
            let by_id: HashMap<NsId, Lease> = leases
                .into_iter()
                .filter_map(|l| Some((l.netns_id()?, l)))
                .collect();
            let found = by_id.get(&id).cloned();
            if let (Some(files), Some(key)) = (files.as_deref_mut(), key) {
                files.insert(key, by_id);
            }
            return self.lease_found(&name, id, found).map(Some);
        }
        Ok(None)
    }

    /// `id`'s lease as found in the file `name`, which must hold one; pending if the
    /// name says so. A committed name holding a pending lease (as earlier versions wrote
    /// one) is moved to the pending name, so that the name alone says where a lease is.
    fn lease_found(&self, name: &str, id: NsId, found: Option<Lease>) -> Result<Lease, Error> {
        let Some(mut lease) = found else {
            return Err(self.corrupt(name, "a lease of another namespace"));
        };
        if lease.pending && name.starts_with(LEASE_PREFIX) {
            let content = Lease {
                pending: false,
                ..lease.clone()
            };
            self.write_json(&pending_name(id), &content)?;
            self.dir.remove(name)?;
        }
        lease.pending |= name.starts_with(PENDING_PREFIX);
        Ok(lease)
    }

    /// Checks what serde cannot (see [`BridgeState::check`]), naming the file.
    fn checked(&self, state: BridgeState, name: &str) -> Result<BridgeState, Error> {
        state.check().map_err(|why| self.corrupt(name, why))?;
        Ok(state)
    }

    /// The bridge's record and the leases of the namespaces `ids` (those that have
    /// one): all an attach or a detach of them needs, whatever else is attached.
    pub fn load_for(&self, ids: &[NsId]) -> Result<BridgeState, Error> {
        let mut bridge: Option<BridgeRecord> = self.read_json(RECORD)?;
        if bridge.is_none() {
            // Leases without a record (rare: the bridge's first attach looks) are corrupt.
            if let Some(name) = self
                .dir
                .names()?
                .into_iter()
                .find(|n| n.starts_with(LEASE_PREFIX) || n.starts_with(PENDING_PREFIX))
            {
                return Err(self.corrupt(&name, "a lease without a bridge record"));
            }
        }
        let mut leases = Vec::new();
        for &id in ids {
            if let Some(lease) = self.read_lease(id)? {
                leases.push(lease);
            }
        }
        // A record whose attach got through (see `resolve`) needs its own leases.
        let on_disk = bridge.clone();
        for netns in bridge.iter().flat_map(|r| r.pending_by.clone()) {
            let id = crate::names::parse_id(&netns)
                .ok_or_else(|| self.corrupt(RECORD, format!("bad namespace id '{netns}'")))?;
            if !ids.contains(&id) {
                if let Some(lease) = self.read_lease(id)? {
                    let mut probe = BridgeState {
                        bridge: bridge.clone(),
                        leases: vec![lease],
                    };
                    if probe.resolve() {
                        bridge = probe.bridge;
                        break;
                    }
                }
            }
        }
        let mut state = self.checked(BridgeState { bridge, leases }, RECORD)?;
        state.resolve();
        // What the files say, so that the next save writes a resolved record.
        *self.saved.borrow_mut() = BridgeState {
            bridge: on_disk,
            leases: state.leases.clone(),
        };
        Ok(state)
    }

    /// The whole state: the record and every lease (sorted by address).
    pub fn load(&self) -> Result<BridgeState, Error> {
        let bridge: Option<BridgeRecord> = self.read_json(RECORD)?;
        let mut ids = std::collections::BTreeMap::new();
        let mut claims = Vec::new();
        for name in self.dir.names()? {
            let lease_id = name
                .strip_prefix(LEASE_PREFIX)
                .or_else(|| name.strip_prefix(PENDING_PREFIX));
            if let Some(id) = lease_id {
                let Some(id) = crate::names::parse_id(&id.replacen('-', ":", 1)) else {
                    return Err(self.corrupt(&name, "a lease of another namespace"));
                };
                ids.insert(id, name);
            } else if name.starts_with(CLAIM_PREFIX) || name.starts_with(CLAIM6_PREFIX) {
                claims.push(name);
            }
        }
        let mut leases = Vec::with_capacity(ids.len());
        let mut files = HashMap::new();
        for (id, name) in ids {
            let lease = self
                .read_lease_once(id, Some(&mut files))?
                .ok_or_else(|| self.corrupt(&name, "the lease went while the lock was held"))?;
            leases.push(lease);
        }
        leases.sort_by_key(|l| l.address);
        let state = self.checked(BridgeState { bridge, leases }, RECORD)?;
        let held: std::collections::HashSet<String> = state
            .leases
            .iter()
            .flat_map(addresses)
            .map(claim_name)
            .collect();
        claims.retain(|c| !held.contains(c));
        *self.stale.borrow_mut() = claims;
        *self.saved.borrow_mut() = state.clone();
        let mut state = state;
        state.resolve();
        Ok(state)
    }

    /// Removes the claims the last [`Store::load`] found no lease for (their attach
    /// died between claiming and recording); how many. Temporary files, which only a
    /// writer killed halfway leaves under the lock, go too.
    pub fn sweep(&self) -> Result<usize, Error> {
        let stale = std::mem::take(&mut *self.stale.borrow_mut());
        for name in &stale {
            self.dir.remove(name)?;
        }
        self.dir.clean()?;
        Ok(stale.len())
    }

    /// Makes the files say what `state` says, writing only what differs from what was
    /// loaded or saved last: new addresses are claimed before their lease is written,
    /// a lease is removed before its claims.
    pub fn save(&self, state: &BridgeState) -> Result<(), Error> {
        let saved = self.saved.borrow().clone();
        let before: HashMap<&str, &Lease> =
            saved.leases.iter().map(|l| (l.netns.as_str(), l)).collect();
        for lease in &state.leases {
            let old = before.get(lease.netns.as_str()).copied();
            if old == Some(lease) {
                continue;
            }
            self.put(old, lease)?;
        }
        let kept: std::collections::HashSet<&str> =
            state.leases.iter().map(|l| l.netns.as_str()).collect();
        for old in saved
            .leases
            .iter()
            .filter(|l| !kept.contains(l.netns.as_str()))
        {
            self.drop_lease(old)?;
        }
        if saved.bridge != state.bridge {
            match &state.bridge {
                Some(record) => self.write_json(RECORD, record)?,
                None => self.dir.remove(RECORD)?,
            }
            self.saved.borrow_mut().bridge = state.bridge.clone();
        }
        self.save_cursor()
    }

    /// Writes `lease` (replacing `old`, the same namespace's as the files hold it) where
    /// it belongs by whether it is pending. Its new addresses are claimed first, by hard
    /// links to the lease's own file before it is renamed into place, so that an attach
    /// makes one new file. A pending lease committed as it was is only renamed; one that
    /// becomes pending again loses its committed file first: the two names never exist
    /// side by side. The name says whether a lease is pending, so its contents do not.
    fn put(&self, old: Option<&Lease>, lease: &Lease) -> Result<(), Error> {
        let id = lease
            .netns_id()
            .ok_or_else(|| Error::invalid(format!("bad namespace id '{}'", lease.netns)))?;
        let had: Vec<IpAddr> = old.into_iter().flat_map(addresses).collect();
        let content = Lease {
            pending: false,
            ..lease.clone()
        };
        let commit = old.is_some_and(|o| o.pending) && !lease.pending;
        let same = old.is_some_and(|o| {
            Lease {
                pending: false,
                ..o.clone()
            } == content
        });
        if !(commit && same) {
            if old.is_some_and(|o| !o.pending) && lease.pending {
                self.dir.remove(&lease_name(id))?;
                // Gone from the files: a failure below leaves the caller's undo to
                // write it again.
                self.saved
                    .borrow_mut()
                    .leases
                    .retain(|l| l.netns != lease.netns);
            }
            let new: Vec<IpAddr> = addresses(lease).filter(|ip| !had.contains(ip)).collect();
            if lease.pending {
                // A line of this attach's file, linked as the claims and the lease.
                let group = self.append_pending(&content)?;
                let link = |name: &str| self.dir.link(&group, name);
                let claimed = self.claim_all(&new, id, &link)?;
                let name = pending_name(id);
                let placed = self
                    .dir
                    .remove(&name)
                    .and_then(|()| self.dir.link(&group, &name));
                match placed {
                    Ok(true) => {}
                    failed => {
                        self.unclaim(&claimed);
                        failed?;
                        return Err(Error::File {
                            what: "cannot create",
                            path: self.dir.path().join(&name),
                            source: std::io::ErrorKind::AlreadyExists.into(),
                        });
                    }
                }
            } else {
                // A commit that changes the lease goes through its pending name, and the
                // rename below.
                let target = if commit {
                    pending_name(id)
                } else {
                    file_of(lease, id)
                };
                let staged = self.stage_json(&target, &content)?;
                let claimed = self.claim_all(&new, id, &|name| staged.link_as(name))?;
                if let Err(e) = staged.place() {
                    self.unclaim(&claimed);
                    return Err(e);
                }
            }
        }
        if commit {
            self.dir.rename(&pending_name(id), &lease_name(id))?;
        }
        let mut saved = self.saved.borrow_mut();
        saved.leases.retain(|l| l.netns != lease.netns);
        saved.leases.push(lease.clone());
        drop(saved);
        let now: Vec<IpAddr> = addresses(lease).collect();
        for ip in had.into_iter().filter(|ip| !now.contains(ip)) {
            self.release(ip)?;
        }
        Ok(())
    }

    /// Appends `lease` as a line to this attach's file (made on first use); returns the
    /// file's temporary name, to link from. One write: a kill leaves the line whole or
    /// absent, or at worst cut short, which a reader skips (see [`leases_in`]).
    fn append_pending(&self, lease: &Lease) -> Result<String, Error> {
        let mut line = serde_json::to_vec(lease).map_err(|e| self.corrupt("lease", e))?;
        line.push(b'\n');
        let mut slot = self.group.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.dir.create_temp("pending")?);
        }
        let Some((name, file)) = slot.as_mut() else {
            return Err(self.corrupt("lease", "no file to append to"));
        };
        if let Err(e) = std::io::Write::write_all(file, &line) {
            // What was written of the line stays last in that file: the next append
            // starts another.
            let error = Error::File {
                what: "cannot write",
                path: self.dir.path().join(name.as_str()),
                source: e,
            };
            let _ = self.dir.remove(name);
            *slot = None;
            return Err(error);
        }
        Ok(name.clone())
    }

    /// Removes a lease, then its claims.
    fn drop_lease(&self, lease: &Lease) -> Result<(), Error> {
        let id = lease
            .netns_id()
            .ok_or_else(|| Error::invalid(format!("bad namespace id '{}'", lease.netns)))?;
        self.dir.remove(&file_of(lease, id))?;
        self.saved
            .borrow_mut()
            .leases
            .retain(|l| l.netns != lease.netns);
        for ip in addresses(lease) {
            self.release(ip)?;
        }
        Ok(())
    }

    fn release(&self, ip: IpAddr) -> Result<(), Error> {
        self.dir.remove(&claim_name(ip))?;
        self.with_cursor(|c| c.release(ip))
    }

    /// Undoes claims just made (their lease could not be written); what fails to go is
    /// stale, and taken over or swept later.
    fn unclaim(&self, claimed: &[IpAddr]) {
        for ip in claimed {
            let _ = self.dir.remove(&claim_name(*ip));
        }
    }

    /// Claims the addresses `ips` for the namespace `id`, each with `link` (to the file
    /// of its lease); all or none. Returns them.
    fn claim_all(
        &self,
        ips: &[IpAddr],
        id: NsId,
        link: &dyn Fn(&str) -> Result<bool, Error>,
    ) -> Result<Vec<IpAddr>, Error> {
        let mut claimed = Vec::new();
        for &ip in ips {
            if let Err(e) = self.claim(link, ip, id) {
                self.unclaim(&claimed);
                return Err(e);
            }
            claimed.push(ip);
        }
        Ok(claimed)
    }

    /// Claims `ip` for the namespace `id` with `link` (to the file of its lease): the
    /// claim is made, or it is `id`'s already or stale (replaced); else the address is
    /// someone else's.
    fn claim(
        &self,
        link: &dyn Fn(&str) -> Result<bool, Error>,
        ip: IpAddr,
        id: NsId,
    ) -> Result<(), Error> {
        let name = claim_name(ip);
        if link(&name)? {
            return Ok(());
        }
        if !self.taken(ip, Some(id))? {
            // Ours already, or stale: replaced (a symlink there is removed, never followed).
            self.dir.remove(&name)?;
            if link(&name)? {
                return Ok(());
            }
        }
        Err(Error::NoAddress(format!(
            "address {ip} is already leased on bridge {}",
            self.name
        )))
    }

    /// Whether `ip` is held by a lease other than `me`'s: claimed, and the claim's owner
    /// has a lease naming it.
    pub fn taken(&self, ip: IpAddr, me: Option<NsId>) -> Result<bool, Error> {
        let name = claim_name(ip);
        if self.dir.identity(&name).is_none() {
            return Ok(false);
        }
        let owner = match self.dir.read(&name) {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(false),
            // A symlink planted there, say: never taken over, never read through.
            Err(_) => return Ok(true),
        };
        let Some(owner) = claim_owner(&owner, ip) else {
            return Ok(false);
        };
        if Some(owner) == me {
            return Ok(false);
        }
        let lease = self.read_lease(owner)?;
        Ok(lease.is_some_and(|l| addresses(&l).any(|a| a == ip)))
    }

    /// A free IPv4 address for `me` in `subnet` (within `ranges`, if any): the lowest
    /// one, found from the cursor without looking at the leases.
    pub fn free_address(
        &self,
        subnet: &Subnet,
        ranges: &[(Ipv4Addr, Ipv4Addr)],
        me: NsId,
    ) -> Result<Option<Ipv4Addr>, Error> {
        let from = self.with_cursor(|c| c.v4)?;
        let found = subnet.next_free(from, ranges, |ip| self.taken(IpAddr::V4(ip), Some(me)))?;
        if let Some(ip) = found {
            let next = Ipv4Addr::from(u32::from(ip).saturating_add(1));
            self.with_cursor(|c| c.v4 = Some(next))?;
        }
        Ok(found)
    }

    /// A free IPv6 address for `me` in `subnet6`, as [`Store::free_address`].
    pub fn free_address6(&self, subnet6: &Subnet6, me: NsId) -> Result<Option<Ipv6Addr>, Error> {
        let from = self.with_cursor(|c| c.v6)?;
        let found = subnet6.next_free(from, |ip| self.taken(IpAddr::V6(ip), Some(me)))?;
        if let Some(ip) = found {
            let next = Ipv6Addr::from(u128::from(ip).saturating_add(1));
            self.with_cursor(|c| c.v6 = Some(next))?;
        }
        Ok(found)
    }

    /// Runs `f` on the cursor to be written (read first if it was not).
    fn with_cursor<T>(&self, f: impl FnOnce(&mut Cursor) -> T) -> Result<T, Error> {
        let mut slot = self.cursor.borrow_mut();
        if slot.is_none() {
            let read = match self.dir.read(CURSOR)? {
                Some(text) => Cursor::parse(&String::from_utf8_lossy(&text)),
                None => Cursor::default(),
            };
            *slot = Some((read, read));
        }
        let Some((_, next)) = slot.as_mut() else {
            return Ok(f(&mut Cursor::default()));
        };
        Ok(f(next))
    }

    /// Writes the cursor if it moved down (an address was released: the search must
    /// start there); one that only moved up waits for [`Store::flush_cursor`] (a lower
    /// cursor is right, only slower), so that an attach of many writes it once.
    fn save_cursor(&self) -> Result<(), Error> {
        let down = self.cursor.borrow().is_some_and(|(written, next)| {
            let lower = |n: Option<IpAddr>, w: Option<IpAddr>| match (n, w) {
                (Some(n), Some(w)) => n < w,
                (n, w) => n != w,
            };
            lower(next.v4.map(IpAddr::V4), written.v4.map(IpAddr::V4))
                || lower(next.v6.map(IpAddr::V6), written.v6.map(IpAddr::V6))
        });
        if down {
            self.flush_cursor()?;
        }
        Ok(())
    }

    /// Writes the cursor if it changed.
    pub fn flush_cursor(&self) -> Result<(), Error> {
        let mut slot = self.cursor.borrow_mut();
        if let Some((written, next)) = slot.as_mut().filter(|(w, n)| w != n) {
            // In place, one write: a writer killed before the truncation leaves the old
            // text's tail after the new one's two lines, which are all that is read.
            self.dir.overwrite(CURSOR, next.text().as_bytes())?;
            *written = *next;
        }
        Ok(())
    }

    /// Drops the leases of namespaces that are gone (see [`Lease::alive`]) from the
    /// files, whatever was loaded; returns how many. What was loaded stays loaded, less
    /// the leases dropped.
    pub fn prune_dead(&self, links: &[Link], bridge: &str) -> Result<usize, Error> {
        let loaded = self.saved.borrow().clone();
        let mut all = self.load()?;
        let pruned = all.prune_dead(links, bridge);
        self.save(&all)?;
        let mut loaded = loaded;
        loaded
            .leases
            .retain(|l| all.leases.iter().any(|a| a.netns == l.netns));
        *self.saved.borrow_mut() = loaded;
        Ok(pruned)
    }

    /// Removes the bridge's state directory (its lock file last; the lock is held until
    /// the store is dropped, and a waiter then sees the file is gone and starts again).
    pub fn remove(&self) -> Result<(), Error> {
        // Every file but the lock: leases, claims, the record, temporary files.
        for name in self.dir.names()? {
            if name != LOCK {
                self.dir.remove(&name)?;
            }
        }
        self.dir.remove(LOCK)?;
        *self.saved.borrow_mut() = BridgeState::default();
        // Someone else made something there meanwhile: leave it.
        self.root.remove_dir(&self.name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::tests::lease;

    fn record() -> BridgeRecord {
        BridgeRecord {
            subnet: "10.1.0.0/24".into(),
            gateway: None,
            subnet6: None,
            nat: false,
            mtu: None,
            created: true,
            gateway_added: false,
            pending: false,
            nat_pending: false,
            pending_by: Vec::new(),
        }
    }

    fn files(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join("br0"))
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn removing_leaves_no_temporary_file_and_no_directory() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        assert!(store.fresh());
        let dir = root.path().join("br0");
        std::fs::write(dir.join(".tmp-state.json-0123456789abcdef"), "x").expect("temp");
        std::fs::write(dir.join(".state.json.tmp"), "x").expect("old temp");
        store.save(&BridgeState::default()).expect("save");
        store.remove().expect("remove");
        assert!(!dir.exists());
    }

    #[test]
    fn saves_and_loads_one_file_per_lease() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        assert_eq!(store.load().expect("empty"), BridgeState::default());
        let state = BridgeState {
            bridge: Some(record()),
            leases: vec![lease("4:1", [10, 1, 0, 2]), lease("4:2", [10, 1, 0, 3])],
        };
        store.save(&state).expect("save");
        assert_eq!(store.load().expect("load"), state);
        assert_eq!(
            files(root.path()),
            [
                "bridge.json",
                "ip-10.1.0.2",
                "ip-10.1.0.3",
                "lease-4-1",
                "lease-4-2",
                "lock"
            ]
        );
        assert_eq!(
            Store::bridges(root.path()).expect("list"),
            vec!["br0".to_string()]
        );
        let id = NsId { dev: 4, ino: 1 };
        assert_eq!(
            state.find(id).map(|l| l.address),
            Some(Ipv4Addr::new(10, 1, 0, 2))
        );
        // One namespace's part: only its lease is read, and only it is written.
        let part = store.load_for(&[id]).expect("part");
        assert_eq!(part.leases, [lease("4:1", [10, 1, 0, 2])]);
        let mut less = part.clone();
        less.leases.clear();
        store.save(&less).expect("drop one");
        assert_eq!(
            store.load().expect("load").leases,
            [lease("4:2", [10, 1, 0, 3])]
        );
        assert!(!root.path().join("br0/ip-10.1.0.2").exists());
        store.remove().expect("remove");
        assert!(!root.path().join("br0").exists());
    }

    #[test]
    fn addresses_come_from_the_cursor_lowest_first() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        let subnet: Subnet = "10.1.0.0/24".parse().expect("subnet");
        let mut state = BridgeState {
            bridge: Some(record()),
            leases: Vec::new(),
        };
        for ino in 1..=3u64 {
            let me = NsId { dev: 4, ino };
            let ip = store
                .free_address(&subnet, &[], me)
                .expect("pick")
                .expect("free");
            state.leases.push(lease(&format!("4:{ino}"), ip.octets()));
            store.save(&state).expect("save");
        }
        let got: Vec<Ipv4Addr> = state.leases.iter().map(|l| l.address).collect();
        assert_eq!(
            got,
            [[10, 1, 0, 2], [10, 1, 0, 3], [10, 1, 0, 4]].map(Ipv4Addr::from)
        );
        // Moved up only: written once, when the attach is through.
        assert_eq!(
            std::fs::read_to_string(root.path().join("br0/cursor")).expect("cursor"),
            "10.1.0.3\n-\n"
        );
        store.flush_cursor().expect("flush");
        assert_eq!(
            std::fs::read_to_string(root.path().join("br0/cursor")).expect("cursor"),
            "10.1.0.5\n-\n"
        );
        // A released address is the next one handed out.
        state.leases.remove(0);
        store.save(&state).expect("save");
        let me = NsId { dev: 4, ino: 9 };
        assert_eq!(
            store.free_address(&subnet, &[], me).expect("pick"),
            Some(Ipv4Addr::new(10, 1, 0, 2))
        );
        drop(store);
        // A claim whose owner's lease does not name it (its attach died) is free.
        std::fs::remove_file(root.path().join("br0/lease-4-2")).expect("rm");
        let store = Store::lock(root.path(), "br0").expect("lock");
        let ip = IpAddr::V4(Ipv4Addr::new(10, 1, 0, 3));
        assert!(!store.taken(ip, None).expect("taken"));
        assert!(store
            .taken(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 4)), None)
            .expect("taken"));
        store.load().expect("load");
        assert_eq!(store.sweep().expect("sweep"), 1);
        assert!(!root.path().join("br0/ip-10.1.0.3").exists());
    }

    #[test]
    fn a_claimed_address_is_not_leased_twice() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        let state = BridgeState {
            bridge: Some(record()),
            leases: vec![lease("4:1", [10, 1, 0, 2])],
        };
        store.save(&state).expect("save");
        // Another namespace's attach, which loaded its own part only, wants it too.
        store.load_for(&[]).expect("part");
        let twice = BridgeState {
            bridge: Some(record()),
            leases: vec![lease("4:2", [10, 1, 0, 2])],
        };
        assert!(matches!(store.save(&twice), Err(Error::NoAddress(_))));
        assert!(!root.path().join("br0/lease-4-2").exists());
    }

    #[test]
    fn a_pending_lease_is_committed_by_a_rename() {
        use std::os::unix::fs::MetadataExt;
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        let id = NsId { dev: 4, ino: 1 };
        let mut pending = lease("4:1", [10, 1, 0, 2]);
        pending.pending = true;
        let mut state = BridgeState {
            bridge: Some(record()),
            leases: vec![pending],
        };
        store.save(&state).expect("save pending");
        let dir = root.path().join("br0");
        assert!(dir.join("pending-4-1").exists() && !dir.join("lease-4-1").exists());
        let text = std::fs::read_to_string(dir.join("pending-4-1")).expect("pending");
        assert!(!text.contains("pending"), "the name says it: {text}");
        assert!(store.load_for(&[id]).expect("part").leases[0].pending);
        assert!(store
            .taken(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 2)), None)
            .expect("taken"));
        let inode = std::fs::metadata(dir.join("pending-4-1"))
            .expect("stat")
            .ino();

        state.leases[0].pending = false;
        store.save(&state).expect("commit");
        assert!(!dir.join("pending-4-1").exists());
        let meta = std::fs::metadata(dir.join("lease-4-1")).expect("committed");
        assert_eq!(meta.ino(), inode, "renamed, not written anew");
        assert_eq!(store.load().expect("load"), state);

        // Attached anew (its veth went): pending again, and never under both names.
        state.leases[0].pending = true;
        state.leases[0].host_veth = "nbother".into();
        store.save(&state).expect("pending again");
        assert!(dir.join("pending-4-1").exists() && !dir.join("lease-4-1").exists());
        state.leases[0].pending = false;
        store.save(&state).expect("commit again");
        assert_eq!(store.load().expect("load"), state);
        assert!(!dir.join("pending-4-1").exists());

        state.leases.clear();
        store.save(&state).expect("detach");
        drop(store);
        assert_eq!(files(root.path()), ["bridge.json", "cursor", "lock"]);
    }

    #[test]
    fn an_attach_of_many_writes_one_file() {
        use std::os::unix::fs::MetadataExt;
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        let mut state = BridgeState {
            bridge: Some(record()),
            leases: Vec::new(),
        };
        for ino in 1..=3u64 {
            let mut l = lease(&format!("4:{ino}"), [10, 1, 0, 1 + ino as u8]);
            l.pending = true;
            state.leases.push(l);
            store.save(&state).expect("pending");
        }
        let dir = root.path().join("br0");
        let inode = |name: &str| std::fs::metadata(dir.join(name)).expect(name).ino();
        let one = inode("pending-4-1");
        for name in ["pending-4-2", "pending-4-3", "ip-10.1.0.2", "ip-10.1.0.4"] {
            assert_eq!(inode(name), one, "{name}");
        }
        for l in &mut state.leases {
            l.pending = false;
        }
        store.save(&state).expect("commit");
        drop(store);
        assert_eq!(
            files(root.path()),
            [
                "bridge.json",
                "ip-10.1.0.2",
                "ip-10.1.0.3",
                "ip-10.1.0.4",
                "lease-4-1",
                "lease-4-2",
                "lease-4-3",
                "lock"
            ]
        );
        assert_eq!(inode("lease-4-3"), one);
        // A line cut short by a kill, last in the file, is skipped.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("lease-4-1"))
            .expect("open");
        std::io::Write::write_all(&mut file, b"{\"netns\":\"4:9\",\"addr").expect("cut");
        let store = Store::lock(root.path(), "br0").expect("lock");
        assert_eq!(store.load().expect("load"), state);
        assert!(store
            .taken(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 3)), None)
            .expect("taken"));
        // One namespace detached: the others' file stays.
        let mut less = state.clone();
        less.leases.remove(1);
        store.save(&less).expect("detach one");
        assert_eq!(store.load().expect("load").leases, less.leases);
        assert_eq!(inode("lease-4-3"), one);
    }

    #[test]
    fn a_lease_pending_by_its_contents_is_pending() {
        // As earlier versions wrote it: `lease-DEV-INO` holding `"pending": true`.
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        store
            .save(&BridgeState {
                bridge: Some(record()),
                leases: Vec::new(),
            })
            .expect("record");
        let mut old = lease("4:1", [10, 1, 0, 2]);
        old.pending = true;
        let text = serde_json::to_vec(&old).expect("json");
        std::fs::write(root.path().join("br0/lease-4-1"), text).expect("write");
        let id = NsId { dev: 4, ino: 1 };
        assert!(store.load_for(&[id]).expect("part").leases[0].pending);
        // Moved to its pending name, where a commit or a removal finds it.
        let dir = root.path().join("br0");
        assert!(!dir.join("lease-4-1").exists() && dir.join("pending-4-1").exists());
        assert!(store.load().expect("all").leases[0].pending);
        store
            .save(&BridgeState {
                bridge: Some(record()),
                leases: Vec::new(),
            })
            .expect("drop it");
        assert_eq!(files(root.path()), ["bridge.json", "cursor", "lock"]);
    }

    #[test]
    fn a_claim_naming_no_one_is_stale_and_the_cursor_is_read_leniently() {
        use std::os::unix::fs::MetadataExt;
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        let dir = root.path().join("br0");
        std::fs::write(dir.join("ip-10.1.0.2"), "4:").expect("claim of no one");
        // A cursor writer killed before cutting the file: the old text's tail follows.
        std::fs::write(dir.join("cursor"), "10.1.0.2\n-\n0.1.0.9\n-\n").expect("cursor");
        let subnet: Subnet = "10.1.0.0/24".parse().expect("subnet");
        let me = NsId { dev: 4, ino: 7 };
        assert_eq!(
            store.free_address(&subnet, &[], me).expect("pick"),
            Some(Ipv4Addr::new(10, 1, 0, 2))
        );
        let state = BridgeState {
            bridge: Some(record()),
            leases: vec![lease("4:7", [10, 1, 0, 2])],
        };
        store.save(&state).expect("take the stale claim over");
        // The claim is the lease's own file, linked.
        let claim = std::fs::metadata(dir.join("ip-10.1.0.2")).expect("claim");
        let lease = std::fs::metadata(dir.join("lease-4-7")).expect("lease");
        assert_eq!((claim.ino(), claim.nlink()), (lease.ino(), 2));
        store.flush_cursor().expect("flush");
        assert_eq!(
            std::fs::read_to_string(dir.join("cursor")).expect("cursor"),
            "10.1.0.3\n-\n"
        );
    }

    #[test]
    fn the_earlier_state_file_is_migrated_when_locked() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("br0");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::write(dir.join("lock"), "").expect("lock");
        let old = BridgeState {
            bridge: Some(record()),
            leases: vec![lease("4:1", [10, 1, 0, 2]), lease("4:2", [10, 1, 0, 3])],
        };
        std::fs::write(
            dir.join("state.json"),
            serde_json::to_vec(&old).expect("json"),
        )
        .expect("old state");
        assert_eq!(
            Store::subnets(root.path(), "other").expect("subnets"),
            [("br0".to_string(), "10.1.0.0/24".parse().expect("subnet"))]
        );
        let store = Store::lock(root.path(), "br0").expect("lock");
        assert!(!store.fresh());
        assert!(!dir.join("state.json").exists());
        assert_eq!(store.load().expect("load"), old);
        assert!(dir.join("ip-10.1.0.3").exists());
        drop(store);
        // A corrupt one is refused and left as it is.
        std::fs::write(dir.join("state.json"), "{not json").expect("corrupt");
        assert!(matches!(
            Store::lock(root.path(), "br0"),
            Err(Error::State { .. })
        ));
        assert!(dir.join("state.json").exists());
    }

    #[test]
    fn a_lease_without_a_record_is_corrupt() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = Store::lock(root.path(), "br0").expect("lock");
        let state = BridgeState {
            bridge: Some(record()),
            leases: vec![lease("4:1", [10, 1, 0, 2])],
        };
        store.save(&state).expect("save");
        std::fs::remove_file(root.path().join("br0/bridge.json")).expect("rm");
        assert!(matches!(store.load_for(&[]), Err(Error::State { .. })));
        assert!(matches!(store.load(), Err(Error::State { .. })));
        std::fs::write(root.path().join("br0/bridge.json"), "{not json").expect("corrupt");
        assert!(matches!(store.load(), Err(Error::State { .. })));
        std::fs::write(root.path().join("br0/lease-4-1"), "{not json").expect("corrupt");
        assert!(matches!(
            store.load_for(&[NsId { dev: 4, ino: 1 }]),
            Err(Error::State { .. })
        ));
    }
}
