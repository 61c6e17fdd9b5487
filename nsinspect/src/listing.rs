//! `--all`: every namespace on the host, from the process scan, the nsfs bind mounts of
//! every mount namespace, and (with `--fds`) open descriptors; then the few facts that
//! need one process or one namespace file each (PPID, command, user, parent, owner).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::error::Error;
use crate::fdscan::{self, FdHolder};
use crate::mountinfo;
use crate::nsid::{NsFile, NsId};
use crate::parallel;
use crate::procinfo;
use crate::procscan::{kind_index, ProcRoot, Scan};
use crate::target::Process;
use nskind::Kind;

/// What to find and what to look up.
#[derive(Clone, Debug)]
pub struct ListOptions {
    /// The types to list (`-t`), never empty.
    pub kinds: Vec<Kind>,
    /// Also look for namespaces held by open descriptors.
    pub fds: bool,
    /// Look up each namespace's parent and owner (PNS, ONS).
    pub relations: bool,
    /// Add the parents and owners that nothing else lists, for `--tree`.
    pub ancestors: bool,
    /// Read PPID and command of each namespace's lowest PID.
    pub details: bool,
    /// Look up the uid (UID, USER) of each lowest PID.
    pub uids: bool,
    /// Look up user names.
    pub users: bool,
}

/// One namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: NsId,
    pub kind: Kind,
    /// Processes in it (0 when only a mount, a descriptor or a child namespace holds it).
    pub nprocs: u32,
    /// The lowest PID in it, and that process's uid, PPID and command.
    pub pid: Option<i32>,
    pub uid: Option<u32>,
    pub ppid: Option<i32>,
    pub command: Option<String>,
    pub user: Option<String>,
    /// Paths where it is bind-mounted (in other mount namespaces: via /proc/PID/root).
    pub nsfs: Vec<PathBuf>,
    /// Descriptors that refer to it.
    pub fds: Vec<(i32, i32)>,
    pub parent: Option<NsId>,
    pub owner: Option<NsId>,
}

impl Entry {
    fn new(id: NsId, kind: Kind) -> Entry {
        Entry {
            id,
            kind,
            nprocs: 0,
            pid: None,
            uid: None,
            ppid: None,
            command: None,
            user: None,
            nsfs: Vec::new(),
            fds: Vec::new(),
            parent: None,
            owner: None,
        }
    }

    /// A path that opens this namespace, if any.
    pub fn path(&self) -> Option<PathBuf> {
        if let Some(pid) = self.pid {
            return Some(PathBuf::from(format!(
                "/proc/{pid}/ns/{}",
                self.kind.proc_name()
            )));
        }
        if let Some(path) = self.nsfs.first() {
            return Some(path.clone());
        }
        self.fds
            .first()
            .map(|(pid, fd)| PathBuf::from(format!("/proc/{pid}/fd/{fd}")))
    }
}

/// Every namespace found, ordered by inode, and what could not be read.
#[derive(Debug, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub unreadable: usize,
    pub unreadable_errno: Option<Errno>,
}

impl Listing {
    pub fn index_of(&self, id: NsId) -> Option<usize> {
        self.entries.iter().position(|e| e.id == id)
    }
}

/// Namespaces by identity, in the order found.
#[derive(Default)]
struct NsSet {
    entries: Vec<Entry>,
    by_id: HashMap<NsId, usize>,
}

impl NsSet {
    fn entry(&mut self, id: NsId, kind: Kind) -> &mut Entry {
        let i = *self.by_id.entry(id).or_insert_with(|| {
            self.entries.push(Entry::new(id, kind));
            self.entries.len() - 1
        });
        &mut self.entries[i]
    }

    fn get(&self, id: NsId) -> Option<usize> {
        self.by_id.get(&id).copied()
    }
}

pub fn list(opts: &ListOptions) -> Result<Listing, Error> {
    let root = ProcRoot::open()?;
    // Mount namespaces are always read: their mount tables hold bind-mounted
    // namespaces. A tree needs the user and PID namespaces to hang the rest on.
    let mut scan_kinds = opts.kinds.clone();
    let mut add = |k| {
        if !scan_kinds.contains(&k) {
            scan_kinds.push(k);
        }
    };
    add(Kind::Mount);
    if opts.ancestors {
        add(Kind::User);
        add(Kind::Pid);
    }
    let scan = root.scan(&scan_kinds)?;
    let mut set = NsSet::default();
    count_processes(&mut set, &scan, &scan_kinds);
    find_mounted(&mut set);
    if opts.fds {
        if let Some(dev) = fdscan::nsfs_dev() {
            add_fd_holders(&mut set, &fdscan::scan(&root, &scan.pids, dev));
        }
    }
    if opts.relations || opts.ancestors {
        find_relations(&mut set, opts.ancestors);
    }
    if opts.details || opts.uids || opts.users {
        add_details(&mut set, opts);
    }
    let mut entries = set.entries;
    entries.sort_by_key(|e| (e.id.ino, e.id.dev));
    let keep: Vec<bool> = if opts.ancestors {
        keep_with_ancestors(&entries, &opts.kinds)
    } else {
        entries
            .iter()
            .map(|e| opts.kinds.contains(&e.kind))
            .collect()
    };
    let entries = entries
        .into_iter()
        .zip(keep)
        .filter_map(|(e, k)| k.then_some(e))
        .collect();
    Ok(Listing {
        entries,
        unreadable: scan.unreadable,
        unreadable_errno: scan.unreadable_errno,
    })
}

fn count_processes(set: &mut NsSet, scan: &Scan, kinds: &[Kind]) {
    for p in &scan.procs {
        for &kind in kinds {
            if let Some(id) = p.ns[kind_index(kind)] {
                let e = set.entry(id, kind);
                e.nprocs += 1;
                if e.pid.is_none_or(|lowest| p.pid < lowest) {
                    e.pid = Some(p.pid);
                }
            }
        }
    }
}

/// Adds the namespaces bind-mounted in any mount namespace: ours through
/// /proc/self/mountinfo, every other one through the mountinfo of its lowest PID.
/// Reading a mount table is costly (the kernel renders every mount), so they are read
/// in parallel.
fn find_mounted(set: &mut NsSet) {
    let own = nix::sys::stat::stat("/proc/self/ns/mnt")
        .ok()
        .map(|st| NsId::of(&st));
    let mut tables: Vec<Option<i32>> = vec![None];
    tables.extend(
        set.entries
            .iter()
            .filter(|e| e.kind == Kind::Mount && Some(e.id) != own)
            .filter_map(|e| e.pid.map(Some)),
    );
    let found = parallel::chunked(&tables, 32, |part| {
        part.iter()
            .flat_map(|&pid| mounted_in(pid))
            .collect::<Vec<_>>()
    });
    for (path, id, foreign) in found.into_iter().flatten() {
        add_mounted(set, &path, id, foreign);
    }
}

/// The namespace files bind-mounted in the mount namespace of `pid` (ours for
/// `None`), as paths that reach them from here, what they hold, and whether that is
/// another mount namespace.
fn mounted_in(pid: Option<i32>) -> Vec<(PathBuf, NsId, bool)> {
    let (table, root) = match pid {
        None => (PathBuf::from("/proc/self/mountinfo"), None),
        Some(pid) => (
            PathBuf::from(format!("/proc/{pid}/mountinfo")),
            Some(PathBuf::from(format!("/proc/{pid}/root"))),
        ),
    };
    let Ok(text) = std::fs::File::open(&table).and_then(crate::target::read_all) else {
        return Vec::new();
    };
    mountinfo::nsfs_mounts(&text)
        .filter_map(|m| {
            let path = match &root {
                None => m.mount_point,
                Some(root) => root.join(m.mount_point.strip_prefix("/").unwrap_or(&m.mount_point)),
            };
            let st = nix::sys::stat::stat(&path).ok()?;
            Some((path, NsId::of(&st), pid.is_some()))
        })
        .collect()
}

fn add_mounted(set: &mut NsSet, path: &Path, id: NsId, foreign: bool) {
    let i = match set.get(id) {
        Some(i) => i,
        // Only held here: ask the file what it is.
        None => match NsFile::open(path) {
            Ok(ns) if ns.id() == id => {
                set.entry(id, ns.kind());
                match set.get(id) {
                    Some(i) => i,
                    None => return,
                }
            }
            _ => return,
        },
    };
    let e = &mut set.entries[i];
    // A mount namespace copied from ours repeats our mounts. Our own table comes
    // first; another mount namespace's path is only added when there is none yet.
    if (!foreign || e.nsfs.is_empty()) && !e.nsfs.iter().any(|p| p == path) {
        e.nsfs.push(path.to_path_buf());
    }
}

fn add_fd_holders(set: &mut NsSet, holders: &[FdHolder]) {
    for h in holders {
        if set.get(h.id).is_none() {
            let path = PathBuf::from(format!("/proc/{}/fd/{}", h.pid, h.fd));
            match NsFile::open(&path) {
                Ok(ns) if ns.id() == h.id => {
                    set.entry(h.id, ns.kind());
                }
                _ => continue,
            }
        }
        if let Some(i) = set.get(h.id) {
            set.entries[i].fds.push((h.pid, h.fd));
        }
    }
}

/// Opens each namespace and asks for its parent and owner; with `ancestors`, adds
/// those not yet listed (a user namespace that only owns others, a PID namespace whose
/// processes all live in its children) and asks them in turn.
fn find_relations(set: &mut NsSet, ancestors: bool) {
    let mut queue: Vec<(usize, NsFile)> = Vec::new();
    for i in 0..set.entries.len() {
        if let Some(ns) = open_entry(&set.entries[i]) {
            queue.push((i, ns));
        }
    }
    while let Some((i, ns)) = queue.pop() {
        let related = [(true, ns.parent()), (false, ns.owner())];
        for (is_parent, found) in related {
            // A namespace that vanished meanwhile simply has no relations.
            let Ok(Some(other)) = found else {
                continue;
            };
            let id = other.id();
            if is_parent {
                set.entries[i].parent = Some(id);
            } else {
                set.entries[i].owner = Some(id);
            }
            if ancestors && set.get(id).is_none() {
                set.entry(id, other.kind());
                if let Some(j) = set.get(id) {
                    queue.push((j, other));
                }
            }
        }
    }
}

/// Opens an entry's namespace by any path that still leads to it.
fn open_entry(e: &Entry) -> Option<NsFile> {
    let mut paths = Vec::new();
    if let Some(pid) = e.pid {
        paths.push(PathBuf::from(format!(
            "/proc/{pid}/ns/{}",
            e.kind.proc_name()
        )));
    }
    paths.extend(e.nsfs.iter().cloned());
    paths.extend(
        e.fds
            .iter()
            .map(|(pid, fd)| PathBuf::from(format!("/proc/{pid}/fd/{fd}"))),
    );
    paths
        .iter()
        .filter_map(|p| NsFile::open(p).ok())
        .find(|ns| ns.id() == e.id)
}

/// Uid, PPID and command of each lowest PID (read once per PID), and user names.
fn add_details(set: &mut NsSet, opts: &ListOptions) {
    let mut procs: HashMap<i32, Option<Details>> = HashMap::new();
    let mut users: HashMap<u32, Option<String>> = HashMap::new();
    for e in &mut set.entries {
        let Some(pid) = e.pid else {
            continue;
        };
        let Some(info) = procs
            .entry(pid)
            .or_insert_with(|| read_details(pid, opts.details))
        else {
            continue;
        };
        e.uid = Some(info.uid);
        e.ppid = info.ppid;
        e.command.clone_from(&info.command);
        if opts.users {
            e.user = users
                .entry(info.uid)
                .or_insert_with(|| user_name(info.uid))
                .clone();
        }
    }
}

/// What is shown of a namespace's lowest PID.
struct Details {
    /// The owner of /proc/PID, as lsns shows it.
    uid: u32,
    ppid: Option<i32>,
    command: Option<String>,
}

fn read_details(pid: i32, stat_and_command: bool) -> Option<Details> {
    let uid = nix::sys::stat::stat(format!("/proc/{pid}").as_str())
        .ok()?
        .st_uid;
    let mut details = Details {
        uid,
        ppid: None,
        command: None,
    };
    if !stat_and_command {
        return Some(details);
    }
    // A process that exits meanwhile keeps its uid and loses the rest.
    let Ok(proc) = Process::open(pid) else {
        return Some(details);
    };
    let Some(stat) = proc
        .read(c"stat")
        .ok()
        .and_then(|s| procinfo::parse_stat(&s))
    else {
        return Some(details);
    };
    let cmdline = proc
        .read(c"cmdline")
        .map(|raw| procinfo::format_cmdline(&raw))
        .unwrap_or_default();
    details.ppid = Some(stat.ppid);
    // Kernel threads and zombies have no command line: show the name, as ps does.
    details.command = Some(if cmdline.is_empty() {
        stat.comm
    } else {
        cmdline
    });
    Some(details)
}

fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// Which tree node a namespace hangs under: a user namespace under its parent, a PID
/// namespace under its parent PID namespace, anything else (and an initial PID
/// namespace) under the user namespace that owns it.
pub fn tree_parent(e: &Entry) -> Option<NsId> {
    match e.kind {
        Kind::User => e.parent,
        Kind::Pid => e.parent.or(e.owner),
        _ => e.owner,
    }
}

/// Marks the entries of `kinds` and every tree ancestor of them.
fn keep_with_ancestors(entries: &[Entry], kinds: &[Kind]) -> Vec<bool> {
    let index: HashMap<NsId, usize> = entries.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let mut keep = vec![false; entries.len()];
    for (i, e) in entries.iter().enumerate() {
        if !kinds.contains(&e.kind) {
            continue;
        }
        let mut at = Some(i);
        let mut steps = 0;
        while let Some(j) = at {
            if keep[j] && j != i || steps > entries.len() {
                break;
            }
            keep[j] = true;
            steps += 1;
            at = tree_parent(&entries[j]).and_then(|p| index.get(&p).copied());
        }
    }
    keep
}
