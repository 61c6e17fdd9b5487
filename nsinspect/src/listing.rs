//! `--all`: every namespace on the host, from the process scan, the nsfs bind mounts of
//! every mount namespace, and (with `--fds`) open descriptors; then the few facts that
//! need one process ([`details`]) or one namespace file ([`relations`]) each.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nsproc::{mountinfo, Kind, NsId};

pub use crate::entry::Entry;
use crate::entry::NsSet;
use crate::error::Error;
use crate::fdscan::{self, FdHolder};
use crate::parallel;
use crate::procread::{self, Render};
use crate::procscan::{parse_ns_link, ProcRoot, Scan};
use crate::{details, relations};

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
    find_mounted(&root, &mut set);
    if opts.fds {
        if let Some(dev) = fdscan::nsfs_dev() {
            add_fd_holders(&mut set, &fdscan::scan(&root, &scan.pids, dev));
        }
    }
    if opts.relations || opts.ancestors {
        relations::find_relations(&mut set, opts.ancestors);
    }
    if opts.details || opts.uids || opts.users {
        details::add_details(&root, &mut set.entries, opts.details, opts.users);
    }
    let mut entries = set.entries;
    entries.sort_by_key(|e| (e.id.ino, e.id.dev));
    let keep: Vec<bool> = if opts.ancestors {
        relations::keep_with_ancestors(&entries, &opts.kinds)
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
            if let Some(id) = p.ns[kind.index()] {
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
/// /proc/self/mountinfo, every other one through the mountinfo of its lowest PID, each
/// table read once. Reading a mount table is costly (the kernel renders every mount),
/// so they are read in parallel. A table names what each nsfs mount holds
/// (`net:[4026532]` on nsfs's device), so a mount of a namespace already listed costs
/// nothing more, unless its path is added, which is then checked to reach it.
fn find_mounted(root: &ProcRoot, set: &mut NsSet) {
    let own = NsId::of_path(Path::new("/proc/self/ns/mnt")).ok();
    let mut tables: Vec<Option<i32>> = vec![None];
    tables.extend(
        set.entries
            .iter()
            .filter(|e| e.kind == Kind::Mount && Some(e.id) != own)
            .filter_map(|e| e.pid.map(Some)),
    );
    let found = parallel::chunked(&tables, 32, |part| {
        part.iter()
            .flat_map(|&pid| mounted_in(root, pid))
            .collect::<Vec<_>>()
    });
    for (path, id, foreign) in found.into_iter().flatten() {
        add_mounted(set, &path, id, foreign);
    }
}

/// The namespace files bind-mounted in the mount namespace of `pid` (ours for
/// `None`), as paths that reach them from here, what the table says they hold, and
/// whether that is another mount namespace.
fn mounted_in(root: &ProcRoot, pid: Option<i32>) -> Vec<(PathBuf, NsId, bool)> {
    let (table, prefix) = match pid {
        None => (c"self/mountinfo".to_owned(), None),
        Some(pid) => (
            procread::pid_path(pid, "mountinfo"),
            Some(PathBuf::from(format!("/proc/{pid}/root"))),
        ),
    };
    let Ok(text) = procread::read_at(root.fd(), &table, Render::Paged, false) else {
        return Vec::new();
    };
    mountinfo::nsfs_mounts(&text.bytes)
        .filter_map(|m| {
            let id = nsfs_mount_id(&m)?;
            let path = match &prefix {
                None => m.mount_point,
                Some(p) => p.join(m.mount_point.strip_prefix("/").unwrap_or(&m.mount_point)),
            };
            Some((path, id, pid.is_some()))
        })
        .collect()
}

/// The namespace an nsfs mount holds: its root (`net:[4026532]`) on its device.
fn nsfs_mount_id(m: &mountinfo::Mount) -> Option<NsId> {
    let ino = parse_ns_link(m.root.as_os_str().as_bytes())?;
    Some(NsId {
        dev: libc::makedev(m.major, m.minor),
        ino,
    })
}

fn add_mounted(set: &mut NsSet, path: &Path, id: NsId, foreign: bool) {
    // A mount namespace copied from ours repeats our mounts. Our own table comes
    // first; another mount namespace's path is only added when there is none yet.
    if let Some(i) = set.get(id) {
        let e = &set.entries[i];
        if (foreign && !e.nsfs.is_empty()) || e.nsfs.iter().any(|p| p == path) {
            return;
        }
        // Shown as a path to it: it must reach it (not covered by another mount).
        if NsId::of_path(path).ok() != Some(id) {
            return;
        }
    }
    // Not listed yet: added when the path opens a namespace of that identity.
    let Some(i) = set.get_or_open(id, path) else {
        return;
    };
    set.entries[i].nsfs.push(path.to_path_buf());
}

fn add_fd_holders(set: &mut NsSet, holders: &[FdHolder]) {
    for h in holders {
        let path = PathBuf::from(format!("/proc/{}/fd/{}", h.pid, h.fd));
        if let Some(i) = set.get_or_open(h.id, &path) {
            set.entries[i].fds.push((h.pid, h.fd));
        }
    }
}
