//! `--all`: each namespace's parent and owner (`NS_GET_PARENT`, `NS_GET_USERNS`), the
//! ancestors `--tree` needs to be whole, and where each namespace hangs in that tree.

use std::collections::HashMap;

use nsproc::{Kind, NsFile, NsId};

use crate::entry::{Entry, NsSet};

/// Opens each namespace and asks for its parent and owner; with `ancestors`, adds
/// those not yet listed (a user namespace that only owns others, a PID namespace whose
/// processes all live in its children) and asks them in turn.
pub(crate) fn find_relations(set: &mut NsSet, ancestors: bool) {
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
    e.paths()
        .filter_map(|p| NsFile::open(&p).ok())
        .find(|ns| ns.id() == e.id)
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
pub(crate) fn keep_with_ancestors(entries: &[Entry], kinds: &[Kind]) -> Vec<bool> {
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
