//! The v1 cpuset controller: where the lists are kept, and new cgroups given their
//! parent's (v1 starts them with none).

use std::collections::HashMap;
use std::path::PathBuf;

use crate::cgroup::cpuset::ListFile;
use crate::cgroup::CgroupDir;
use crate::error::Result;

pub const CPUS: ListFile = ListFile {
    file: "cpuset.cpus",
    effective: "cpuset.effective_cpus",
    what: "CPU",
    list: "CPU list",
};

pub const MEMS: ListFile = ListFile {
    file: "cpuset.mems",
    effective: "cpuset.effective_mems",
    what: "memory node",
    list: "memory node list",
};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::Resource;

    const PARENT: &[(&str, &str)] = &[
        ("cpuset.cpus", "0-1\n"),
        ("cpuset.mems", "0\n"),
        ("cpuset.effective_cpus", "0-1\n"),
        ("cpuset.effective_mems", "0\n"),
    ];

    #[test]
    fn cpuset_within_parent() {
        let cg = cgroup(&[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")], PARENT);
        assert_eq!(
            set(&cg, &limit(Resource::Cpuset, "1,0"), Version::V1, false).unwrap(),
            pairs(&[("cpuset.cpus", "0-1")])
        );
        let err = set(&cg, &limit(Resource::Cpuset, "0-7"), Version::V1, false).unwrap_err();
        assert!(err.to_string().contains("only has CPUs 0-1"), "{err}");
        assert_eq!(
            set(&cg, &limit(Resource::Mems, "max"), Version::V1, false).unwrap(),
            pairs(&[("cpuset.mems", "0")])
        );
    }

    #[test]
    fn new_cgroups_get_the_parents_lists() {
        let cg = cgroup(&[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")], PARENT);
        let mut cache = HashMap::new();
        inherit_cpuset(&cg.dir, &mut cache).unwrap();
        assert_eq!(cg.file("cpuset.cpus"), "0-1");
        assert_eq!(cg.file("cpuset.mems"), "0");
        // the next child of the new cgroup inherits the same, without reading again
        assert_eq!(
            cache.get(&cg.path),
            Some(&("0-1".to_string(), "0".to_string()))
        );
    }
}
