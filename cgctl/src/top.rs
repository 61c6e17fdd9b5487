//! `cgctl top`'s figures: each cgroup below a cgroup, its files read in every hierarchy
//! it exists in and merged into one row, and the rates between two readings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::cgfs::{read_key, read_opt, read_u64};
use crate::cgpath::Location;
use crate::layout::{join_cgroup, strip_cgroup_prefix, Layout, Version};
use crate::value::{parse_kernel_limit, OrMax};

/// A cgroup (by hierarchy path) and its directory in each hierarchy it exists in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub path: String,
    pub dirs: Vec<(usize, PathBuf)>,
}

/// The cgroups at and below `tops` (one location per hierarchy), at most `depth`
/// levels down, merged across hierarchies by their path below the root they were named
/// under (`--root`: the same cgroup may sit at different paths in each hierarchy);
/// sorted by that path.
pub fn groups(tops: &[Location], depth: Option<usize>) -> Vec<Group> {
    let mut by_path: BTreeMap<String, Vec<(usize, PathBuf)>> = BTreeMap::new();
    for top in tops {
        let start = strip_cgroup_prefix(&top.path, &top.base)
            .map_or_else(|| top.path.clone(), |rel| join_cgroup("/", rel));
        let mut level = vec![(start, top.dir.clone())];
        let mut d = 0;
        while !level.is_empty() {
            let mut next = Vec::new();
            for (path, dir) in level {
                if depth.is_none_or(|max| d < max) {
                    for child in crate::cgfs::children(&dir).unwrap_or_default() {
                        let name = child
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        next.push((join_cgroup(&path, &name), child));
                    }
                }
                by_path.entry(path).or_default().push((top.hierarchy, dir));
            }
            level = next;
            d += 1;
        }
    }
    by_path
        .into_iter()
        .map(|(path, dirs)| Group { path, dirs })
        .collect()
}

/// The counters of one cgroup at one time, None where the host has none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub processes: usize,
    pub cpu_usec: Option<u64>,
    pub memory_current: Option<u64>,
    pub memory_limit: Option<OrMax<u64>>,
    pub memory_peak: Option<u64>,
    pub swap_current: Option<u64>,
    pub pids_current: Option<u64>,
    pub pids_max: Option<OrMax<u64>>,
    pub io_read: Option<u64>,
    pub io_write: Option<u64>,
    pub memory_pressure: Option<f64>,
    pub cpu_pressure: Option<f64>,
    /// The systemd unit the cgroup belongs to, from its path.
    pub unit: Option<String>,
}

/// Reads a cgroup's files in each of its hierarchies.
pub fn sample(layout: &Layout, g: &Group) -> Sample {
    let dir = |controller: &str| {
        let h = layout.hierarchy_for(controller)?;
        let (_, d) = g.dirs.iter().find(|(x, _)| *x == h)?;
        Some((d, layout.hierarchies[h].version))
    };
    let mut s = Sample {
        processes: g
            .dirs
            .iter()
            .map(|(_, d)| crate::procs::pids_if_there(d).map_or(0, |p| p.len()))
            .max()
            .unwrap_or(0),
        unit: g
            .dirs
            .iter()
            .find_map(|(_, d)| layout.locate(d))
            .and_then(|(_, p)| crate::systemd::detect::unit_of(&p).map(str::to_string)),
        ..Sample::default()
    };
    s.cpu_usec = match dir("cpuacct") {
        Some((d, Version::V1)) => read_u64(&d.join("cpuacct.usage")).map(|ns| ns / 1000),
        Some((d, Version::V2)) => read_key(&d.join("cpu.stat"), "usage_usec"),
        None => None,
    };
    if let Some((d, version)) = dir("memory") {
        let m = crate::show::memory(d, version);
        s.memory_current = m.current;
        s.memory_limit = m.limit;
        s.memory_peak = m.peak;
        s.swap_current = m.swap_current;
    }
    if let Some((d, _)) = dir("pids") {
        s.pids_current = read_u64(&d.join("pids.current"));
        s.pids_max = read_opt(&d.join("pids.max")).and_then(|t| parse_kernel_limit(&t));
    }
    let io = match (dir("io"), dir("blkio")) {
        (Some((d, Version::V2)), _) => read_opt(&d.join("io.stat")).map(|t| io_v2(&t)),
        (_, Some((d, Version::V1))) => {
            read_opt(&d.join("blkio.throttle.io_service_bytes_recursive"))
                .or_else(|| read_opt(&d.join("blkio.throttle.io_service_bytes")))
                .map(|t| io_v1(&t))
        }
        _ => None,
    };
    if let Some((r, w)) = io {
        s.io_read = Some(r);
        s.io_write = Some(w);
    }
    if let Some((_, d)) = g
        .dirs
        .iter()
        .find(|(h, _)| layout.hierarchies[*h].version == Version::V2)
    {
        if let Some(p) = crate::psi::read(d) {
            let avg10 = |psi: Option<crate::psi::Psi>| psi?.some.map(|s| s.avg10);
            s.memory_pressure = avg10(p.memory);
            s.cpu_pressure = avg10(p.cpu);
        }
    }
    s
}

/// Bytes read and written, from v2 io.stat (`MAJ:MIN rbytes=N wbytes=N ...` a device).
pub fn io_v2(text: &str) -> (u64, u64) {
    let (mut r, mut w) = (0u64, 0u64);
    for field in text.split_whitespace() {
        match field.split_once('=') {
            Some(("rbytes", n)) => r = r.saturating_add(n.parse().unwrap_or(0)),
            Some(("wbytes", n)) => w = w.saturating_add(n.parse().unwrap_or(0)),
            _ => {}
        }
    }
    (r, w)
}

/// Bytes read and written, from v1 blkio.throttle.io_service_bytes (`MAJ:MIN Read N`).
pub fn io_v1(text: &str) -> (u64, u64) {
    let (mut r, mut w) = (0u64, 0u64);
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(_dev), Some(op), Some(n)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let n: u64 = n.parse().unwrap_or(0);
        match op {
            "Read" => r = r.saturating_add(n),
            "Write" => w = w.saturating_add(n),
            _ => {}
        }
    }
    (r, w)
}

/// One row of `top`: a sample, and the rates since the one before.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    pub path: String,
    pub processes: usize,
    /// CPU time used over the interval, in % of one CPU.
    pub cpu_percent: Option<f64>,
    pub memory_current: Option<u64>,
    pub memory_limit: Option<OrMax<u64>>,
    pub memory_peak: Option<u64>,
    pub swap_current: Option<u64>,
    pub pids_current: Option<u64>,
    pub pids_max: Option<OrMax<u64>>,
    pub io_read_bps: Option<f64>,
    pub io_write_bps: Option<f64>,
    /// PSI `some avg10` of memory.pressure and cpu.pressure, in %.
    pub memory_pressure: Option<f64>,
    pub cpu_pressure: Option<f64>,
    /// The systemd unit the cgroup belongs to, from its path.
    pub unit: Option<String>,
}

/// The row of `now`, with rates against `before` (taken `secs` seconds earlier).
pub fn row(path: &str, before: Option<&Sample>, now: &Sample, secs: f64) -> Row {
    let rate = |b: Option<u64>, n: Option<u64>| {
        let (b, n) = (b?, n?);
        (secs > 0.0).then(|| n.saturating_sub(b) as f64 / secs)
    };
    let before = before.cloned().unwrap_or_default();
    Row {
        path: path.to_string(),
        processes: now.processes,
        cpu_percent: rate(before.cpu_usec, now.cpu_usec).map(|us| us / 1e6 * 100.0),
        memory_current: now.memory_current,
        memory_limit: now.memory_limit,
        memory_peak: now.memory_peak,
        swap_current: now.swap_current,
        pids_current: now.pids_current,
        pids_max: now.pids_max,
        io_read_bps: rate(before.io_read, now.io_read),
        io_write_bps: rate(before.io_write, now.io_write),
        memory_pressure: now.memory_pressure,
        cpu_pressure: now.cpu_pressure,
        unit: now.unit.clone(),
    }
}

/// How `top` orders its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    Cpu,
    Mem,
    Io,
    Pids,
    Name,
}

/// Sorts rows: the biggest first (by name for `name` and among equals).
pub fn sort(rows: &mut [Row], by: SortBy) {
    let key = |r: &Row| -> f64 {
        match by {
            SortBy::Cpu => r.cpu_percent.unwrap_or(-1.0),
            SortBy::Mem => r.memory_current.map_or(-1.0, |m| m as f64),
            SortBy::Io => match (r.io_read_bps, r.io_write_bps) {
                (None, None) => -1.0,
                (a, b) => a.unwrap_or(0.0) + b.unwrap_or(0.0),
            },
            SortBy::Pids => r.pids_current.map_or(r.processes as f64, |p| p as f64),
            SortBy::Name => 0.0,
        }
    };
    rows.sort_by(|a, b| {
        key(b)
            .partial_cmp(&key(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.path.cmp(&b.path))
    });
}

/// Samples of every group, with when they were taken.
pub struct Reading {
    pub at: Instant,
    pub samples: BTreeMap<String, Sample>,
}

/// Reads every group below `tops` now.
pub fn read(layout: &Layout, tops: &[Location], depth: Option<usize>) -> Reading {
    let samples = groups(tops, depth)
        .iter()
        .map(|g| (g.path.clone(), sample(layout, g)))
        .collect();
    Reading {
        at: Instant::now(),
        samples,
    }
}

/// The rows of `now`, rates against `before`, sorted.
pub fn rows(before: &Reading, now: &Reading, by: SortBy) -> Vec<Row> {
    let secs = now.at.duration_since(before.at).as_secs_f64();
    let mut out: Vec<Row> = now
        .samples
        .iter()
        .map(|(path, s)| row(path, before.samples.get(path), s, secs))
        .collect();
    sort(&mut out, by);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_files_parse() {
        assert_eq!(
            io_v2("8:0 rbytes=100 wbytes=20 rios=1 wios=1\n8:16 rbytes=5 wbytes=0\n"),
            (105, 20)
        );
        assert_eq!(
            io_v1("8:0 Read 100\n8:0 Write 30\n8:0 Sync 1\n8:16 Read 1\nTotal 131\n"),
            (101, 30)
        );
        assert_eq!(io_v1(""), (0, 0));
    }

    #[test]
    fn rates_from_two_samples() {
        let before = Sample {
            cpu_usec: Some(1_000_000),
            io_read: Some(0),
            io_write: Some(10),
            ..Sample::default()
        };
        let now = Sample {
            processes: 2,
            cpu_usec: Some(1_500_000),
            io_read: Some(4096),
            io_write: Some(10),
            memory_current: Some(5),
            ..Sample::default()
        };
        let r = row("/a", Some(&before), &now, 2.0);
        assert_eq!(r.cpu_percent, Some(25.0));
        assert_eq!(r.io_read_bps, Some(2048.0));
        assert_eq!(r.io_write_bps, Some(0.0));
        assert_eq!(r.processes, 2);
        // the first reading of a cgroup has no rates
        let r = row("/a", None, &now, 2.0);
        assert_eq!(r.cpu_percent, None);
    }

    #[test]
    fn sorting() {
        let mk = |path: &str, cpu: Option<f64>, mem: Option<u64>| Row {
            cpu_percent: cpu,
            memory_current: mem,
            ..row(path, None, &Sample::default(), 1.0)
        };
        let mut rows = vec![
            mk("/b", Some(1.0), Some(9)),
            mk("/a", Some(50.0), None),
            mk("/c", None, Some(10)),
        ];
        sort(&mut rows, SortBy::Cpu);
        let paths: Vec<_> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b", "/c"]);
        sort(&mut rows, SortBy::Mem);
        let paths: Vec<_> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/c", "/b", "/a"]);
        sort(&mut rows, SortBy::Name);
        let paths: Vec<_> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b", "/c"]);
    }

    #[test]
    fn groups_merge_hierarchies_and_stop_at_the_depth() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(a.path().join("x/y")).unwrap();
        std::fs::create_dir_all(b.path().join("x")).unwrap();
        // the same cgroup at different paths in two hierarchies (--root self)
        let loc = |h, path: &str, base: &str, dir: &std::path::Path| Location {
            hierarchy: h,
            path: path.to_string(),
            dir: dir.to_path_buf(),
            base: base.to_string(),
        };
        let tops = [
            loc(0, "/t", "/", a.path()),
            loc(1, "/me/t", "/me", b.path()),
        ];
        let all = groups(&tops, None);
        let paths: Vec<_> = all.iter().map(|g| g.path.as_str()).collect();
        assert_eq!(paths, ["/t", "/t/x", "/t/x/y"]);
        assert_eq!(all[1].dirs.len(), 2, "x is in both hierarchies");
        assert_eq!(groups(&tops, Some(1)).len(), 2);
        assert_eq!(groups(&tops, Some(0)).len(), 1);
    }
}
