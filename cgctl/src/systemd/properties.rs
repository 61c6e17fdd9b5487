//! cgctl's limits as systemd unit properties (systemd.resource-control(5)): the name,
//! the D-Bus type and the value that `StartTransientUnit` and `SetUnitProperties`
//! take, and the v2 files systemd writes them to (read back afterwards).

use crate::resource::{Limit, Ranges, Resource};
use crate::value::OrMax;

/// systemd's "no limit" and "unset" for `t` properties (`CGROUP_LIMIT_MAX`,
/// `CGROUP_WEIGHT_INVALID`, `USEC_INFINITY`).
pub const INFINITY: u64 = u64::MAX;

const USEC_PER_SEC: u64 = 1_000_000;

/// A property value of one of the D-Bus types the limits use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropValue {
    /// `t`
    U64(u64),
    /// `ay`: a bitmask, bit N of byte N/8 for CPU or node N.
    Bytes(Vec<u8>),
}

impl PropValue {
    /// The D-Bus signature.
    pub fn signature(&self) -> &'static str {
        match self {
            PropValue::U64(_) => "t",
            PropValue::Bytes(_) => "ay",
        }
    }
}

/// One unit property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub value: PropValue,
}

fn u64_prop(name: &'static str, v: u64) -> Property {
    Property {
        name,
        value: PropValue::U64(v),
    }
}

fn limit_or_infinity(v: &OrMax<u64>) -> u64 {
    match v {
        OrMax::Max => INFINITY,
        OrMax::Value(n) => *n,
    }
}

/// The CPU list as systemd's bitmask; `Max` (all the parent has) is the empty mask,
/// which systemd reads as "no restriction".
pub fn bitmask(ranges: &OrMax<Ranges>) -> Vec<u8> {
    let OrMax::Value(ranges) = ranges else {
        return Vec::new();
    };
    let last = ranges.iter().map(|&(_, hi)| hi).max().unwrap_or(0);
    let mut mask = vec![0u8; last as usize / 8 + 1];
    for &(lo, hi) in ranges {
        for n in lo..=hi {
            mask[n as usize / 8] |= 1 << (n % 8);
        }
    }
    mask
}

/// The unit properties that set `limit`. A CPU quota is a time per second for
/// systemd, rounded up so that systemd's `per_sec * period / 1e6` gives the quota back.
pub fn properties(limit: &Limit) -> Vec<Property> {
    match limit {
        Limit::Mem(v) => vec![u64_prop("MemoryMax", limit_or_infinity(v))],
        Limit::MemHigh(v) => vec![u64_prop("MemoryHigh", limit_or_infinity(v))],
        Limit::Swap(v) => vec![u64_prop("MemorySwapMax", limit_or_infinity(v))],
        Limit::Cpu(q) => {
            let per_sec = match q.quota_us {
                OrMax::Max => INFINITY,
                OrMax::Value(us) => (us * USEC_PER_SEC).div_ceil(q.period_us),
            };
            vec![
                u64_prop("CPUQuotaPerSecUSec", per_sec),
                u64_prop("CPUQuotaPeriodUSec", q.period_us),
            ]
        }
        Limit::CpuWeight(v) => vec![u64_prop("CPUWeight", limit_or_infinity(v))],
        Limit::Cpuset(r) => vec![Property {
            name: "AllowedCPUs",
            value: PropValue::Bytes(bitmask(r)),
        }],
        Limit::Mems(r) => vec![Property {
            name: "AllowedMemoryNodes",
            value: PropValue::Bytes(bitmask(r)),
        }],
        Limit::Pids(v) => vec![u64_prop("TasksMax", limit_or_infinity(v))],
        Limit::IoWeight(v) => vec![u64_prop("IOWeight", limit_or_infinity(v))],
    }
}

/// The v2 file systemd writes a resource's property to.
pub fn v2_file(res: Resource) -> &'static str {
    match res {
        Resource::Mem => "memory.max",
        Resource::MemHigh => "memory.high",
        Resource::Swap => "memory.swap.max",
        Resource::Cpu => "cpu.max",
        Resource::CpuWeight => "cpu.weight",
        Resource::Cpuset => "cpuset.cpus",
        Resource::Mems => "cpuset.mems",
        Resource::Pids => "pids.max",
        Resource::IoWeight => "io.weight",
    }
}

/// A property as `systemctl show` prints it (`MemoryMax=104857600`), for reports.
pub fn describe(p: &Property) -> String {
    match &p.value {
        PropValue::U64(INFINITY) => format!("{}=infinity", p.name),
        PropValue::U64(n) => format!("{}={n}", p.name),
        PropValue::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("{}=0x{hex}", p.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{CpuQuota, DEFAULT_PERIOD_US};

    fn one(limit: Limit) -> (&'static str, &'static str, PropValue) {
        let ps = properties(&limit);
        assert_eq!(ps.len(), 1, "{ps:?}");
        (ps[0].name, ps[0].value.signature(), ps[0].value.clone())
    }

    #[test]
    fn every_resource_maps_to_a_property() {
        let m = 100 << 20;
        use PropValue::U64;
        assert_eq!(one(Limit::Mem(OrMax::Value(m))), ("MemoryMax", "t", U64(m)));
        assert_eq!(
            one(Limit::Mem(OrMax::Max)),
            ("MemoryMax", "t", U64(INFINITY))
        );
        assert_eq!(
            one(Limit::MemHigh(OrMax::Value(m))),
            ("MemoryHigh", "t", U64(m))
        );
        assert_eq!(
            one(Limit::Swap(OrMax::Value(0))),
            ("MemorySwapMax", "t", U64(0))
        );
        assert_eq!(
            one(Limit::CpuWeight(OrMax::Value(200))),
            ("CPUWeight", "t", U64(200))
        );
        assert_eq!(
            one(Limit::CpuWeight(OrMax::Max)),
            ("CPUWeight", "t", U64(INFINITY))
        );
        assert_eq!(one(Limit::Pids(OrMax::Value(5))), ("TasksMax", "t", U64(5)));
        assert_eq!(
            one(Limit::Pids(OrMax::Max)),
            ("TasksMax", "t", U64(INFINITY))
        );
        assert_eq!(
            one(Limit::IoWeight(OrMax::Value(10_000))),
            ("IOWeight", "t", U64(10_000))
        );
        assert_eq!(
            one(Limit::Cpuset(OrMax::Value(vec![(0, 1), (3, 3)]))),
            ("AllowedCPUs", "ay", PropValue::Bytes(vec![0b1011]))
        );
        assert_eq!(
            one(Limit::Mems(OrMax::Value(vec![(9, 9)]))),
            ("AllowedMemoryNodes", "ay", PropValue::Bytes(vec![0, 0b10]))
        );
        assert_eq!(
            one(Limit::Mems(OrMax::Max)),
            ("AllowedMemoryNodes", "ay", PropValue::Bytes(vec![]))
        );
    }

    #[test]
    fn cpu_is_a_quota_per_second_and_a_period() {
        let cpu = |quota_us, period_us| {
            properties(&Limit::Cpu(CpuQuota {
                quota_us,
                period_us,
            }))
        };
        assert_eq!(
            cpu(OrMax::Value(50_000), DEFAULT_PERIOD_US),
            [
                u64_prop("CPUQuotaPerSecUSec", 500_000),
                u64_prop("CPUQuotaPeriodUSec", 100_000)
            ]
        );
        // rounded up: systemd's per_sec * period / 1e6 truncates back to the quota
        let ps = cpu(OrMax::Value(10_000), 30_000);
        assert_eq!(ps[0], u64_prop("CPUQuotaPerSecUSec", 333_334));
        assert_eq!(333_334 * 30_000 / USEC_PER_SEC, 10_000);
        assert_eq!(
            cpu(OrMax::Max, 100_000)[0],
            u64_prop("CPUQuotaPerSecUSec", INFINITY)
        );
    }

    #[test]
    fn descriptions_and_files() {
        assert_eq!(
            describe(&u64_prop("MemoryMax", INFINITY)),
            "MemoryMax=infinity"
        );
        let cpus = &properties(&Limit::Cpuset(OrMax::Value(vec![(0, 9)])))[0];
        assert_eq!(describe(cpus), "AllowedCPUs=0xff03");
        assert_eq!(v2_file(Resource::Cpu), "cpu.max");
        assert_eq!(v2_file(Resource::Mems), "cpuset.mems");
    }
}
