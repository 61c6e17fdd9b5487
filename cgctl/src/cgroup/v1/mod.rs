//! cgroup v1: a write plan for each limit, one module per controller.

pub mod blkio;
pub mod cpu;
pub mod cpuset;
pub mod freezer;
pub mod memory;
pub mod pids;

pub use cpuset::inherit_cpuset;

use crate::cgroup::{CgroupDir, Write};
use crate::error::Result;
use crate::resource::Limit;
use crate::value::OrMax;

/// The writes that set `limit` on the v1 cgroup `dir`, in order.
pub fn plan(limit: &Limit, dir: &CgroupDir) -> Result<Vec<Write>> {
    match limit {
        Limit::Mem(m) => Ok(memory::limit(*m, dir)),
        Limit::MemHigh(m) => Ok(memory::soft_limit(*m)),
        Limit::Swap(s) => memory::swap(*s, dir),
        Limit::Cpu(q) => Ok(cpu::quota(q)),
        Limit::CpuWeight(x) => Ok(cpu::shares(*x)),
        Limit::Cpuset(l) => cpuset::CPUS.plan(l, dir),
        Limit::Mems(l) => cpuset::MEMS.plan(l, dir),
        Limit::Pids(c) => Ok(pids::max(*c)),
        Limit::IoWeight(x) => blkio::weight(*x, dir),
    }
}

/// A v1 number that may be no limit (written as -1).
pub(crate) fn bytes(l: OrMax<u64>) -> String {
    match l {
        OrMax::Max => "-1".to_string(),
        OrMax::Value(v) => v.to_string(),
    }
}
