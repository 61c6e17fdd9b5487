//! Carrying out a write plan: each file written in order, put back as it was if a
//! later write fails, then read back to see what the kernel made of it.

use crate::cgroup::CgroupDir;
use crate::error::{Error, Result};
use crate::layout::Version;
use crate::resource::Resource;
use crate::value::{self, OrMax};

use nix::errno::Errno;

/// One write to a cgroup file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    pub file: &'static str,
    pub value: String,
}

/// A write of `value` to `file`.
pub fn w(file: &'static str, value: impl Into<String>) -> Write {
    Write {
        file,
        value: value.into(),
    }
}

/// One file as written and as read back.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FileValue {
    pub file: &'static str,
    pub written: String,
    pub read: String,
    /// The kernel rounded or clamped the value.
    pub clamped: bool,
}

/// Writes `writes` (a plan for `res`) in order, then reads every file back. Returns
/// the files as read back and the [`Restore`] that puts their old values back: if a
/// write or a read fails, that happens at once; else when the caller drops it without
/// [`Restore::keep`] (a later step of the command failed).
pub fn apply_plan(
    dir: &CgroupDir,
    writes: &[Write],
    res: Resource,
    version: Version,
) -> Result<(Vec<FileValue>, Restore)> {
    let mut restore = Restore {
        dir: dir.try_clone()?,
        old: Vec::new(),
    };
    for w in writes {
        let old = dir.read_opt(w.file);
        write_one(dir, w.file, &w.value, res, version)?;
        if let Some(old) = old {
            restore.old.push((w.file, restore_value(w.file, &old)));
        }
    }
    let mut out = Vec::new();
    for w in writes {
        let read = dir.read(w.file)?.trim().to_string();
        out.push(FileValue {
            file: w.file,
            clamped: !same_value(&w.value, &read),
            written: w.value.clone(),
            read,
        });
    }
    Ok((out, restore))
}

/// Files of one cgroup written by this call, with their old values: put back, newest
/// first, when dropped unless [`Restore::keep`] was called. A file that cannot be put
/// back is reported on stderr, and the others still are.
#[derive(Debug)]
pub struct Restore {
    dir: CgroupDir,
    old: Vec<(&'static str, String)>,
}

impl Restore {
    /// The command succeeded: leave the new values.
    pub fn keep(mut self) {
        self.old.clear();
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        while let Some((file, old)) = self.old.pop() {
            if let Err(e) = self.dir.write(file, &old) {
                nscli::report::error("cgctl", &format!("cannot put back {file}: {e}"));
            }
        }
    }
}

/// What to write to put back a value read from `file`.
fn restore_value(file: &str, old: &str) -> String {
    let old = old.trim();
    if file.ends_with("_in_bytes") && value::parse_kernel_limit(old) == Some(OrMax::Max) {
        "-1".to_string()
    } else {
        old.to_string()
    }
}

/// Writes one file; a failure says what was written and, where the errno tells, why
/// the kernel refused.
fn write_one(
    dir: &CgroupDir,
    file: &'static str,
    v: &str,
    res: Resource,
    version: Version,
) -> Result<()> {
    let e = match dir.write(file, v) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let hint = match (e.errno(), file) {
        (Some(Errno::EBUSY), "memory.limit_in_bytes" | "memory.memsw.limit_in_bytes") => {
            let usage = dir.read_u64("memory.usage_in_bytes").unwrap_or(0);
            format!(
                " (the cgroup uses {} ({usage} bytes) and the kernel could not reclaim enough to go below {}; free memory or kill processes first)",
                value::human(usage),
                v
            )
        }
        (Some(Errno::EINVAL), "memory.limit_in_bytes") => {
            " (on v1 the memory limit cannot exceed memory.memsw.limit_in_bytes; raise swap first)"
                .to_string()
        }
        (Some(Errno::EINVAL), f) if f.starts_with("cpu.cfs") || f == "cpu.max" => {
            " (a quota must be at least 1000 µs, and on v1 no more CPUs than the parent allows)"
                .to_string()
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
    use crate::cgroup::testdir::cgroup;

    #[test]
    fn read_back_comparison() {
        assert!(same_value("-1", "9223372036854771712"));
        assert!(same_value("max", "max\n"));
        assert!(same_value("0-1", "0,1"));
        assert!(!same_value("104857601", "104857600"));
        assert!(same_value("50000 100000", "50000 100000\n"));
    }

    #[test]
    fn writes_in_order_and_reads_back() {
        let cg = cgroup(&[("pids.max", "max\n"), ("cpu.max", "max 100000\n")], &[]);
        let (out, restore) = apply_plan(
            &cg.dir,
            &[w("pids.max", "64"), w("cpu.max", "50000 100000")],
            Resource::Pids,
            Version::V2,
        )
        .unwrap();
        restore.keep();
        assert_eq!(cg.file("pids.max"), "64");
        assert_eq!(out[1].read, "50000 100000");
        assert!(out.iter().all(|f| !f.clamped));
    }

    #[test]
    fn what_reads_back_differently_is_clamped() {
        // The second write stands in for the kernel rounding the first.
        let cg = cgroup(&[("pids.max", "max\n")], &[]);
        let (out, restore) = apply_plan(
            &cg.dir,
            &[w("pids.max", "64"), w("pids.max", "32")],
            Resource::Pids,
            Version::V2,
        )
        .unwrap();
        restore.keep();
        assert!(out[0].clamped, "{:?}", out[0]);
        assert_eq!(
            (out[0].written.as_str(), out[0].read.as_str()),
            ("64", "32")
        );
        assert!(!out[1].clamped);
    }

    #[test]
    fn a_failed_write_puts_back_the_ones_before() {
        // v1 cpu: the period is written, then the quota file is missing
        let cg = cgroup(&[("cpu.cfs_period_us", "100000\n")], &[]);
        let err = apply_plan(
            &cg.dir,
            &[
                w("cpu.cfs_period_us", "20000"),
                w("cpu.cfs_quota_us", "10000"),
            ],
            Resource::Cpu,
            Version::V1,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("cpu.cfs_quota_us"), "{msg}");
        assert!(msg.contains("(writing '10000')"), "{msg}");
        assert!(msg.contains("the cpu controller is not enabled"), "{msg}");
        assert_eq!(cg.file("cpu.cfs_period_us"), "100000");
    }

    #[test]
    fn a_restore_not_kept_puts_back_the_old_values_newest_first() {
        let cg = cgroup(&[("pids.max", "max\n"), ("cpu.max", "max 100000\n")], &[]);
        let writes = [w("pids.max", "64"), w("cpu.max", "50000 100000")];
        let (_, restore) = apply_plan(&cg.dir, &writes, Resource::Pids, Version::V2).unwrap();
        assert_eq!(cg.file("pids.max"), "64");
        drop(restore);
        assert_eq!(cg.file("pids.max"), "max");
        assert_eq!(cg.file("cpu.max"), "max 100000");
        // the same file twice: the oldest value wins
        let writes = [w("pids.max", "64"), w("pids.max", "32")];
        drop(apply_plan(&cg.dir, &writes, Resource::Pids, Version::V2).unwrap());
        assert_eq!(cg.file("pids.max"), "max");
    }

    #[test]
    fn unlimited_v1_bytes_are_put_back_as_minus_one() {
        assert_eq!(
            restore_value("memory.limit_in_bytes", "9223372036854771712\n"),
            "-1"
        );
        assert_eq!(restore_value("cpu.max", "max 100000\n"), "max 100000");
    }
}
