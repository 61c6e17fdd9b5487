//! The v2 cpuset controller: where the lists are kept. A v2 cgroup's `cpuset.cpus` is
//! empty unless set (it uses what its parent has); what it has is in
//! `cpuset.cpus.effective`.

use crate::cgroup::cpuset::ListFile;

pub const CPUS: ListFile = ListFile {
    file: "cpuset.cpus",
    effective: "cpuset.cpus.effective",
    what: "CPU",
    list: "CPU list",
};

pub const MEMS: ListFile = ListFile {
    file: "cpuset.mems",
    effective: "cpuset.mems.effective",
    what: "memory node",
    list: "memory node list",
};

#[cfg(test)]
mod tests {
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::Resource;

    #[test]
    fn cpuset_within_parent() {
        // found on the cgroup2-only VM lane: the parent's cpuset.cpus is empty
        let parent = &[
            ("cpuset.cpus", "\n"),
            ("cpuset.mems", "\n"),
            ("cpuset.cpus.effective", "0-1\n"),
            ("cpuset.mems.effective", "0\n"),
        ];
        let cg = cgroup(&[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")], parent);
        assert_eq!(
            set(&cg, &limit(Resource::Cpuset, "max"), Version::V2, false).unwrap(),
            pairs(&[("cpuset.cpus", "0-1")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::Mems, "max"), Version::V2, false).unwrap(),
            pairs(&[("cpuset.mems", "0")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::Mems, "0"), Version::V2, false).unwrap(),
            pairs(&[("cpuset.mems", "0")])
        );
        let err = set(&cg, &limit(Resource::Cpuset, "0-7"), Version::V2, false).unwrap_err();
        assert!(err.to_string().contains("only has CPUs 0-1"), "{err}");
        // nothing known about the parent: max cannot be told
        let orphan = cgroup(&[("cpuset.cpus", "\n")], &[]);
        let err = set(&orphan, &limit(Resource::Cpuset, "max"), Version::V2, false).unwrap_err();
        assert!(err.to_string().contains("cpuset.cpus.effective"), "{err}");
    }
}
