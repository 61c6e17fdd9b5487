//! One target: a report per namespace type, with what lsns does not say (nested PIDs,
//! `*_for_children`, parent and owner, user namespace maps and depth). Reads only the
//! target's own /proc entries.

use nsproc::{procinfo, Kind, NsFile, NsId, Process};

use crate::error::Error;
use crate::target::{Resolved, Target};
use crate::userns::IdMap;

/// One namespace of the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsReport {
    pub kind: Kind,
    pub id: NsId,
    /// Parent namespace (PID and user namespaces).
    pub parent: Option<NsId>,
    /// The user namespace that owns it.
    pub owner: Option<NsId>,
    /// PID namespaces: the target's PID in each, outermost first.
    pub nspid: Option<Vec<i32>>,
    /// PID and time namespaces: where children will go, when that differs.
    pub for_children: Option<NsId>,
    /// PID and user namespaces: how many parents it has.
    pub depth: Option<u32>,
    /// User namespaces: the uid that created it.
    pub owner_uid: Option<u32>,
    /// User namespaces of a process: its uid and gid maps.
    pub uid_map: Option<IdMap>,
    pub gid_map: Option<IdMap>,
}

/// The namespaces of `kinds` of one target.
pub fn inspect(target: &Resolved, kinds: &[Kind]) -> Result<Vec<NsReport>, Error> {
    match &target.target {
        Target::File(ns) => {
            if !kinds.contains(&ns.kind()) {
                return Err(Error::Usage(format!(
                    "{} is a {} namespace, which -t does not select",
                    target.label,
                    ns.kind()
                )));
            }
            Ok(vec![report(ns)?])
        }
        Target::Process(proc) => {
            let mut reports = Vec::new();
            for &kind in kinds {
                let Some(ns) = proc.open_ns(kind)? else {
                    continue;
                };
                let mut r = report(&ns)?;
                add_process_facts(proc, &mut r)?;
                reports.push(r);
            }
            if reports.is_empty() && !kinds.is_empty() {
                return Err(Error::Zombie { pid: proc.pid() });
            }
            Ok(reports)
        }
    }
}

/// What the namespace file itself tells.
fn report(ns: &NsFile) -> Result<NsReport, Error> {
    let kind = ns.kind();
    let nested = matches!(kind, Kind::Pid | Kind::User);
    Ok(NsReport {
        kind,
        id: ns.id(),
        parent: ns.parent()?.map(|p| p.id()),
        owner: ns.owner()?.map(|o| o.id()),
        nspid: None,
        for_children: None,
        depth: if nested { Some(ns.depth()?) } else { None },
        owner_uid: ns.owner_uid()?,
        uid_map: None,
        gid_map: None,
    })
}

/// What only the process tells: NSpid, `*_for_children`, uid and gid maps.
fn add_process_facts(proc: &Process, r: &mut NsReport) -> Result<(), Error> {
    match r.kind {
        Kind::Pid => {
            let status = proc.read(c"status")?;
            r.nspid = procinfo::parse_nspid(&String::from_utf8_lossy(&status));
            r.for_children = differs(r.id, proc.ns_id_at(c"ns/pid_for_children"));
        }
        Kind::Time => {
            r.for_children = differs(r.id, proc.ns_id_at(c"ns/time_for_children"));
        }
        Kind::User => {
            r.uid_map = Some(read_map(proc, c"uid_map")?);
            r.gid_map = Some(read_map(proc, c"gid_map")?);
        }
        _ => {}
    }
    Ok(())
}

/// The `*_for_children` namespace when it is not the process's own. Before the first
/// child of an unshare(CLONE_NEWPID) the link cannot be read; that is not an error.
fn differs(own: NsId, children: nsproc::Result<Option<NsId>>) -> Option<NsId> {
    match children {
        Ok(Some(id)) if id != own => Some(id),
        _ => None,
    }
}

fn read_map(proc: &Process, name: &std::ffi::CStr) -> Result<IdMap, Error> {
    let text = proc.read(name)?;
    IdMap::parse(&String::from_utf8_lossy(&text)).map_err(|why| {
        Error::Process(nsproc::Error::Parse {
            path: format!("/proc/{}/{}", proc.pid(), name.to_string_lossy()).into(),
            why: why.to_string(),
        })
    })
}
