//! The v1 memory controller: the limit, the soft limit, and swap as memory+swap.

use crate::cgroup::v1::bytes;
use crate::cgroup::write::{w, Write};
use crate::cgroup::{kernel_limit, unsupported, CgroupDir};
use crate::error::{Error, Result};
use crate::resource::Resource;
use crate::value::{self, OrMax};

const LIMIT: &str = "memory.limit_in_bytes";
const MEMSW: &str = "memory.memsw.limit_in_bytes";

/// Orders "no limit" above every number.
fn above(a: OrMax<u64>, b: OrMax<u64>) -> bool {
    match (a, b) {
        (OrMax::Max, OrMax::Max) => false,
        (OrMax::Max, _) => true,
        (_, OrMax::Max) => false,
        (OrMax::Value(x), OrMax::Value(y)) => x > y,
    }
}

/// `a + b`, no limit if either is none or the sum is more than the kernel takes.
fn sum(a: OrMax<u64>, b: OrMax<u64>) -> OrMax<u64> {
    match (a, b) {
        (OrMax::Value(x), OrMax::Value(y)) => x
            .checked_add(y)
            .filter(|s| *s <= value::MAX_BYTES)
            .map_or(OrMax::Max, OrMax::Value),
        _ => OrMax::Max,
    }
}

/// memory.limit_in_bytes. With swap accounting and a memory+swap limit, that moves
/// too, keeping the swap allowance (memsw - mem) as it was; the kernel wants
/// mem <= memsw at every step, so memsw is written first when the limit goes up (or
/// away), last when it goes down.
pub fn limit(m: OrMax<u64>, dir: &CgroupDir) -> Vec<Write> {
    let cur_mem = kernel_limit(dir, LIMIT).unwrap_or(OrMax::Max);
    let Some(OrMax::Value(memsw)) = kernel_limit(dir, MEMSW) else {
        return vec![w(LIMIT, bytes(m))];
    };
    let swap = match cur_mem {
        OrMax::Value(c) => memsw.saturating_sub(c),
        OrMax::Max => 0,
    };
    let mem_w = w(LIMIT, bytes(m));
    let memsw_w = w(MEMSW, bytes(sum(m, OrMax::Value(swap))));
    if above(m, cur_mem) {
        vec![memsw_w, mem_w]
    } else {
        vec![mem_w, memsw_w]
    }
}

/// memory.soft_limit_in_bytes.
pub fn soft_limit(m: OrMax<u64>) -> Vec<Write> {
    vec![w("memory.soft_limit_in_bytes", bytes(m))]
}

/// Swap: v1 only limits memory+swap, so the new memsw is the memory limit plus `s`;
/// that needs swap accounting and a memory limit to add to.
pub fn swap(s: OrMax<u64>, dir: &CgroupDir) -> Result<Vec<Write>> {
    if !dir.has(MEMSW) {
        return Err(unsupported(
            Resource::Swap,
            MEMSW,
            "the kernel has no swap accounting: boot with swapaccount=1",
        ));
    }
    match (s, kernel_limit(dir, LIMIT)) {
        (OrMax::Max, _) => Ok(vec![w(MEMSW, "-1")]),
        (OrMax::Value(s), Some(OrMax::Value(mem))) => {
            Ok(vec![w(MEMSW, bytes(sum(OrMax::Value(mem), OrMax::Value(s))))])
        }
        (OrMax::Value(_), _) => Err(Error::Refused(
            "cgroup v1 limits memory+swap together (memory.memsw.limit_in_bytes), so swap can only be limited below a memory limit: set one first with 'cgctl limit mem SIZE ...'"
                .to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::cgroup::testdir::{cgroup, limit, pairs, set};
    use crate::layout::Version;
    use crate::resource::Resource;

    const UNLIMITED: &[(&str, &str)] = &[
        ("memory.limit_in_bytes", "9223372036854771712\n"),
        ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
        ("memory.soft_limit_in_bytes", "9223372036854771712\n"),
    ];

    #[test]
    fn memory_and_soft_limit() {
        let cg = cgroup(UNLIMITED, &[]);
        assert_eq!(
            set(&cg, &limit(Resource::Mem, "100M"), Version::V1, false).unwrap(),
            pairs(&[("memory.limit_in_bytes", "104857600")])
        );
        let cg = cgroup(UNLIMITED, &[]);
        assert_eq!(
            set(&cg, &limit(Resource::Mem, "max"), Version::V1, false).unwrap(),
            pairs(&[("memory.limit_in_bytes", "-1")])
        );
        assert_eq!(
            set(&cg, &limit(Resource::MemHigh, "1G"), Version::V1, false).unwrap(),
            pairs(&[("memory.soft_limit_in_bytes", "1073741824")])
        );
    }

    #[test]
    fn memory_keeps_swap_allowance_and_orders_writes() {
        // mem 100M, memsw 150M: 50M of swap
        let at_100m = || {
            cgroup(
                &[
                    ("memory.limit_in_bytes", "104857600\n"),
                    ("memory.memsw.limit_in_bytes", "157286400\n"),
                ],
                &[],
            )
        };
        // raising: memsw first, so that mem <= memsw holds throughout
        let cg = at_100m();
        assert_eq!(
            set(&cg, &limit(Resource::Mem, "200M"), Version::V1, false).unwrap(),
            [
                ("memory.memsw.limit_in_bytes", (250u64 << 20).to_string()),
                ("memory.limit_in_bytes", (200u64 << 20).to_string()),
            ]
        );
        // lowering: memory first
        let cg = at_100m();
        assert_eq!(
            set(&cg, &limit(Resource::Mem, "50M"), Version::V1, false).unwrap(),
            [
                ("memory.limit_in_bytes", (50u64 << 20).to_string()),
                ("memory.memsw.limit_in_bytes", (100u64 << 20).to_string()),
            ]
        );
        // removing: both unlimited, memsw first
        let cg = at_100m();
        assert_eq!(
            set(&cg, &limit(Resource::Mem, "max"), Version::V1, false).unwrap(),
            pairs(&[
                ("memory.memsw.limit_in_bytes", "-1"),
                ("memory.limit_in_bytes", "-1"),
            ])
        );
        // the same value: nothing goes up, memory first
        let cg = at_100m();
        assert_eq!(
            set(&cg, &limit(Resource::Mem, "100M"), Version::V1, false).unwrap()[0].0,
            "memory.limit_in_bytes"
        );
    }

    #[test]
    fn swap_is_memory_plus_swap() {
        let cg = cgroup(
            &[
                ("memory.limit_in_bytes", "104857600\n"),
                ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
            ],
            &[],
        );
        assert_eq!(
            set(&cg, &limit(Resource::Swap, "50M"), Version::V1, false).unwrap(),
            [("memory.memsw.limit_in_bytes", (150u64 << 20).to_string())]
        );
        assert_eq!(
            set(&cg, &limit(Resource::Swap, "max"), Version::V1, false).unwrap(),
            pairs(&[("memory.memsw.limit_in_bytes", "-1")])
        );
        // without a memory limit there is nothing to add swap to
        let unlimited = cgroup(UNLIMITED, &[]);
        let err = set(
            &unlimited,
            &limit(Resource::Swap, "50M"),
            Version::V1,
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("set one first"), "{err}");
        // no swap accounting
        let none = cgroup(&[("memory.limit_in_bytes", "104857600\n")], &[]);
        let err = set(&none, &limit(Resource::Swap, "1M"), Version::V1, false).unwrap_err();
        assert!(err.to_string().contains("swap accounting"), "{err}");
    }
}
