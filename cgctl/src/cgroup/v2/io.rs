//! The v2 io controller: `io.weight`.

use crate::cgroup::write::{w, Write};
use crate::cgroup::{unsupported, weight_or, CgroupDir};
use crate::error::Result;
use crate::resource::Resource;
use crate::value::OrMax;

/// `io.weight`'s default for every device; `Max` restores 100.
pub fn weight(x: OrMax<u64>, dir: &CgroupDir) -> Result<Vec<Write>> {
    if !dir.has("io.weight") {
        return Err(unsupported(
            Resource::IoWeight,
            "io.weight",
            "enable the io controller, and use an IO scheduler with weights (BFQ)",
        ));
    }
    Ok(vec![w(
        "io.weight",
        format!("default {}", weight_or(x, 100)),
    )])
}

#[cfg(test)]
mod tests {
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::Resource;

    #[test]
    fn io_weight() {
        let cg = cgroup(&[("io.weight", "default 100\n")], &[]);
        assert_eq!(
            set(&cg, &limit(Resource::IoWeight, "500"), Version::V2, false).unwrap(),
            pairs(&[("io.weight", "default 500")])
        );
        let none = cgroup(&[], &[]);
        let err = set(&none, &limit(Resource::IoWeight, "5"), Version::V2, false).unwrap_err();
        assert!(
            err.to_string().contains("enable the io controller"),
            "{err}"
        );
    }
}
