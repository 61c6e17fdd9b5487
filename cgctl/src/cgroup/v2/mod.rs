//! cgroup v2: enabling controllers along a path, and a write plan for each limit,
//! one module per controller.

pub mod cpu;
pub mod cpuset;
pub mod freezer;
pub mod io;
pub mod memory;
pub mod pids;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::cgroup::{CgroupDir, Write};
use crate::error::{Error, Result};
use crate::layout::Hierarchy;
use crate::resource::Limit;

/// The writes that set `limit` on the v2 cgroup `dir`, in order; `force` lets a
/// memory limit go below current usage.
pub fn plan(limit: &Limit, force: bool, dir: &CgroupDir) -> Result<Vec<Write>> {
    match limit {
        Limit::Mem(m) => memory::max(*m, force, dir),
        Limit::MemHigh(m) => Ok(memory::high(*m)),
        Limit::Swap(s) => memory::swap_max(*s, dir),
        Limit::Cpu(q) => Ok(cpu::max(q)),
        Limit::CpuWeight(x) => Ok(cpu::weight(*x)),
        Limit::Cpuset(l) => cpuset::CPUS.plan(l, dir),
        Limit::Mems(l) => cpuset::MEMS.plan(l, dir),
        Limit::Pids(c) => Ok(pids::max(*c)),
        Limit::IoWeight(x) => io::weight(*x, dir),
    }
}

/// The directories from the hierarchy root down to the parent of `path` (a hierarchy
/// path): where controllers must be enabled for `path` to have them.
pub fn ancestors(hier: &Hierarchy, path: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut cur = String::from("/");
    if let Some(d) = hier.dir_of(&cur) {
        out.push(d);
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        cur = crate::layout::join_cgroup(&cur, part);
        if let Some(d) = hier.dir_of(&cur) {
            out.push(d);
        }
    }
    out
}

/// Enables `controllers` in `cgroup.subtree_control` of every ancestor of `path`
/// (never in `path` itself), writing only where one is missing. `done` remembers
/// directories already handled in this call.
pub fn enable_controllers(
    hier: &Hierarchy,
    path: &str,
    controllers: &[String],
    done: &mut HashSet<PathBuf>,
) -> Result<()> {
    if controllers.is_empty() {
        return Ok(());
    }
    for dir in ancestors(hier, path) {
        if done.contains(&dir) {
            continue;
        }
        enable_in(&dir, controllers)?;
        done.insert(dir);
    }
    Ok(())
}

fn enable_in(dir: &Path, controllers: &[String]) -> Result<()> {
    let dir = CgroupDir::open(dir)?;
    let enabled = dir.read("cgroup.subtree_control")?;
    let missing: Vec<&String> = controllers
        .iter()
        .filter(|c| !enabled.split_whitespace().any(|e| e == c.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let available = dir.read("cgroup.controllers")?;
    if let Some(c) = missing
        .iter()
        .find(|c| !available.split_whitespace().any(|a| a == c.as_str()))
    {
        return Err(Error::Unsupported(format!(
            "the {c} controller is not available in {} (its cgroup.controllers is '{}'): it is bound to a v1 hierarchy, or not enabled in the parent",
            dir.path().display(),
            available.trim()
        )));
    }
    let value = missing
        .iter()
        .map(|c| format!("+{c}"))
        .collect::<Vec<_>>()
        .join(" ");
    match dir.write("cgroup.subtree_control", &value) {
        Err(e) if e.errno() == Some(Errno::EBUSY) => Err(Error::Refused(format!(
            "cannot enable {} in {}: it holds processes, and cgroup v2's \"no internal processes\" rule lets a cgroup with controllers enabled for its children hold none; move them into a child cgroup first (e.g. 'cgctl add {}/leaf PID...'), or use a --root that has no processes of its own",
            value,
            dir.path().display(),
            dir.path().display()
        ))),
        other => other,
    }
}
