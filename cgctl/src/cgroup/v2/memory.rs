//! The v2 memory controller: `memory.max`, `memory.high`, `memory.swap.max`.

use crate::cgroup::write::{w, Write};
use crate::cgroup::{unsupported, CgroupDir};
use crate::error::{Error, Result};
use crate::resource::Resource;
use crate::value::{self, OrMax};

/// `memory.max`. Below `memory.current` the kernel would OOM-kill to get there, so
/// that is refused unless `force`.
pub fn max(m: OrMax<u64>, force: bool, dir: &CgroupDir) -> Result<Vec<Write>> {
    if let (OrMax::Value(m), Some(cur)) = (m, dir.read_opt("memory.current")) {
        let cur: u64 = cur.trim().parse().unwrap_or(0);
        if cur > m && !force {
            return Err(Error::Refused(format!(
                "memory.current is {} ({cur} bytes), above the new limit of {} ({m} bytes): cgroup v2 would OOM-kill processes to get there; use --force to do it anyway",
                value::human(cur),
                value::human(m)
            )));
        }
    }
    Ok(vec![w("memory.max", m.to_string())])
}

/// `memory.high`.
pub fn high(m: OrMax<u64>) -> Vec<Write> {
    vec![w("memory.high", m.to_string())]
}

/// `memory.swap.max`, which needs swap accounting.
pub fn swap_max(s: OrMax<u64>, dir: &CgroupDir) -> Result<Vec<Write>> {
    if !dir.has("memory.swap.max") {
        return Err(unsupported(
            Resource::Swap,
            "memory.swap.max",
            "the kernel has no swap accounting: CONFIG_MEMCG_SWAP, or swapaccount=0",
        ));
    }
    Ok(vec![w("memory.swap.max", s.to_string())])
}

#[cfg(test)]
mod tests {
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::Resource;

    const FILES: &[(&str, &str)] = &[
        ("memory.current", "1000\n"),
        ("memory.max", "max\n"),
        ("memory.high", "max\n"),
    ];

    #[test]
    fn max_and_high() {
        let cg = cgroup(FILES, &[]);
        assert_eq!(
            set(&cg, &limit(Resource::Mem, "100M"), Version::V2, false).unwrap(),
            pairs(&[("memory.max", "104857600")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::Mem, "infinity"), Version::V2, false).unwrap(),
            pairs(&[("memory.max", "max")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::MemHigh, "1G"), Version::V2, false).unwrap(),
            pairs(&[("memory.high", "1073741824")])
        );
    }

    #[test]
    fn refuses_limit_below_usage_unless_forced() {
        let cg = cgroup(
            &[("memory.current", "209715200\n"), ("memory.max", "max\n")],
            &[],
        );
        let l = limit(Resource::Mem, "100M");
        let err = set(&cg, &l, Version::V2, false).unwrap_err();
        assert!(err.to_string().contains("200 MiB"), "{err}");
        assert_eq!(cg.file("memory.max"), "max", "nothing written");
        assert!(set(&cg, &l, Version::V2, true).is_ok());
        assert_eq!(cg.file("memory.max"), "104857600");
    }

    #[test]
    fn swap_needs_accounting() {
        let none = cgroup(FILES, &[]);
        let err = set(&none, &limit(Resource::Swap, "1M"), Version::V2, false).unwrap_err();
        assert!(err.to_string().contains("swap accounting"), "{err}");
        let cg = cgroup(&[("memory.swap.max", "max\n")], &[]);
        assert_eq!(
            set(&cg, &limit(Resource::Swap, "0"), Version::V2, false).unwrap(),
            pairs(&[("memory.swap.max", "0")])
        );
    }
}
