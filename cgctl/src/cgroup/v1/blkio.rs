//! The v1 blkio controller: IO weights (CFQ's blkio.weight, or BFQ's).

use crate::cgroup::write::{w, Write};
use crate::cgroup::{unsupported, CgroupDir};
use crate::error::Result;
use crate::resource::{weight_to_bfq, weight_to_blkio, Resource};
use crate::value::OrMax;

/// blkio.weight where the cgroup has it, else blkio.bfq.weight; `Max` restores the
/// default (500 and 100).
pub fn weight(x: OrMax<u64>, dir: &CgroupDir) -> Result<Vec<Write>> {
    let scaled = |f: fn(u64) -> u64, default: u64| match x {
        OrMax::Max => default,
        OrMax::Value(v) => f(v),
    };
    if dir.has("blkio.weight") {
        Ok(vec![w(
            "blkio.weight",
            scaled(weight_to_blkio, 500).to_string(),
        )])
    } else if dir.has("blkio.bfq.weight") {
        Ok(vec![w(
            "blkio.bfq.weight",
            scaled(weight_to_bfq, 100).to_string(),
        )])
    } else {
        Err(unsupported(
            Resource::IoWeight,
            "blkio.weight or blkio.bfq.weight",
            "IO weights need the BFQ IO scheduler on the block devices",
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::Resource;

    #[test]
    fn blkio_or_bfq_weight() {
        let bfq = cgroup(&[("blkio.bfq.weight", "100\n")], &[]);
        assert_eq!(
            set(
                &bfq,
                &limit(Resource::IoWeight, "10000"),
                Version::V1,
                false
            )
            .unwrap(),
            pairs(&[("blkio.bfq.weight", "1000")])
        );
        let cfq = cgroup(&[("blkio.weight", "500\n")], &[]);
        assert_eq!(
            set(&cfq, &limit(Resource::IoWeight, "1"), Version::V1, false).unwrap(),
            pairs(&[("blkio.weight", "10")])
        );
        assert_eq!(
            set(&cfq, &limit(Resource::IoWeight, "max"), Version::V1, false).unwrap(),
            pairs(&[("blkio.weight", "500")])
        );
        let none = cgroup(&[], &[]);
        let err = set(&none, &limit(Resource::IoWeight, "5"), Version::V1, false).unwrap_err();
        assert!(err.to_string().contains("BFQ"), "{err}");
    }
}
