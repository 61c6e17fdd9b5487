//! cgroup v1 specifics: cpuset inheritance and the freezer states.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cgfs;
use crate::error::Result;

/// Fills an empty `cpuset.cpus` / `cpuset.mems` of the new cpuset cgroup `dir` from its
/// parent's (v1 starts children with none, so no process could join). `cache` keeps
/// the parents' values read in this call.
pub fn inherit_cpuset(dir: &Path, cache: &mut HashMap<PathBuf, (String, String)>) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    let (cpus, mems) = match cache.get(parent) {
        Some(v) => v.clone(),
        None => {
            let v = (
                cgfs::read(&parent.join("cpuset.cpus"))?.trim().to_string(),
                cgfs::read(&parent.join("cpuset.mems"))?.trim().to_string(),
            );
            cache.insert(parent.to_path_buf(), v.clone());
            v
        }
    };
    for (file, value) in [("cpuset.cpus", &cpus), ("cpuset.mems", &mems)] {
        if !value.is_empty() {
            cgfs::write_unchecked(&dir.join(file), value)?;
        }
    }
    // The next child of this new cgroup inherits the same values.
    cache.insert(dir.to_path_buf(), (cpus, mems));
    Ok(())
}
