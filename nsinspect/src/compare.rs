//! Two or more targets: for each type, whether they all share one namespace. Reads only
//! the targets' own namespace links (one stat each).

use crate::error::Error;
use nsproc::{Kind, NsId};

use crate::target::{Resolved, Target};

/// One type, compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub kind: Kind,
    /// Each target's namespace of this type, in target order; `None` where it has none.
    pub ids: Vec<Option<NsId>>,
    pub shared: bool,
}

/// The types to compare: those `-t` names (each target must have them), or else every
/// type all targets have (a namespace file has one).
pub fn select_kinds(targets: &[Resolved], asked: Option<&[Kind]>) -> Result<Vec<Kind>, Error> {
    match asked {
        Some(kinds) => {
            for t in targets {
                if let Target::File(ns) = &t.target {
                    if let Some(k) = kinds.iter().find(|k| **k != ns.kind()) {
                        return Err(Error::Usage(format!(
                            "{} is a {} namespace: it has no {k} namespace to compare",
                            t.label,
                            ns.kind()
                        )));
                    }
                }
            }
            Ok(kinds.to_vec())
        }
        None => {
            let common: Vec<Kind> = Kind::ALL
                .into_iter()
                .filter(|k| targets.iter().all(|t| t.kinds().contains(k)))
                .collect();
            if common.is_empty() {
                let what: Vec<String> = targets
                    .iter()
                    .filter_map(|t| match &t.target {
                        Target::File(ns) => Some(format!("{} is {}", t.label, ns.kind())),
                        Target::Process(_) => None,
                    })
                    .collect();
                return Err(Error::Usage(format!(
                    "the targets have no namespace type in common ({})",
                    what.join(", ")
                )));
            }
            Ok(common)
        }
    }
}

/// Compares the targets type by type. Types this kernel does not have (no link in
/// our own /proc/self/ns) are left out; a process that lacks a type the kernel has is a
/// zombie, and an error: "not shared" would be a guess, and so would "shared".
pub fn compare(targets: &[Resolved], kinds: &[Kind]) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    for &kind in kinds {
        let mut ids = Vec::with_capacity(targets.len());
        for t in targets {
            ids.push(match &t.target {
                Target::Process(p) => match p.ns_id(kind)? {
                    None if kernel_has(kind) => return Err(Error::Zombie { pid: p.pid() }),
                    id => id,
                },
                Target::File(ns) => (ns.kind() == kind).then(|| ns.id()),
            });
        }
        if ids.iter().all(Option::is_none) {
            continue;
        }
        rows.push(Row {
            kind,
            shared: is_shared(&ids),
            ids,
        });
    }
    Ok(rows)
}

/// Whether this kernel has namespaces of `kind`: nsinspect's own link is there.
fn kernel_has(kind: Kind) -> bool {
    std::fs::symlink_metadata(nsproc::Target::SelfProcess.ns_path(kind)).is_ok()
}

/// Whether every target has the namespace, and it is the same one.
pub fn is_shared(ids: &[Option<NsId>]) -> bool {
    match ids.first() {
        Some(Some(first)) => ids.iter().all(|id| *id == Some(*first)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ino: u64) -> Option<NsId> {
        Some(NsId { dev: 4, ino })
    }

    #[test]
    fn shared_only_when_all_equal_and_present() {
        assert!(is_shared(&[id(1), id(1), id(1)]));
        assert!(!is_shared(&[id(1), id(2)]));
        assert!(!is_shared(&[id(1), None]));
        assert!(!is_shared(&[None, None]));
        assert!(!is_shared(&[]));
        // Same inode on another device is another namespace.
        assert!(!is_shared(&[id(1), Some(NsId { dev: 5, ino: 1 })]));
    }
}
