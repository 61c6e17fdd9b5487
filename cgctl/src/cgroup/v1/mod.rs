//! cgroup v1: one module per controller.

pub mod freezer;

use std::collections::HashMap;
use std::path::PathBuf;

use crate::cgroup::CgroupDir;
use crate::error::Result;

/// Fills an empty `cpuset.cpus` / `cpuset.mems` of the new cpuset cgroup `dir` from its
/// parent's (v1 starts children with none, so no process could join). `cache` keeps
/// the parents' values read in this call.
pub fn inherit_cpuset(
    dir: &CgroupDir,
    cache: &mut HashMap<PathBuf, (String, String)>,
) -> Result<()> {
    let Some(parent) = dir.path().parent() else {
        return Ok(());
    };
    let (cpus, mems) = match cache.get(parent) {
        Some(v) => v.clone(),
        None => {
            let Some(p) = dir.parent()? else {
                return Ok(());
            };
            let v = (
                p.read("cpuset.cpus")?.trim().to_string(),
                p.read("cpuset.mems")?.trim().to_string(),
            );
            cache.insert(parent.to_path_buf(), v.clone());
            v
        }
    };
    for (file, value) in [("cpuset.cpus", &cpus), ("cpuset.mems", &mems)] {
        if !value.is_empty() {
            dir.write(file, value)?;
        }
    }
    // The next child of this new cgroup inherits the same values.
    cache.insert(dir.path().to_path_buf(), (cpus, mems));
    Ok(())
}
