//! The commands, as library calls: each takes parsed arguments, does the work and
//! returns what the binary prints.

use std::path::PathBuf;
use std::rc::Rc;

use crate::apply::{self, Applied};
use crate::cgpath::{Location, Name};
use crate::cgroup::CgroupDir;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::held::Held;
use crate::layout::Version;
use crate::resource::Limit;
use crate::show::Report;
use crate::undo::Undo;
use crate::{procs, remove, show, tree};

/// `cgctl create`.
#[derive(Debug)]
pub struct CreateRequest {
    pub cgroups: Vec<String>,
    /// `-c`: the hierarchies of these controllers (default: all with controllers).
    pub controllers: Vec<String>,
}

/// `cgctl create`: all names, all or nothing. Returns the directories made, and what
/// removes them again unless kept.
pub fn create<'a>(ctx: &'a Ctx, req: &CreateRequest) -> Result<(Vec<PathBuf>, Undo<'a>)> {
    let controllers = &req.controllers;
    let names = req
        .cgroups
        .iter()
        .map(|n| Name::parse(n))
        .collect::<Result<Vec<_>>>()?;
    let resolver = ctx.resolver();
    let mut targets = Vec::with_capacity(names.len());
    for n in &names {
        if let Name::Relative(r) = n {
            if r.is_empty() {
                return Err(Error::name("", "empty name"));
            }
        }
        targets.push(resolver.resolve(n, &ctx.hierarchies_for(n, controllers)?)?);
    }
    let mut undo = Undo::new(ctx);
    crate::create::create_all(ctx, &targets, controllers, &mut undo)?;
    Ok((undo.made().to_vec(), undo))
}

/// Whether a limit TARGET is a PID (digits only) rather than a cgroup.
pub enum Target {
    Pid(i32),
    Cgroup(Name),
}

impl Target {
    pub fn parse(s: &str) -> Result<Target> {
        if procs::looks_like_pid(s) {
            Ok(Target::Pid(procs::parse_pid(s)?))
        } else {
            Ok(Target::Cgroup(Name::parse(s)?))
        }
    }
}

/// `cgctl limit`.
#[derive(Debug)]
pub struct LimitRequest {
    pub limit: Limit,
    /// VALUE as given, for the report.
    pub value: String,
    pub targets: Vec<String>,
    /// For PIDs: the cgroup to put them in (default `cgctl/PID`).
    pub cgroup: Option<String>,
    pub force: bool,
}

/// `cgctl limit`: for a PID, create its cgroup, set the limit, move the process in;
/// for a cgroup, set the limit. Every value, name and PID is checked before anything
/// is written; if a later step fails, or the [`Undo`] returned is dropped unkept, the
/// processes moved go back where they were, the limits get their old values back and
/// the cgroups made for them are removed again.
pub fn limit<'a>(ctx: &'a Ctx, req: &LimitRequest) -> Result<(Vec<Applied>, Undo<'a>)> {
    let res = req.limit.resource();
    let targets = req
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>>>()?;
    let explicit = req.cgroup.as_deref().map(Name::parse).transpose()?;
    let h = ctx.resource_hierarchy(res)?;
    let version = ctx.layout.hierarchies[h].version;
    let resolver = ctx.resolver();
    // Look everything up first: a missing PID or cgroup changes nothing.
    let mut plans = Vec::with_capacity(targets.len());
    for t in &targets {
        plans.push(match t {
            Target::Pid(pid) => {
                let held = Held::open(*pid, false)?;
                held.refuse_protected(req.force)?;
                let from = ctx.dir_in(&held.cgroups()?, h);
                let name = explicit
                    .clone()
                    .unwrap_or_else(|| Name::Relative(format!("cgctl/{pid}")));
                (Some((Rc::new(held), from)), resolver.resolve(&name, &[h])?)
            }
            Target::Cgroup(name) => (None, ctx.existing(name, &[h])?),
        });
    }
    let v2c = if version == Version::V2 {
        vec![res.controller(version).to_string()]
    } else {
        Vec::new()
    };
    let mut undo = Undo::new(ctx);
    let mut out = Vec::new();
    let mut applied_to = std::collections::HashSet::new();
    for (pid, locs) in &plans {
        for loc in locs {
            if let Some((held, _)) = pid {
                // Nothing is created for a process that has exited since.
                held.ensure_same()?;
                undo.creator().create(loc, &v2c)?;
            }
            // A cgroup shared by several PIDs gets the limit once.
            if applied_to.insert(loc.dir.clone()) {
                let (applied, restore) = apply::apply(ctx, loc, &req.limit, &req.value, req.force)?;
                undo.restore(restore);
                out.push(applied);
            }
            if let Some((held, from)) = pid {
                let dir = CgroupDir::open(&loc.dir)?;
                undo.moves().attach(&dir, from.as_deref(), version, held)?;
            }
        }
    }
    Ok((out, undo))
}

/// `cgctl add`.
#[derive(Debug)]
pub struct AddRequest {
    pub cgroup: String,
    pub pids: Vec<i32>,
    /// Move single threads instead of processes.
    pub threads: bool,
    pub controllers: Vec<String>,
    /// Also move PID 1, kernel threads and cgctl's own ancestors.
    pub force: bool,
}

/// `cgctl add`: moves processes (or threads) into a cgroup, in every hierarchy it
/// exists in; all or nothing (a process that cannot be moved puts the ones moved
/// before it back, and so does the [`Undo`] returned if dropped unkept). Returns the
/// cgroup directories.
pub fn add<'a>(ctx: &'a Ctx, req: &AddRequest) -> Result<(Vec<PathBuf>, Undo<'a>)> {
    let name = Name::parse(&req.cgroup)?;
    let hiers = ctx.hierarchies_for(&name, &req.controllers)?;
    let locs = ctx.existing(&name, &hiers)?;
    let dirs = locs
        .iter()
        .map(|l| CgroupDir::open(&l.dir))
        .collect::<Result<Vec<_>>>()?;
    // Every PID must exist (and may be moved) before any is moved; each is held from
    // here to its last write.
    let mut origins = Vec::with_capacity(req.pids.len());
    for &pid in &req.pids {
        let held = Held::open(pid, req.threads)?;
        held.refuse_protected(req.force)?;
        let memberships = held.cgroups()?;
        origins.push((Rc::new(held), memberships));
    }
    let mut undo = Undo::new(ctx);
    for (held, memberships) in &origins {
        for (loc, dir) in locs.iter().zip(&dirs) {
            let from = ctx.dir_in(memberships, loc.hierarchy);
            undo.moves()
                .attach(dir, from.as_deref(), ctx.version(loc), held)?;
        }
    }
    Ok((locs.into_iter().map(|l| l.dir).collect(), undo))
}

/// The locations of a TARGET for `show`: a PID's cgroups, or a cgroup's.
pub fn target_locations(ctx: &Ctx, target: &str) -> Result<Vec<Location>> {
    match Target::parse(target)? {
        Target::Pid(pid) => pid_locations(ctx, pid),
        Target::Cgroup(name) => {
            let hiers = ctx.hierarchies_for(&name, &[])?;
            ctx.existing(&name, &hiers)
        }
    }
}

/// A process's cgroup in every hierarchy that is mounted here.
pub fn pid_locations(ctx: &Ctx, pid: i32) -> Result<Vec<Location>> {
    let mut out = Vec::new();
    for m in nsproc::Process::open(pid)?.cgroups()? {
        let Some(h) = ctx.layout.find(&m) else {
            continue;
        };
        let Some(dir) = ctx.layout.hierarchies[h].dir_of(&m.path) else {
            continue;
        };
        out.push(Location {
            hierarchy: h,
            path: m.path.clone(),
            dir,
            base: m.path,
        });
    }
    Ok(out)
}

/// `cgctl show`.
pub fn show(ctx: &Ctx, target: &str) -> Result<Report> {
    let locs = target_locations(ctx, target)?;
    let for_pid = matches!(Target::parse(target)?, Target::Pid(_));
    Ok(show::gather(&ctx.layout, &locs, for_pid))
}

/// The locations `ls`/`tree`/`rm`/`freeze` work on: a cgroup (default: the root) in
/// the hierarchies asked for.
pub fn locations(ctx: &Ctx, name: Option<&str>, controllers: &[String]) -> Result<Vec<Location>> {
    let name = match name {
        Some(n) => Name::parse(n)?,
        None => Name::Relative(String::new()),
    };
    let hiers = ctx.hierarchies_for(&name, controllers)?;
    ctx.existing(&name, &hiers)
}

/// `cgctl ls` and `cgctl tree`.
#[derive(Debug)]
pub struct ListRequest {
    /// Default: the root.
    pub cgroup: Option<String>,
    pub controllers: Vec<String>,
}

/// `cgctl ls`.
pub fn ls(ctx: &Ctx, req: &ListRequest) -> Result<Vec<tree::Entry>> {
    let mut out = Vec::new();
    for loc in locations(ctx, req.cgroup.as_deref(), &req.controllers)? {
        let label = ctx.layout.hierarchies[loc.hierarchy].label();
        out.extend(tree::list(&label, &loc.path, &loc.dir)?);
    }
    Ok(out)
}

/// `cgctl tree`.
#[derive(Debug)]
pub struct TreeRequest {
    pub list: ListRequest,
    pub options: tree::TreeOptions,
    /// Whole command lines, not cut to the width.
    pub full: bool,
}

/// `cgctl tree`.
pub fn tree(ctx: &Ctx, req: &TreeRequest) -> Result<Vec<tree::Node>> {
    let mut out = Vec::new();
    for loc in locations(ctx, req.list.cgroup.as_deref(), &req.list.controllers)? {
        let label = ctx.layout.hierarchies[loc.hierarchy].label();
        out.push(tree::tree(&label, &loc.path, &loc.dir, req.options)?);
    }
    Ok(out)
}

/// `cgctl rm`.
#[derive(Debug)]
pub struct RmRequest {
    pub cgroups: Vec<String>,
    /// Also remove the cgroups below.
    pub recursive: bool,
    /// Kill the processes inside first.
    pub kill: bool,
    pub controllers: Vec<String>,
}

/// `cgctl rm`: all names are checked before any is removed. Returns the directories
/// of the cgroups named (those below them went too).
pub fn rm(ctx: &Ctx, req: &RmRequest) -> Result<Vec<PathBuf>> {
    let mut locs = Vec::new();
    for n in &req.cgroups {
        locs.extend(locations(ctx, Some(n), &req.controllers)?);
    }
    remove::remove(&locs, req.recursive, req.kill)?;
    Ok(locs.into_iter().map(|l| l.dir).collect())
}

/// `cgctl freeze` / `thaw`: the v1 freezer hierarchy if there is one, else v2.
pub fn freeze(ctx: &Ctx, name: &str, frozen: bool) -> Result<Vec<PathBuf>> {
    let name = Name::parse(name)?;
    let h = ctx
        .layout
        .hierarchies
        .iter()
        .position(|h| h.version == Version::V1 && h.has("freezer"))
        .or_else(|| ctx.layout.v2())
        .ok_or_else(|| {
            Error::Unsupported(
                "no freezer: neither a v1 freezer hierarchy nor cgroup2 is mounted".to_string(),
            )
        })?;
    let hiers = match name {
        Name::Absolute(_) => Vec::new(),
        Name::Relative(_) => vec![h],
    };
    let locs = ctx.existing(&name, &hiers)?;
    for loc in &locs {
        let hier = &ctx.layout.hierarchies[loc.hierarchy];
        if hier.version == Version::V1 && !hier.has("freezer") {
            return Err(Error::name(
                loc.dir.display().to_string(),
                format!(
                    "it is in the {} hierarchy, which has no freezer",
                    hier.label()
                ),
            ));
        }
        if frozen {
            // Freezing the cgroup cgctl is in would stop cgctl itself, for good.
            refuse_self(&loc.dir, "freeze")?;
        }
    }
    for loc in &locs {
        crate::cgroup::freezer::set(&loc.dir, ctx.version(loc), frozen)?;
    }
    Ok(locs.into_iter().map(|l| l.dir).collect())
}

/// Refuses to `what` the cgroup `dir` when cgctl itself is in it or below it.
pub fn refuse_self(dir: &std::path::Path, what: &str) -> Result<()> {
    let me = std::process::id() as i32;
    for d in crate::cgfs::walk(dir)? {
        if procs::pids_if_there(&d)?.contains(&me) {
            return Err(Error::Refused(format!(
                "will not {what} {}: cgctl itself (PID {me}) is in {}",
                dir.display(),
                d.display()
            )));
        }
    }
    Ok(())
}

/// One line of `cgctl which`.
#[derive(Debug, serde::Serialize)]
pub struct Which {
    pub hierarchy: String,
    pub path: String,
    pub dir: Option<PathBuf>,
}

/// `cgctl which PID`.
pub fn which(ctx: &Ctx, pid: i32) -> Result<Vec<Which>> {
    let mut out = Vec::new();
    for m in nsproc::Process::open(pid)?.cgroups()? {
        let h = ctx.layout.find(&m);
        out.push(Which {
            hierarchy: match h {
                Some(h) => ctx.layout.hierarchies[h].label(),
                None if m.is_v2() => "unified".to_string(),
                None => m.controllers.join(","),
            },
            dir: h.and_then(|h| ctx.layout.hierarchies[h].dir_of(&m.path)),
            path: m.path,
        });
    }
    Ok(out)
}
