//! `cgctl limit`: setting a limit on a cgroup, and reporting what the kernel made of
//! the value.

use std::path::PathBuf;

use crate::cgpath::Location;
use crate::cgroup::write::{apply_plan, FileValue, Restore};
use crate::cgroup::{self, CgroupDir};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::layout::Version;
use crate::resource::{self, Limit, Resource};
use crate::value::{self, OrMax};

/// The result of setting one limit on one cgroup.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Applied {
    pub cgroup: PathBuf,
    pub resource: Resource,
    pub requested: String,
    /// The effective value, in words (`100 MiB`, `0.5 CPUs`).
    pub effective: String,
    pub files: Vec<FileValue>,
}

impl Applied {
    /// One line for stderr.
    pub fn describe(&self) -> String {
        let files = self
            .files
            .iter()
            .map(|f| {
                if f.clamped {
                    format!(
                        "{} = {} (the kernel made {} of {})",
                        f.file, f.read, f.read, f.written
                    )
                } else {
                    format!("{} = {}", f.file, f.read)
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("{}: {}; {files}", self.resource, self.effective)
    }
}

/// Sets `limit` on the existing cgroup `loc`, reads it back. On v2 the resource's
/// controller is enabled along the path first. A failed write or read puts back the
/// files written before it; so does the [`Restore`] returned, if dropped without
/// [`Restore::keep`] (a later step of the command failed).
pub fn apply(
    ctx: &Ctx,
    loc: &Location,
    limit: &Limit,
    requested: &str,
    force: bool,
) -> Result<(Applied, Restore)> {
    let hier = &ctx.layout.hierarchies[loc.hierarchy];
    let version = hier.version;
    let res = limit.resource();
    if version == Version::V2 {
        let c = res.controller(version).to_string();
        crate::cgroup::v2::enable_controllers(hier, &loc.path, &[c], &mut Default::default())?;
    }
    let dir = CgroupDir::open(&loc.dir)?;
    let writes = cgroup::plan(limit, version, force, &dir)?;
    let (files, restore) = apply_plan(&dir, &writes, res, version)?;
    let applied = Applied {
        cgroup: loc.dir.clone(),
        resource: res,
        requested: requested.to_string(),
        effective: effective(&dir, res, version, &files),
        files,
    };
    Ok((applied, restore))
}

/// The effective value in words, from what was read back.
pub(crate) fn effective(
    dir: &CgroupDir,
    res: Resource,
    version: Version,
    files: &[FileValue],
) -> String {
    let get = |name: &str| {
        files
            .iter()
            .find(|f| f.file == name)
            .map(|f| f.read.as_str())
    };
    let bytes = |s: Option<&str>| {
        s.and_then(value::parse_kernel_limit)
            .map_or_else(|| "?".to_string(), value::human_limit)
    };
    match (res, version) {
        (Resource::Mem, Version::V1) => bytes(get("memory.limit_in_bytes")),
        (Resource::Mem, Version::V2) => bytes(get("memory.max")),
        (Resource::MemHigh, _) => bytes(files.first().map(|f| f.read.as_str())),
        (Resource::Swap, Version::V2) => bytes(get("memory.swap.max")),
        (Resource::Swap, Version::V1) => {
            let memsw = get("memory.memsw.limit_in_bytes").and_then(value::parse_kernel_limit);
            let mem = dir
                .read_opt("memory.limit_in_bytes")
                .and_then(|s| value::parse_kernel_limit(&s));
            match (memsw, mem) {
                (Some(OrMax::Value(s)), Some(OrMax::Value(m))) => format!(
                    "{} of swap ({} memory+swap)",
                    value::human(s.saturating_sub(m)),
                    value::human(s)
                ),
                _ => "max".to_string(),
            }
        }
        (Resource::Cpu, _) => {
            let (q, p) = match version {
                Version::V2 => {
                    let s = get("cpu.max").unwrap_or("");
                    let mut it = s.split_whitespace();
                    (
                        it.next().unwrap_or("max").to_string(),
                        it.next().unwrap_or("100000").to_string(),
                    )
                }
                Version::V1 => (
                    get("cpu.cfs_quota_us").unwrap_or("-1").to_string(),
                    get("cpu.cfs_period_us").unwrap_or("100000").to_string(),
                ),
            };
            match (q.parse::<f64>(), p.parse::<f64>()) {
                (Ok(q), Ok(p)) if q > 0.0 && p > 0.0 => {
                    format!("{} CPUs ({q} µs every {p} µs)", round3(q / p))
                }
                _ => "max".to_string(),
            }
        }
        (Resource::CpuWeight, Version::V1) => {
            let shares: u64 = get("cpu.shares")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1024);
            format!(
                "weight {} (cpu.shares {shares})",
                resource::shares_to_weight(shares)
            )
        }
        _ => files.first().map_or_else(String::new, |f| f.read.clone()),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::testdir::{cgroup, limit};

    fn effective_after(own: &[(&str, &str)], res: Resource, v: &str, version: Version) -> String {
        let cg = cgroup(own, &[]);
        let l = limit(res, v);
        let writes = cgroup::plan(&l, version, false, &cg.dir).unwrap();
        let (files, restore) = apply_plan(&cg.dir, &writes, res, version).unwrap();
        restore.keep();
        effective(&cg.dir, res, version, &files)
    }

    #[test]
    fn effective_values_in_words() {
        let cpu = &[
            ("cpu.cfs_period_us", "100000\n"),
            ("cpu.cfs_quota_us", "-1\n"),
        ];
        assert_eq!(
            effective_after(cpu, Resource::Cpu, "0.5", Version::V1),
            "0.5 CPUs (50000 µs every 100000 µs)"
        );
        assert_eq!(
            effective_after(
                &[("cpu.max", "max 100000\n")],
                Resource::Cpu,
                "max",
                Version::V2
            ),
            "max"
        );
        assert_eq!(
            effective_after(
                &[("cpu.shares", "1024\n")],
                Resource::CpuWeight,
                "max",
                Version::V1
            ),
            "weight 100 (cpu.shares 1024)"
        );
        let mem = &[
            ("memory.limit_in_bytes", "104857600\n"),
            ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
        ];
        assert_eq!(
            effective_after(mem, Resource::Swap, "50M", Version::V1),
            "50 MiB of swap (150 MiB memory+swap)"
        );
        assert_eq!(
            effective_after(
                &[("memory.max", "max\n")],
                Resource::Mem,
                "100M",
                Version::V2
            ),
            "100 MiB"
        );
    }
}
