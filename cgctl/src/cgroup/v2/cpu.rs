//! The v2 cpu controller: `cpu.max` and `cpu.weight`.

use crate::cgroup::weight_or;
use crate::cgroup::write::{w, Write};
use crate::value::{CpuQuota, OrMax};

/// `cpu.max`: quota (or max) and period in one write.
pub fn max(q: &CpuQuota) -> Vec<Write> {
    vec![w("cpu.max", format!("{} {}", q.quota_us, q.period_us))]
}

/// `cpu.weight`; `Max` restores the default, 100.
pub fn weight(x: OrMax<u64>) -> Vec<Write> {
    vec![w("cpu.weight", weight_or(x, 100).to_string())]
}

#[cfg(test)]
mod tests {
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::{Limit, Resource};
    use crate::value::parse_cpus;

    #[test]
    fn quota_period_and_weight() {
        let cg = cgroup(&[("cpu.max", "max 100000\n"), ("cpu.weight", "100\n")], &[]);
        assert_eq!(
            set(&cg, &limit(Resource::Cpu, "0.5"), Version::V2, false).unwrap(),
            pairs(&[("cpu.max", "50000 100000")])
        );
        let q = Limit::Cpu(parse_cpus("1.5", 20_000).unwrap());
        assert_eq!(
            set(&cg, &q, Version::V2, false).unwrap(),
            pairs(&[("cpu.max", "30000 20000")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::Cpu, "max"), Version::V2, false).unwrap(),
            pairs(&[("cpu.max", "max 100000")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::CpuWeight, "100"), Version::V2, false).unwrap(),
            pairs(&[("cpu.weight", "100")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::CpuWeight, "max"), Version::V2, false).unwrap(),
            pairs(&[("cpu.weight", "100")])
        );
    }
}
