//! `--all`'s namespaces as they are gathered: one [`Entry`] per namespace, kept by
//! identity in an `NsSet`. The listing fills them; [`crate::details`] and
//! [`crate::relations`] add to them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nsproc::{Kind, NsFile, NsId};

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
    pub(crate) fn new(id: NsId, kind: Kind) -> Entry {
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

    /// Every path that opens this namespace, best first: the lowest PID's link, its
    /// bind mounts, the descriptors that hold it.
    pub fn paths(&self) -> impl Iterator<Item = PathBuf> + '_ {
        let link = self
            .pid
            .map(|pid| PathBuf::from(format!("/proc/{pid}/ns/{}", self.kind.proc_name())));
        let fds = self
            .fds
            .iter()
            .map(|(pid, fd)| PathBuf::from(format!("/proc/{pid}/fd/{fd}")));
        link.into_iter().chain(self.nsfs.iter().cloned()).chain(fds)
    }

    /// A path that opens this namespace, if any.
    pub fn path(&self) -> Option<PathBuf> {
        self.paths().next()
    }
}

/// Namespaces by identity, in the order found.
#[derive(Default)]
pub(crate) struct NsSet {
    pub(crate) entries: Vec<Entry>,
    by_id: HashMap<NsId, usize>,
}

impl NsSet {
    pub(crate) fn entry(&mut self, id: NsId, kind: Kind) -> &mut Entry {
        let i = *self.by_id.entry(id).or_insert_with(|| {
            self.entries.push(Entry::new(id, kind));
            self.entries.len() - 1
        });
        &mut self.entries[i]
    }

    pub(crate) fn get(&self, id: NsId) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// The entry of `id`; one not listed yet is added when `path` (a bind mount or a
    /// descriptor, which alone holds it) still opens that namespace and says its type.
    pub(crate) fn get_or_open(&mut self, id: NsId, path: &Path) -> Option<usize> {
        if let Some(i) = self.get(id) {
            return Some(i);
        }
        let ns = NsFile::open(path).ok().filter(|ns| ns.id() == id)?;
        self.entry(id, ns.kind());
        self.get(id)
    }
}
