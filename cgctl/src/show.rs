//! `cgctl show`: limits and usage of a cgroup, gathered from the files of each
//! hierarchy it is in.

use std::path::{Path, PathBuf};

use crate::cgfs::{read_key, read_opt, read_u64};
use crate::cgpath::Location;
use crate::layout::{Layout, Version};
use crate::resource::shares_to_weight;
use crate::value::{human, human_limit, parse_kernel_limit, OrMax};

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub cgroups: Vec<Place>,
    pub processes: usize,
    pub memory: Option<Memory>,
    pub cpu: Option<Cpu>,
    pub pids: Option<Pids>,
    pub cpuset: Option<Cpuset>,
    pub freezer: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Place {
    pub hierarchy: String,
    pub path: String,
    pub dir: PathBuf,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Memory {
    pub current: Option<u64>,
    pub peak: Option<u64>,
    pub limit: Option<OrMax<u64>>,
    pub high: Option<OrMax<u64>>,
    pub swap_current: Option<u64>,
    pub swap_limit: Option<OrMax<u64>>,
    pub oom_kills: Option<u64>,
    /// v1: how often the limit was hit.
    pub failcnt: Option<u64>,
    /// v2 memory.events "max": how often the limit was hit.
    pub max_events: Option<u64>,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Cpu {
    pub usage_usec: Option<u64>,
    pub quota_usec: Option<OrMax<u64>>,
    pub period_usec: Option<u64>,
    pub weight: Option<u64>,
    pub shares: Option<u64>,
    pub throttled_periods: Option<u64>,
}

#[derive(Debug, serde::Serialize)]
pub struct Pids {
    pub current: Option<u64>,
    pub max: Option<OrMax<u64>>,
}

#[derive(Debug, serde::Serialize)]
pub struct Cpuset {
    pub cpus: String,
    pub mems: String,
    pub effective_cpus: Option<String>,
    pub effective_mems: Option<String>,
}

fn limit(p: &Path) -> Option<OrMax<u64>> {
    parse_kernel_limit(&read_opt(p)?)
}

/// Gathers the report for a cgroup found at `locs`.
pub fn gather(layout: &Layout, locs: &[Location]) -> Report {
    let mut r = Report::default();
    let find = |c: &str| {
        let h = layout.hierarchy_for(c)?;
        locs.iter().find(|l| l.hierarchy == h)
    };
    for l in locs {
        r.cgroups.push(Place {
            hierarchy: layout.hierarchies[l.hierarchy].label(),
            path: l.path.clone(),
            dir: l.dir.clone(),
        });
    }
    // Count in the most specific cgroup (a PID's root-level v1 cgroups hold everyone).
    r.processes = locs
        .iter()
        .max_by_key(|l| l.path.len())
        .and_then(|l| crate::procs::pids(&l.dir).ok())
        .map_or(0, |p| p.len());
    if let Some(l) = find("memory") {
        r.memory = Some(memory(&l.dir, layout.hierarchies[l.hierarchy].version));
    }
    let cpu = find("cpu");
    let cpuacct = find("cpuacct");
    if cpu.is_some() || cpuacct.is_some() {
        let mut c = Cpu::default();
        if let Some(l) = cpu {
            let d = &l.dir;
            match layout.hierarchies[l.hierarchy].version {
                Version::V2 => {
                    c.usage_usec = read_key(&d.join("cpu.stat"), "usage_usec");
                    c.throttled_periods = read_key(&d.join("cpu.stat"), "nr_throttled");
                    if let Some(max) = read_opt(&d.join("cpu.max")) {
                        let mut it = max.split_whitespace();
                        c.quota_usec = it.next().and_then(parse_kernel_limit);
                        c.period_usec = it.next().and_then(|p| p.parse().ok());
                    }
                    c.weight = read_u64(&d.join("cpu.weight"));
                }
                Version::V1 => {
                    c.quota_usec = limit(&d.join("cpu.cfs_quota_us"));
                    c.period_usec = read_u64(&d.join("cpu.cfs_period_us"));
                    c.shares = read_u64(&d.join("cpu.shares"));
                    c.weight = c.shares.map(shares_to_weight);
                    c.throttled_periods = read_key(&d.join("cpu.stat"), "nr_throttled");
                }
            }
        }
        if c.usage_usec.is_none() {
            if let Some(l) = cpuacct {
                c.usage_usec = read_u64(&l.dir.join("cpuacct.usage")).map(|ns| ns / 1000);
            }
        }
        r.cpu = Some(c);
    }
    if let Some(l) = find("pids") {
        r.pids = Some(Pids {
            current: read_u64(&l.dir.join("pids.current")),
            max: limit(&l.dir.join("pids.max")),
        });
    }
    if let Some(l) = find("cpuset") {
        let d = &l.dir;
        let get = |f: &str| read_opt(&d.join(f)).map(|s| s.trim().to_string());
        let (effective_cpus, effective_mems) = match layout.hierarchies[l.hierarchy].version {
            Version::V1 => ("cpuset.effective_cpus", "cpuset.effective_mems"),
            Version::V2 => ("cpuset.cpus.effective", "cpuset.mems.effective"),
        };
        r.cpuset = Some(Cpuset {
            cpus: get("cpuset.cpus").unwrap_or_default(),
            mems: get("cpuset.mems").unwrap_or_default(),
            effective_cpus: get(effective_cpus),
            effective_mems: get(effective_mems),
        });
    }
    let v1_freezer =
        find("freezer").filter(|l| layout.hierarchies[l.hierarchy].version == Version::V1);
    if let Some(l) = v1_freezer {
        r.freezer = read_opt(&l.dir.join("freezer.state")).map(|s| s.trim().to_string());
    } else if let Some(l) = locs
        .iter()
        .find(|l| layout.hierarchies[l.hierarchy].version == Version::V2)
    {
        r.freezer = read_key(&l.dir.join("cgroup.events"), "frozen")
            .map(|f| if f == 1 { "FROZEN" } else { "THAWED" }.to_string());
    }
    r
}

fn memory(d: &Path, version: Version) -> Memory {
    match version {
        Version::V2 => Memory {
            current: read_u64(&d.join("memory.current")),
            peak: read_u64(&d.join("memory.peak")),
            limit: limit(&d.join("memory.max")),
            high: limit(&d.join("memory.high")),
            swap_current: read_u64(&d.join("memory.swap.current")),
            swap_limit: limit(&d.join("memory.swap.max")),
            oom_kills: read_key(&d.join("memory.events"), "oom_kill"),
            failcnt: None,
            max_events: read_key(&d.join("memory.events"), "max"),
        },
        Version::V1 => {
            let current = read_u64(&d.join("memory.usage_in_bytes"));
            let mem_limit = limit(&d.join("memory.limit_in_bytes"));
            let memsw_usage = read_u64(&d.join("memory.memsw.usage_in_bytes"));
            let memsw_limit = limit(&d.join("memory.memsw.limit_in_bytes"));
            Memory {
                current,
                peak: read_u64(&d.join("memory.max_usage_in_bytes")),
                limit: mem_limit,
                high: limit(&d.join("memory.soft_limit_in_bytes")),
                swap_current: memsw_usage.zip(current).map(|(s, m)| s.saturating_sub(m)),
                swap_limit: match (memsw_limit, mem_limit) {
                    (Some(OrMax::Value(s)), Some(OrMax::Value(m))) => {
                        Some(OrMax::Value(s.saturating_sub(m)))
                    }
                    (Some(_), _) => Some(OrMax::Max),
                    _ => None,
                },
                oom_kills: read_key(&d.join("memory.oom_control"), "oom_kill"),
                failcnt: read_u64(&d.join("memory.failcnt")),
                max_events: None,
            }
        }
    }
}

fn opt_human(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), human)
}

fn opt_limit(v: Option<OrMax<u64>>) -> String {
    v.map_or_else(|| "-".to_string(), human_limit)
}

impl Report {
    /// The report for people, one topic a line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for p in &self.cgroups {
            out.push_str(&format!(
                "cgroup     {} {} ({})\n",
                p.hierarchy,
                p.path,
                p.dir.display()
            ));
        }
        out.push_str(&format!("processes  {}\n", self.processes));
        if let Some(m) = &self.memory {
            out.push_str(&format!(
                "memory     current {}, peak {}, limit {}, high {}\n",
                opt_human(m.current),
                opt_human(m.peak),
                opt_limit(m.limit),
                opt_limit(m.high)
            ));
            out.push_str(&format!(
                "swap       current {}, limit {}\n",
                opt_human(m.swap_current),
                opt_limit(m.swap_limit)
            ));
            let hits = m
                .failcnt
                .or(m.max_events)
                .map_or("-".to_string(), |n| n.to_string());
            let ooms = m.oom_kills.map_or("-".to_string(), |n| n.to_string());
            out.push_str(&format!(
                "oom        {ooms} kill(s), limit hit {hits} time(s)\n"
            ));
        }
        if let Some(c) = &self.cpu {
            let used = c
                .usage_usec
                .map_or("-".to_string(), |u| format!("{:.3} s", u as f64 / 1e6));
            let quota = match (c.quota_usec, c.period_usec) {
                (Some(OrMax::Value(q)), Some(p)) if p > 0 => {
                    format!(
                        "{} CPUs ({q}/{p} µs)",
                        (q as f64 / p as f64 * 1000.0).round() / 1000.0
                    )
                }
                (Some(OrMax::Max), _) => "max".to_string(),
                _ => "-".to_string(),
            };
            let weight = match (c.weight, c.shares) {
                (Some(w), Some(s)) => format!("{w} (cpu.shares {s})"),
                (Some(w), None) => w.to_string(),
                _ => "-".to_string(),
            };
            out.push_str(&format!(
                "cpu        used {used}, quota {quota}, weight {weight}\n"
            ));
        }
        if let Some(p) = &self.pids {
            out.push_str(&format!(
                "pids       current {}, max {}\n",
                p.current.map_or("-".to_string(), |n| n.to_string()),
                p.max.map_or("-".to_string(), |m| m.to_string())
            ));
        }
        if let Some(c) = &self.cpuset {
            out.push_str(&format!(
                "cpuset     cpus {}, mems {}\n",
                dash(&c.cpus),
                dash(&c.mems)
            ));
        }
        if let Some(f) = &self.freezer {
            out.push_str(&format!("freezer    {f}\n"));
        }
        out
    }
}

fn dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}
