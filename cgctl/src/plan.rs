//! Planning a limit: which files get which values, in which order, on v1 and on v2.
//! Pure: current values are read through [`Files`], so the mapping is unit-tested for
//! both versions on any host.

use crate::error::{Error, Result};
use crate::layout::Version;
use crate::resource::{weight_to_bfq, weight_to_blkio, weight_to_shares, Resource, Value};
use crate::value::{self, Limit};

/// One write to a cgroup file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    pub file: &'static str,
    pub value: String,
}

fn w(file: &'static str, value: impl Into<String>) -> Write {
    Write {
        file,
        value: value.into(),
    }
}

fn v1_bytes(l: Limit<u64>) -> String {
    match l {
        Limit::Max => "-1".to_string(),
        Limit::Value(v) => v.to_string(),
    }
}

fn v2_limit(l: Limit<u64>) -> String {
    l.to_string()
}

/// Orders "no limit" above every number.
fn limit_gt(a: Limit<u64>, b: Limit<u64>) -> bool {
    match (a, b) {
        (Limit::Max, Limit::Max) => false,
        (Limit::Max, _) => true,
        (_, Limit::Max) => false,
        (Limit::Value(x), Limit::Value(y)) => x > y,
    }
}

fn add(a: Limit<u64>, b: Limit<u64>) -> Limit<u64> {
    match (a, b) {
        (Limit::Value(x), Limit::Value(y)) => x
            .checked_add(y)
            .filter(|s| *s <= value::MAX_BYTES)
            .map_or(Limit::Max, Limit::Value),
        _ => Limit::Max,
    }
}

/// What planning may read: a cgroup file of the target (`own`) or of its parent.
pub trait Files {
    fn own(&self, file: &str) -> Option<String>;
    fn parent(&self, file: &str) -> Option<String>;
}

fn kernel_limit<F: Files + ?Sized>(f: &F, file: &str) -> Option<Limit<u64>> {
    value::parse_kernel_limit(&f.own(file)?)
}

/// The writes that set `value` for `res` on a cgroup of `version`, in order.
pub fn plan<F: Files + ?Sized>(
    res: Resource,
    val: &Value,
    version: Version,
    force: bool,
    files: &F,
) -> Result<Vec<Write>> {
    use Resource::*;
    use Version::*;
    let unsupported = |file: &str, why: &str| {
        Error::Unsupported(format!(
            "cannot set {res}: this cgroup has no {file} ({why})"
        ))
    };
    Ok(match (res, val, version) {
        (Mem, Value::Bytes(m), V2) => {
            if let (Limit::Value(m), Some(cur)) = (m, files.own("memory.current")) {
                let cur: u64 = cur.trim().parse().unwrap_or(0);
                if cur > *m && !force {
                    return Err(Error::Refused(format!(
                        "memory.current is {} ({cur} bytes), above the new limit of {} ({m} bytes): cgroup v2 would OOM-kill processes to get there; use --force to do it anyway",
                        value::human(cur),
                        value::human(*m)
                    )));
                }
            }
            vec![w("memory.max", v2_limit(*m))]
        }
        (Mem, Value::Bytes(m), V1) => {
            let cur_mem = kernel_limit(files, "memory.limit_in_bytes").unwrap_or(Limit::Max);
            match kernel_limit(files, "memory.memsw.limit_in_bytes") {
                Some(Limit::Value(memsw)) => {
                    // Keep the swap allowance: memsw - mem stays the same.
                    let swap = match cur_mem {
                        Limit::Value(c) => memsw.saturating_sub(c),
                        Limit::Max => 0,
                    };
                    let new_memsw = add(*m, Limit::Value(swap));
                    let mem_w = w("memory.limit_in_bytes", v1_bytes(*m));
                    let memsw_w = w("memory.memsw.limit_in_bytes", v1_bytes(new_memsw));
                    // The kernel keeps mem <= memsw at every step.
                    if limit_gt(*m, cur_mem) {
                        vec![memsw_w, mem_w]
                    } else {
                        vec![mem_w, memsw_w]
                    }
                }
                _ => vec![w("memory.limit_in_bytes", v1_bytes(*m))],
            }
        }
        (MemHigh, Value::Bytes(m), V2) => vec![w("memory.high", v2_limit(*m))],
        (MemHigh, Value::Bytes(m), V1) => vec![w("memory.soft_limit_in_bytes", v1_bytes(*m))],
        (Swap, Value::Bytes(s), V2) => {
            if files.own("memory.swap.max").is_none() {
                return Err(unsupported(
                    "memory.swap.max",
                    "the kernel has no swap accounting: CONFIG_MEMCG_SWAP, or swapaccount=0",
                ));
            }
            vec![w("memory.swap.max", v2_limit(*s))]
        }
        (Swap, Value::Bytes(s), V1) => {
            let Some(_) = files.own("memory.memsw.limit_in_bytes") else {
                return Err(unsupported(
                    "memory.memsw.limit_in_bytes",
                    "the kernel has no swap accounting: boot with swapaccount=1",
                ));
            };
            match (s, kernel_limit(files, "memory.limit_in_bytes")) {
                (Limit::Max, _) => vec![w("memory.memsw.limit_in_bytes", "-1")],
                (Limit::Value(s), Some(Limit::Value(mem))) => {
                    let total = add(Limit::Value(mem), Limit::Value(*s));
                    vec![w("memory.memsw.limit_in_bytes", v1_bytes(total))]
                }
                (Limit::Value(_), _) => {
                    return Err(Error::Refused(
                        "cgroup v1 limits memory+swap together (memory.memsw.limit_in_bytes), so swap can only be limited below a memory limit: set one first with 'cgctl limit mem SIZE ...'"
                    .to_string()))
                }
            }
        }
        (Cpu, Value::Cpu(q), V2) => vec![w("cpu.max", format!("{} {}", q.quota_us, q.period_us))],
        (Cpu, Value::Cpu(q), V1) => vec![
            w("cpu.cfs_period_us", q.period_us.to_string()),
            w("cpu.cfs_quota_us", v1_bytes(q.quota_us)),
        ],
        (CpuWeight, Value::Weight(x), V2) => {
            vec![w("cpu.weight", x_or(*x, 100).to_string())]
        }
        (CpuWeight, Value::Weight(x), V1) => {
            let shares = match x {
                Limit::Max => 1024,
                Limit::Value(x) => weight_to_shares(*x),
            };
            vec![w("cpu.shares", shares.to_string())]
        }
        (Cpuset | Mems, Value::List(l), _) => {
            let (file, effective, what) = match (res, version) {
                (Cpuset, V1) => ("cpuset.cpus", "cpuset.effective_cpus", "CPU"),
                (Cpuset, V2) => ("cpuset.cpus", "cpuset.cpus.effective", "CPU"),
                (_, V1) => ("cpuset.mems", "cpuset.effective_mems", "memory node"),
                (_, V2) => ("cpuset.mems", "cpuset.mems.effective", "memory node"),
            };
            let parent = files
                .parent(effective)
                .or_else(|| files.parent(file))
                .map(|s| s.trim().to_string());
            let available = parent
                .as_deref()
                .and_then(|p| value::parse_list(p, what).ok());
            match l {
                Limit::Max => match parent {
                    Some(p) if !p.is_empty() => vec![w(file, p)],
                    _ => {
                        return Err(Error::Refused(format!(
                            "cannot tell which {what}s the parent cgroup has (its {effective} is empty or missing)"
                        )))
                    }
                },
                Limit::Value(ranges) => {
                    if let Some(avail) = &available {
                        if !value::list_within(ranges, avail) {
                            return Err(Error::value(
                                if res == Cpuset { "CPU list" } else { "memory node list" },
                                value::format_list(ranges),
                                format!(
                                    "the parent cgroup only has {what}s {}",
                                    value::format_list(avail)
                                ),
                            ));
                        }
                    }
                    vec![w(file, value::format_list(ranges))]
                }
            }
        }
        (Pids, Value::Count(c), _) => vec![w("pids.max", v2_limit(*c))],
        (IoWeight, Value::Weight(x), V2) => {
            if files.own("io.weight").is_none() {
                return Err(unsupported(
                    "io.weight",
                    "enable the io controller, and use an IO scheduler with weights (BFQ)",
                ));
            }
            vec![w("io.weight", format!("default {}", x_or(*x, 100)))]
        }
        (IoWeight, Value::Weight(x), V1) => {
            if files.own("blkio.weight").is_some() {
                vec![w(
                    "blkio.weight",
                    x.map_value(weight_to_blkio, 500).to_string(),
                )]
            } else if files.own("blkio.bfq.weight").is_some() {
                vec![w(
                    "blkio.bfq.weight",
                    x.map_value(weight_to_bfq, 100).to_string(),
                )]
            } else {
                return Err(unsupported(
                    "blkio.weight or blkio.bfq.weight",
                    "IO weights need the BFQ IO scheduler on the block devices",
                ));
            }
        }
        (res, val, _) => {
            return Err(Error::Usage(format!(
                "internal: value {val:?} does not fit resource {res}"
            )))
        }
    })
}

fn x_or(l: Limit<u64>, default: u64) -> u64 {
    match l {
        Limit::Max => default,
        Limit::Value(v) => v,
    }
}

trait MapValue {
    fn map_value(&self, f: impl Fn(u64) -> u64, default: u64) -> u64;
}

impl MapValue for Limit<u64> {
    fn map_value(&self, f: impl Fn(u64) -> u64, default: u64) -> u64 {
        match self {
            Limit::Max => default,
            Limit::Value(v) => f(*v),
        }
    }
}

/// Whether the kernel kept what was written (comparing numbers, "no limit" spellings
/// and lists by meaning, not by spelling).
pub fn same_value(written: &str, read: &str) -> bool {
    let (a, b) = (written.trim(), read.trim());
    if a == b {
        return true;
    }
    if let (Some(x), Some(y)) = (value::parse_kernel_limit(a), value::parse_kernel_limit(b)) {
        return x == y;
    }
    if let (Ok(x), Ok(y)) = (value::parse_list(a, "list"), value::parse_list(b, "list")) {
        return x == y;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::parse_value;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Fake {
        own: HashMap<&'static str, &'static str>,
        parent: HashMap<&'static str, &'static str>,
    }

    impl Files for Fake {
        fn own(&self, f: &str) -> Option<String> {
            self.own.get(f).map(|s| s.to_string())
        }
        fn parent(&self, f: &str) -> Option<String> {
            self.parent.get(f).map(|s| s.to_string())
        }
    }

    fn fake(own: &[(&'static str, &'static str)]) -> Fake {
        Fake {
            own: own.iter().cloned().collect(),
            parent: [
                ("cpuset.effective_cpus", "0-1\n"),
                ("cpuset.effective_mems", "0\n"),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn val(res: Resource, s: &str) -> Value {
        parse_value(res, s, 100_000, 8 << 30).unwrap()
    }

    fn files(res: Resource, s: &str, v: Version, f: &Fake) -> Vec<(&'static str, String)> {
        plan(res, &val(res, s), v, false, f)
            .unwrap()
            .into_iter()
            .map(|w| (w.file, w.value))
            .collect()
    }

    const V1_UNLIMITED: &[(&str, &str)] = &[
        ("memory.limit_in_bytes", "9223372036854771712"),
        ("memory.memsw.limit_in_bytes", "9223372036854771712"),
    ];

    #[test]
    fn memory_both_versions() {
        let f = fake(V1_UNLIMITED);
        assert_eq!(
            files(Resource::Mem, "100M", Version::V1, &f),
            [("memory.limit_in_bytes", "104857600".to_string())]
        );
        assert_eq!(
            files(Resource::Mem, "max", Version::V1, &f),
            [("memory.limit_in_bytes", "-1".to_string())]
        );
        let f2 = fake(&[("memory.current", "1000")]);
        assert_eq!(
            files(Resource::Mem, "100M", Version::V2, &f2),
            [("memory.max", "104857600".to_string())]
        );
        assert_eq!(
            files(Resource::Mem, "infinity", Version::V2, &f2),
            [("memory.max", "max".to_string())]
        );
        assert_eq!(
            files(Resource::MemHigh, "1G", Version::V1, &f),
            [("memory.soft_limit_in_bytes", "1073741824".to_string())]
        );
        assert_eq!(
            files(Resource::MemHigh, "1G", Version::V2, &f2),
            [("memory.high", "1073741824".to_string())]
        );
    }

    #[test]
    fn v2_refuses_limit_below_usage_unless_forced() {
        let f = fake(&[("memory.current", "209715200")]);
        let v = val(Resource::Mem, "100M");
        let err = plan(Resource::Mem, &v, Version::V2, false, &f).unwrap_err();
        assert!(err.to_string().contains("200 MiB"), "{err}");
        assert!(plan(Resource::Mem, &v, Version::V2, true, &f).is_ok());
    }

    #[test]
    fn v1_swap_is_memory_plus_swap() {
        let f = fake(&[
            ("memory.limit_in_bytes", "104857600"),
            ("memory.memsw.limit_in_bytes", "9223372036854771712"),
        ]);
        assert_eq!(
            files(Resource::Swap, "50M", Version::V1, &f),
            [("memory.memsw.limit_in_bytes", (150u64 << 20).to_string())]
        );
        // without a memory limit there is nothing to add swap to
        let unlimited = fake(V1_UNLIMITED);
        let err = plan(
            Resource::Swap,
            &val(Resource::Swap, "50M"),
            Version::V1,
            false,
            &unlimited,
        )
        .unwrap_err();
        assert!(err.to_string().contains("set one first"), "{err}");
        // no swap accounting
        let none = fake(&[("memory.limit_in_bytes", "104857600")]);
        let err = plan(
            Resource::Swap,
            &val(Resource::Swap, "1M"),
            Version::V1,
            false,
            &none,
        )
        .unwrap_err();
        assert!(err.to_string().contains("swap accounting"), "{err}");
        let err = plan(
            Resource::Swap,
            &val(Resource::Swap, "1M"),
            Version::V2,
            false,
            &none,
        )
        .unwrap_err();
        assert!(err.to_string().contains("swap accounting"), "{err}");
        let v2 = fake(&[("memory.swap.max", "max")]);
        assert_eq!(
            files(Resource::Swap, "0", Version::V2, &v2),
            [("memory.swap.max", "0".to_string())]
        );
    }

    #[test]
    fn v1_memory_keeps_swap_allowance_and_orders_writes() {
        // mem 100M, memsw 150M: 50M of swap
        let f = fake(&[
            ("memory.limit_in_bytes", "104857600"),
            ("memory.memsw.limit_in_bytes", "157286400"),
        ]);
        // raising: memsw first, so that mem <= memsw holds throughout
        assert_eq!(
            files(Resource::Mem, "200M", Version::V1, &f),
            [
                ("memory.memsw.limit_in_bytes", (250u64 << 20).to_string()),
                ("memory.limit_in_bytes", (200u64 << 20).to_string()),
            ]
        );
        // lowering: memory first
        assert_eq!(
            files(Resource::Mem, "50M", Version::V1, &f),
            [
                ("memory.limit_in_bytes", (50u64 << 20).to_string()),
                ("memory.memsw.limit_in_bytes", (100u64 << 20).to_string()),
            ]
        );
        // removing: both unlimited, memsw first
        assert_eq!(
            files(Resource::Mem, "max", Version::V1, &f),
            [
                ("memory.memsw.limit_in_bytes", "-1".to_string()),
                ("memory.limit_in_bytes", "-1".to_string()),
            ]
        );
    }

    #[test]
    fn cpu_both_versions() {
        let f = fake(&[]);
        assert_eq!(
            files(Resource::Cpu, "0.5", Version::V1, &f),
            [
                ("cpu.cfs_period_us", "100000".to_string()),
                ("cpu.cfs_quota_us", "50000".to_string())
            ]
        );
        assert_eq!(
            files(Resource::Cpu, "0.5", Version::V2, &f),
            [("cpu.max", "50000 100000".to_string())]
        );
        assert_eq!(
            files(Resource::Cpu, "max", Version::V2, &f),
            [("cpu.max", "max 100000".to_string())]
        );
        assert_eq!(
            files(Resource::Cpu, "max", Version::V1, &f)[1],
            ("cpu.cfs_quota_us", "-1".to_string())
        );
        assert_eq!(
            files(Resource::CpuWeight, "100", Version::V2, &f),
            [("cpu.weight", "100".to_string())]
        );
        assert_eq!(
            files(Resource::CpuWeight, "max", Version::V1, &f),
            [("cpu.shares", "1024".to_string())]
        );
    }

    #[test]
    fn cpuset_within_parent() {
        let f = fake(&[]);
        assert_eq!(
            files(Resource::Cpuset, "1,0", Version::V1, &f),
            [("cpuset.cpus", "0-1".to_string())]
        );
        let err = plan(
            Resource::Cpuset,
            &val(Resource::Cpuset, "0-7"),
            Version::V1,
            false,
            &f,
        )
        .unwrap_err();
        assert!(err.to_string().contains("only has CPUs 0-1"), "{err}");
    }

    #[test]
    fn cpuset_within_parent_v2() {
        // A v2 parent's cpuset.cpus is empty unless set (it uses what its parent has);
        // what it has is in cpuset.cpus.effective (found on the cgroup2-only VM lane).
        let f = Fake {
            own: HashMap::new(),
            parent: [
                ("cpuset.cpus", "\n"),
                ("cpuset.mems", "\n"),
                ("cpuset.cpus.effective", "0-1\n"),
                ("cpuset.mems.effective", "0\n"),
            ]
            .into_iter()
            .collect(),
        };
        assert_eq!(
            files(Resource::Cpuset, "max", Version::V2, &f),
            [("cpuset.cpus", "0-1".to_string())]
        );
        assert_eq!(
            files(Resource::Mems, "max", Version::V2, &f),
            [("cpuset.mems", "0".to_string())]
        );
        assert_eq!(
            files(Resource::Mems, "0", Version::V2, &f),
            [("cpuset.mems", "0".to_string())]
        );
        let err = plan(
            Resource::Cpuset,
            &val(Resource::Cpuset, "0-7"),
            Version::V2,
            false,
            &f,
        )
        .unwrap_err();
        assert!(err.to_string().contains("only has CPUs 0-1"), "{err}");
    }

    #[test]
    fn pids_and_io() {
        let f = fake(&[("io.weight", "default 100"), ("blkio.bfq.weight", "100")]);
        assert_eq!(
            files(Resource::Pids, "64", Version::V1, &f),
            [("pids.max", "64".to_string())]
        );
        assert_eq!(
            files(Resource::Pids, "-1", Version::V2, &f),
            [("pids.max", "max".to_string())]
        );
        assert_eq!(
            files(Resource::IoWeight, "500", Version::V2, &f),
            [("io.weight", "default 500".to_string())]
        );
        assert_eq!(
            files(Resource::IoWeight, "10000", Version::V1, &f),
            [("blkio.bfq.weight", "1000".to_string())]
        );
        let none = fake(&[]);
        assert!(plan(
            Resource::IoWeight,
            &val(Resource::IoWeight, "5"),
            Version::V1,
            false,
            &none
        )
        .is_err());
    }

    #[test]
    fn read_back_comparison() {
        assert!(same_value("-1", "9223372036854771712"));
        assert!(same_value("max", "max\n"));
        assert!(same_value("0-1", "0,1"));
        assert!(!same_value("104857601", "104857600"));
        assert!(same_value("50000 100000", "50000 100000\n"));
    }
}
