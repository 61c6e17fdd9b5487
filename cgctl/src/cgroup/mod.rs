//! The cgroup layer: an open cgroup directory ([`CgroupDir`]), the retry rule, and
//! what is particular to each cgroup version, one module per version and controller.
//! A limit becomes a write plan (which files get which values, in which order) by the
//! version's controller module, and [`write::apply_plan`] carries it out.

pub mod cpuset;
pub mod dir;
pub mod freezer;
pub mod retry;
#[cfg(test)]
pub mod testdir;
pub mod v1;
pub mod v2;
pub mod write;

pub use dir::CgroupDir;
pub use write::Write;

use crate::error::{Error, Result};
use crate::layout::Version;
use crate::resource::{Limit, Resource};
use crate::value::{self, OrMax};

/// The writes that set `limit` on the cgroup `dir` of `version`, in order. Reads the
/// cgroup's (and its parent's) files to decide; writes nothing. `force` lets v2 set a
/// memory limit below current usage.
pub fn plan(limit: &Limit, version: Version, force: bool, dir: &CgroupDir) -> Result<Vec<Write>> {
    match version {
        Version::V1 => v1::plan(limit, dir),
        Version::V2 => v2::plan(limit, force, dir),
    }
}

/// A limit file this cgroup does not have, and why.
pub(crate) fn unsupported(res: Resource, file: &str, why: &str) -> Error {
    Error::Unsupported(format!(
        "cannot set {res}: this cgroup has no {file} ({why})"
    ))
}

/// A kernel limit read from `file`, None if missing or unreadable.
pub(crate) fn kernel_limit(dir: &CgroupDir, file: &str) -> Option<OrMax<u64>> {
    value::parse_kernel_limit(&dir.read_opt(file)?)
}

/// The weight, or `default` for "no limit".
pub(crate) fn weight_or(x: OrMax<u64>, default: u64) -> u64 {
    match x {
        OrMax::Max => default,
        OrMax::Value(v) => v,
    }
}
