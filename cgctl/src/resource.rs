//! The resources `cgctl limit` sets, parsing their values, and the v2 ↔ v1 weight
//! conversions. Which files get which values is in [`crate::cgroup`].

use std::fmt;

use crate::error::{Error, Result};
use crate::layout::Version;
use crate::value::{self, CpuQuota, OrMax};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    /// Hard memory limit (v2 memory.max, v1 memory.limit_in_bytes); alias: memory
    #[value(alias = "memory")]
    Mem,
    /// Memory throttling limit (v2 memory.high, v1 memory.soft_limit_in_bytes)
    MemHigh,
    /// Swap (v2 memory.swap.max, v1 memory.memsw.limit_in_bytes = mem + swap)
    Swap,
    /// CPUs as a decimal (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us)
    Cpu,
    /// CPU weight 1-10000 (v2 cpu.weight, v1 cpu.shares)
    CpuWeight,
    /// CPU list like 0-1,3 (cpuset.cpus)
    Cpuset,
    /// Memory node list (cpuset.mems)
    Mems,
    /// Number of tasks (pids.max)
    Pids,
    /// IO weight 1-10000 (v2 io.weight, v1 blkio.weight); aliases: io, blkio
    #[value(alias = "io", alias = "blkio")]
    IoWeight,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Mem => "mem",
            Resource::MemHigh => "mem-high",
            Resource::Swap => "swap",
            Resource::Cpu => "cpu",
            Resource::CpuWeight => "cpu-weight",
            Resource::Cpuset => "cpuset",
            Resource::Mems => "mems",
            Resource::Pids => "pids",
            Resource::IoWeight => "io-weight",
        })
    }
}

impl std::str::FromStr for Resource {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        <Resource as clap::ValueEnum>::from_str(s, true).map_err(|_| {
            Error::Usage(format!(
                "unknown resource '{s}' (use mem, mem-high, swap, cpu, cpu-weight, cpuset, mems, pids or io-weight; memory, io and blkio are aliases)"
            ))
        })
    }
}

impl Resource {
    /// The controller that holds this resource.
    pub fn controller(self, version: Version) -> &'static str {
        match self {
            Resource::Mem | Resource::MemHigh | Resource::Swap => "memory",
            Resource::Cpu | Resource::CpuWeight => "cpu",
            Resource::Cpuset | Resource::Mems => "cpuset",
            Resource::Pids => "pids",
            Resource::IoWeight => match version {
                Version::V1 => "blkio",
                Version::V2 => "io",
            },
        }
    }
}

/// CPU or memory node ranges, sorted and merged (`0-1,3` is `[(0, 1), (3, 3)]`).
pub type Ranges = Vec<(u32, u32)>;

/// A limit to set: a resource with a value of its own type, so that a value can never
/// be set on a resource it does not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Limit {
    Mem(OrMax<u64>),
    MemHigh(OrMax<u64>),
    Swap(OrMax<u64>),
    Cpu(CpuQuota),
    /// `Max` restores the default weight.
    CpuWeight(OrMax<u64>),
    /// `Max`: all the parent has.
    Cpuset(OrMax<Ranges>),
    /// `Max`: all the parent has.
    Mems(OrMax<Ranges>),
    Pids(OrMax<u64>),
    /// `Max` restores the default weight.
    IoWeight(OrMax<u64>),
}

impl Limit {
    /// Parses VALUE for RESOURCE, as given on the command line. `period_us` is the CPU
    /// period (for cpu), `physical` the machine's memory in bytes (for `N%`).
    pub fn parse(res: Resource, s: &str, period_us: u64, physical: u64) -> Result<Limit> {
        let weight = |s: &str| -> Result<OrMax<u64>> {
            if value::is_unlimited(s) {
                Ok(OrMax::Max)
            } else {
                Ok(OrMax::Value(value::parse_weight(s)?))
            }
        };
        let list = |s: &str, what| -> Result<OrMax<Ranges>> {
            if value::is_unlimited(s) {
                Ok(OrMax::Max)
            } else {
                Ok(OrMax::Value(value::parse_list(s, what)?))
            }
        };
        Ok(match res {
            Resource::Mem => Limit::Mem(nonzero_size(res, s, physical)?),
            Resource::MemHigh => Limit::MemHigh(nonzero_size(res, s, physical)?),
            Resource::Swap => Limit::Swap(value::parse_size(s, physical)?),
            Resource::Cpu => Limit::Cpu(value::parse_cpus(s, period_us)?),
            Resource::CpuWeight => Limit::CpuWeight(weight(s)?),
            Resource::IoWeight => Limit::IoWeight(weight(s)?),
            Resource::Cpuset => Limit::Cpuset(list(s, "CPU list")?),
            Resource::Mems => Limit::Mems(list(s, "memory node list")?),
            Resource::Pids => Limit::Pids(value::parse_count(s)?),
        })
    }

    /// Parses VALUE for RESOURCE from the command line, `N%` taken of this machine's
    /// memory.
    pub fn from_arg(res: Resource, s: &str, period_us: u64) -> Result<Limit> {
        Limit::parse(res, s, period_us, physical_memory())
    }

    /// The resource this limit is on.
    pub fn resource(&self) -> Resource {
        match self {
            Limit::Mem(_) => Resource::Mem,
            Limit::MemHigh(_) => Resource::MemHigh,
            Limit::Swap(_) => Resource::Swap,
            Limit::Cpu(_) => Resource::Cpu,
            Limit::CpuWeight(_) => Resource::CpuWeight,
            Limit::Cpuset(_) => Resource::Cpuset,
            Limit::Mems(_) => Resource::Mems,
            Limit::Pids(_) => Resource::Pids,
            Limit::IoWeight(_) => Resource::IoWeight,
        }
    }
}

/// Physical memory in bytes (for `N%` sizes).
pub fn physical_memory() -> u64 {
    use nix::unistd::{sysconf, SysconfVar};
    let pages = sysconf(SysconfVar::_PHYS_PAGES).ok().flatten().unwrap_or(0);
    (pages.max(0) as u64).saturating_mul(page_size())
}

/// The size of a memory page in bytes.
pub fn page_size() -> u64 {
    use nix::unistd::{sysconf, SysconfVar};
    let size = sysconf(SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096);
    size.max(1) as u64
}

/// A size for a memory limit, where 0 makes no sense, and neither does less than a
/// page: the kernel rounds limits down to whole pages, so it would set 0.
fn nonzero_size(res: Resource, s: &str, physical: u64) -> Result<OrMax<u64>> {
    let v = value::parse_size(s, physical)?;
    if v == OrMax::Value(0) {
        return Err(Error::value(
            "size",
            s,
            format!("a {res} limit of 0 bytes makes no sense (use 'max' to remove the limit)"),
        ));
    }
    let page = page_size();
    if let OrMax::Value(n) = v {
        if n < page {
            return Err(Error::value(
                "size",
                s,
                format!("a {res} limit of {n} bytes is below one page ({page} bytes): the kernel would make it 0"),
            ));
        }
    }
    Ok(v)
}

/// The default v1 cpu.shares, which the default weight 100 maps to.
pub const DEFAULT_SHARES: u64 = 1024;

/// v2 cpu.weight → v1 cpu.shares as systemd maps `CPUWeight=` on v1: shares = weight ×
/// 1024 / 100, clamped to the kernel's 2–262144, so the defaults (100 ⇔ 1024) agree.
pub fn weight_to_shares(weight: u64) -> u64 {
    (weight.clamp(1, 10000) * DEFAULT_SHARES / 100).clamp(2, 262_144)
}

/// v1 cpu.shares → v2 cpu.weight, the inverse of [`weight_to_shares`] (rounded to the
/// nearest weight, clamped to 1–10000): 1024 → 100. Any number the file holds maps to a
/// weight, however large.
pub fn shares_to_weight(shares: u64) -> u64 {
    (shares
        .saturating_mul(100)
        .saturating_add(DEFAULT_SHARES / 2)
        / DEFAULT_SHARES)
        .clamp(1, 10000)
}

/// v2 io.weight (1-10000) → v1 blkio.weight (10-1000).
pub fn weight_to_blkio(weight: u64) -> u64 {
    10 + (weight.clamp(1, 10000) - 1) * 990 / 9_999
}

/// v2 io.weight (1-10000) → v1 blkio.bfq.weight (1-1000).
pub fn weight_to_bfq(weight: u64) -> u64 {
    1 + (weight.clamp(1, 10000) - 1) * 999 / 9_999
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_conversions() {
        // systemd's mapping: the defaults agree (100 ⇔ 1024)
        assert_eq!(weight_to_shares(100), 1024);
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(weight_to_shares(1), 10);
        assert_eq!(weight_to_shares(50), 512);
        assert_eq!(weight_to_shares(10000), 102_400);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10000);
        for wgt in 1..=10000 {
            assert_eq!(shares_to_weight(weight_to_shares(wgt)), wgt);
        }
        assert_eq!(weight_to_blkio(1), 10);
        assert_eq!(weight_to_blkio(10000), 1000);
        assert_eq!(weight_to_bfq(10000), 1000);
    }

    // Found by the property tests: a huge cpu.shares overflowed (a panic in a debug
    // build, a wrong weight in a release one).
    #[test]
    fn huge_shares_are_the_largest_weight() {
        assert_eq!(shares_to_weight(184_467_440_737_095_512), 10000);
        assert_eq!(shares_to_weight(u64::MAX), 10000);
        assert_eq!(shares_to_weight(0), 1);
    }

    #[test]
    fn libcgroup_controller_names_are_aliases() {
        for (alias, res) in [
            ("memory", Resource::Mem),
            ("io", Resource::IoWeight),
            ("blkio", Resource::IoWeight),
            ("cpu", Resource::Cpu),
            ("pids", Resource::Pids),
            ("cpuset", Resource::Cpuset),
        ] {
            assert_eq!(alias.parse::<Resource>().unwrap(), res, "{alias}");
        }
        let msg = "bogus".parse::<Resource>().unwrap_err().to_string();
        assert!(msg.contains("memory, io and blkio are aliases"), "{msg}");
    }

    #[test]
    fn values_refused() {
        for (res, bad) in [
            (Resource::Mem, "0"),
            (Resource::Mem, "-5M"),
            (Resource::MemHigh, "0"),
            (Resource::Mem, "1"),
            (Resource::Mem, "4095"),
            (Resource::Mem, "0.5K"),
            (Resource::MemHigh, "1"),
            (Resource::Cpu, "0"),
            (Resource::CpuWeight, "0"),
            (Resource::CpuWeight, "10001"),
            (Resource::Cpuset, "2-1"),
            (Resource::Pids, "x"),
        ] {
            assert!(
                Limit::parse(res, bad, 100_000, 1 << 30).is_err(),
                "{res} {bad}"
            );
        }
        assert!(Limit::parse(Resource::Swap, "0", 100_000, 1 << 30).is_ok());
        let page = page_size().to_string();
        assert!(Limit::parse(Resource::Mem, &page, 100_000, 1 << 30).is_ok());
        let msg = Limit::parse(Resource::Mem, "1", 100_000, 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("below one page"), "{msg}");
        assert!(Limit::parse(Resource::Pids, "0", 100_000, 1 << 30).is_ok());
    }
}

#[cfg(test)]
mod properties;
