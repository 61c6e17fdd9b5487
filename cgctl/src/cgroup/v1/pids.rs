//! The v1 pids controller.

use crate::cgroup::write::{w, Write};
use crate::value::OrMax;

/// `pids.max`, which takes `max` on v1 too.
pub fn max(c: OrMax<u64>) -> Vec<Write> {
    vec![w("pids.max", c.to_string())]
}

#[cfg(test)]
mod tests {
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::Resource;

    #[test]
    fn pids_max() {
        let cg = cgroup(&[("pids.max", "max\n")], &[]);
        assert_eq!(
            set(&cg, &limit(Resource::Pids, "64"), Version::V1, false).unwrap(),
            pairs(&[("pids.max", "64")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::Pids, "-1"), Version::V1, false).unwrap(),
            pairs(&[("pids.max", "max")])
        );
    }
}
