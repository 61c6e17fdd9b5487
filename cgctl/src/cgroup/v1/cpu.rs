//! The v1 cpu controller: CFS quota and period, and shares.

use crate::cgroup::v1::bytes;
use crate::cgroup::write::{w, Write};
use crate::resource::weight_to_shares;
use crate::value::{CpuQuota, OrMax};

/// The period first, then the quota (-1 for none).
pub fn quota(q: &CpuQuota) -> Vec<Write> {
    vec![
        w("cpu.cfs_period_us", q.period_us.to_string()),
        w("cpu.cfs_quota_us", bytes(q.quota_us)),
    ]
}

/// cpu.shares from a v2 weight; `Max` restores the default, 1024.
pub fn shares(x: OrMax<u64>) -> Vec<Write> {
    let shares = match x {
        OrMax::Max => 1024,
        OrMax::Value(x) => weight_to_shares(x),
    };
    vec![w("cpu.shares", shares.to_string())]
}

#[cfg(test)]
mod tests {
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::{Limit, Resource};
    use crate::value::parse_cpus;

    const CPU: &[(&str, &str)] = &[
        ("cpu.cfs_period_us", "100000\n"),
        ("cpu.cfs_quota_us", "-1\n"),
        ("cpu.shares", "1024\n"),
    ];

    #[test]
    fn quota_and_period() {
        let cg = cgroup(CPU, &[]);
        assert_eq!(
            set(&cg, &limit(Resource::Cpu, "0.5"), Version::V1, false).unwrap(),
            pairs(&[
                ("cpu.cfs_period_us", "100000"),
                ("cpu.cfs_quota_us", "50000")
            ])
        );
        let q = Limit::Cpu(parse_cpus("1.5", 20_000).unwrap());
        assert_eq!(
            set(&cg, &q, Version::V1, false).unwrap(),
            pairs(&[
                ("cpu.cfs_period_us", "20000"),
                ("cpu.cfs_quota_us", "30000")
            ])
        );
        assert_eq!(
            set(&cg, &limit(Resource::Cpu, "max"), Version::V1, false).unwrap()[1],
            ("cpu.cfs_quota_us", "-1".to_string())
        );
    }

    #[test]
    fn shares_from_weights() {
        let cg = cgroup(CPU, &[]);
        assert_eq!(
            set(&cg, &limit(Resource::CpuWeight, "100"), Version::V1, false).unwrap(),
            pairs(&[("cpu.shares", "1024")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::CpuWeight, "max"), Version::V1, false).unwrap(),
            pairs(&[("cpu.shares", "1024")])
        );
    }
}
