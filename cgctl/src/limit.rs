//! `cgctl limit`: writing a resource's files, reading them back, and reporting what
//! the kernel made of the value.

use std::path::PathBuf;

use nix::errno::Errno;

use crate::cgpath::Location;
use crate::cgroup::CgroupDir;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::layout::Version;
use crate::plan::{self, Files};
use crate::resource::{self, Resource, Value};
use crate::value::{self, Limit};

/// One file as written and as read back.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FileValue {
    pub file: &'static str,
    pub written: String,
    pub read: String,
    /// The kernel rounded or clamped the value.
    pub clamped: bool,
}

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

impl Files for CgroupDir {
    fn own(&self, file: &str) -> Option<String> {
        self.read_opt(file)
    }
    fn parent(&self, file: &str) -> Option<String> {
        CgroupDir::parent(self).ok()??.read_opt(file)
    }
}

/// Sets `val` for `res` on the existing cgroup `loc`, reads it back. On v2 the
/// resource's controller is enabled along the path first. A failed write restores
/// the files written before it.
pub fn apply(
    ctx: &Ctx,
    loc: &Location,
    res: Resource,
    val: &Value,
    requested: &str,
    force: bool,
) -> Result<Applied> {
    let hier = &ctx.layout.hierarchies[loc.hierarchy];
    let version = hier.version;
    if version == Version::V2 {
        let c = res.controller(version).to_string();
        crate::cgroup::v2::enable_controllers(hier, &loc.path, &[c], &mut Default::default())?;
    }
    let dir = CgroupDir::open(&loc.dir)?;
    let writes = plan::plan(res, val, version, force, &dir)?;
    let mut done: Vec<(&'static str, String)> = Vec::new();
    for w in &writes {
        let old = dir.read_opt(w.file);
        if let Err(e) = write_one(&dir, w.file, &w.value, res, version) {
            // Put back what this call changed, newest first.
            for (file, old) in done.iter().rev() {
                let _ = dir.write(file, old);
            }
            return Err(e);
        }
        if let Some(old) = old {
            done.push((w.file, restore_value(w.file, &old)));
        }
    }
    let mut out = Vec::new();
    for w in &writes {
        let read = dir.read(w.file)?.trim().to_string();
        out.push(FileValue {
            file: w.file,
            clamped: !plan::same_value(&w.value, &read),
            written: w.value.clone(),
            read,
        });
    }
    Ok(Applied {
        cgroup: loc.dir.clone(),
        resource: res,
        requested: requested.to_string(),
        effective: effective(&dir, res, version, &out),
        files: out,
    })
}

/// What to write to put back a value read from `file`.
fn restore_value(file: &str, old: &str) -> String {
    let old = old.trim();
    if file.ends_with("_in_bytes") && value::parse_kernel_limit(old) == Some(Limit::Max) {
        "-1".to_string()
    } else {
        old.to_string()
    }
}

fn write_one(
    dir: &CgroupDir,
    file: &'static str,
    v: &str,
    res: Resource,
    version: Version,
) -> Result<()> {
    match dir.write(file, v) {
        Ok(()) => Ok(()),
        Err(e) => {
            let errno = e.errno();
            let hint = match (errno, file) {
                (Some(Errno::EBUSY), "memory.limit_in_bytes" | "memory.memsw.limit_in_bytes") => {
                    let usage = dir.read_u64("memory.usage_in_bytes").unwrap_or(0);
                    format!(
                        " (the cgroup uses {} ({usage} bytes) and the kernel could not reclaim enough to go below {}; free memory or kill processes first)",
                        value::human(usage),
                        v
                    )
                }
                (Some(Errno::EINVAL), "memory.limit_in_bytes") => {
                    " (on v1 the memory limit cannot exceed memory.memsw.limit_in_bytes; raise swap first)".to_string()
                }
                (Some(Errno::EINVAL), f) if f.starts_with("cpu.cfs") || f == "cpu.max" => {
                    " (a quota must be at least 1000 µs, and on v1 no more CPUs than the parent allows)".to_string()
                }
                (Some(Errno::EINVAL | Errno::ENOSPC), "cpuset.cpus" | "cpuset.mems") => {
                    " (the parent cgroup does not have them all, or a child uses others)".to_string()
                }
                (Some(Errno::ENOENT), _) => format!(
                    " (the {} controller is not enabled on this cgroup)",
                    res.controller(version)
                ),
                _ => String::new(),
            };
            match e {
                Error::File {
                    op, path, source, ..
                } => Err(Error::File {
                    op,
                    path,
                    source,
                    hint: format!(" (writing '{v}'){hint}"),
                }),
                other => Err(other),
            }
        }
    }
}

/// The effective value in words, from what was read back.
fn effective(dir: &CgroupDir, res: Resource, version: Version, files: &[FileValue]) -> String {
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
                (Some(Limit::Value(s)), Some(Limit::Value(m))) => format!(
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
