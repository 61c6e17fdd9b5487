//! `cgctl show`: limits and usage of a cgroup, gathered from the files of each
//! hierarchy it is in.

use std::path::{Path, PathBuf};

use crate::cgfs::{read_key, read_opt, read_u64};
use crate::cgpath::Location;
use crate::layout::{Layout, Version};
use crate::psi::{self, Pressure, Psi};
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
    /// memory.pressure, cpu.pressure, io.pressure of the cgroup2 cgroup.
    pub pressure: Option<Pressure>,
    /// Why there are no pressure figures, when there are none.
    pub pressure_unavailable: Option<String>,
    /// For a PID: the sections (`memory`, `cpu`, `pids`, `pressure`) left out because
    /// the process is in the root cgroup there, whose figures are the whole host's.
    pub root_left_out: Vec<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct Place {
    pub hierarchy: String,
    pub path: String,
    pub dir: PathBuf,
    /// The hierarchy's root cgroup (the whole host, for a PID that sits there).
    pub root: bool,
    /// The systemd unit the cgroup belongs to, from its path (`cgctl-1.scope`).
    pub unit: Option<String>,
}

/// Whether a cgroup path is its hierarchy's root.
pub fn is_root(path: &str) -> bool {
    path.trim_matches('/').is_empty()
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

/// Gathers the report for a cgroup found at `locs`. `for_pid`: the locations are a
/// process's cgroups, and a root cgroup's usage (the host's) is left out, not shown as
/// the process's.
pub fn gather(layout: &Layout, locs: &[Location], for_pid: bool) -> Report {
    let mut r = Report::default();
    let mut left_out = Vec::new();
    let mut find = |c: &str, section: &str| {
        let h = layout.hierarchy_for(c)?;
        let l = locs.iter().find(|l| l.hierarchy == h)?;
        if for_pid && is_root(&l.path) {
            if !left_out.iter().any(|s| s == section) {
                left_out.push(section.to_string());
            }
            return None;
        }
        Some(l)
    };
    for l in locs {
        r.cgroups.push(Place {
            hierarchy: layout.hierarchies[l.hierarchy].label(),
            path: l.path.clone(),
            dir: l.dir.clone(),
            root: is_root(&l.path),
            unit: crate::systemd::detect::unit_of(&l.path).map(str::to_string),
        });
    }
    // Count in the most specific cgroup (a PID's root-level v1 cgroups hold everyone).
    r.processes = locs
        .iter()
        .max_by_key(|l| l.path.len())
        .and_then(|l| crate::procs::pids(&l.dir).ok())
        .map_or(0, |p| p.len());
    if let Some(l) = find("memory", "memory") {
        r.memory = Some(memory(&l.dir, layout.hierarchies[l.hierarchy].version));
    }
    let cpu = find("cpu", "cpu");
    let cpuacct = find("cpuacct", "cpu");
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
    if let Some(l) = find("pids", "pids") {
        r.pids = Some(Pids {
            current: read_u64(&l.dir.join("pids.current")),
            max: limit(&l.dir.join("pids.max")),
        });
    }
    let cpuset = layout
        .hierarchy_for("cpuset")
        .and_then(|h| locs.iter().find(|l| l.hierarchy == h));
    if let Some(l) = cpuset {
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
    let v1_freezer = layout
        .hierarchy_for("freezer")
        .and_then(|h| locs.iter().find(|l| l.hierarchy == h))
        .filter(|l| layout.hierarchies[l.hierarchy].version == Version::V1);
    if let Some(l) = v1_freezer {
        r.freezer = read_opt(&l.dir.join("freezer.state")).map(|s| s.trim().to_string());
    } else if let Some(l) = locs
        .iter()
        .find(|l| layout.hierarchies[l.hierarchy].version == Version::V2)
    {
        r.freezer = read_key(&l.dir.join("cgroup.events"), "frozen")
            .map(|f| if f == 1 { "FROZEN" } else { "THAWED" }.to_string());
    }
    let v2 = locs
        .iter()
        .find(|l| layout.hierarchies[l.hierarchy].version == Version::V2);
    match v2 {
        Some(l) if for_pid && is_root(&l.path) => left_out.push("pressure".to_string()),
        Some(l) => match psi::read(&l.dir) {
            Some(p) => r.pressure = Some(p),
            None => r.pressure_unavailable = Some(psi::why_missing(&l.dir)),
        },
        None => r.pressure_unavailable = Some(match layout.v2() {
            None => "no cgroup2 hierarchy is mounted (a v1-only host); PSI per cgroup needs cgroup2".to_string(),
            Some(_) => "the cgroup is not in the cgroup2 hierarchy ('unified'), the only one with pressure files (create it there too with -c unified)".to_string(),
        }),
    }
    r.root_left_out = left_out;
    r
}

pub fn memory(d: &Path, version: Version) -> Memory {
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
                "cgroup     {} {} ({}){}\n",
                p.hierarchy,
                p.path,
                p.dir.display(),
                if p.root { ", the root cgroup" } else { "" }
            ));
        }
        let mut units: Vec<&str> = Vec::new();
        for u in self.cgroups.iter().filter_map(|p| p.unit.as_deref()) {
            if !units.contains(&u) {
                units.push(u);
            }
        }
        if !units.is_empty() {
            out.push_str(&format!("unit       {}\n", units.join(", ")));
        }
        if !self.root_left_out.is_empty() {
            out.push_str(&format!(
                "note       {} left out: the process is in the root cgroup there, whose figures are the whole host's\n",
                self.root_left_out.join(", ")
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
        if let Some(p) = &self.pressure {
            out.push_str("pressure   stalled % avg10/avg60/avg300, total stall time\n");
            for (name, psi) in [("memory", p.memory), ("cpu", p.cpu), ("io", p.io)] {
                if let Some(psi) = psi {
                    out.push_str(&format!("  {name:<8} {}\n", render_psi(&psi)));
                }
            }
        } else if let Some(why) = &self.pressure_unavailable {
            out.push_str(&format!("pressure   not available: {why}\n"));
        }
        out
    }
}

fn render_psi(psi: &Psi) -> String {
    let line = |kind: &str, s: Option<crate::psi::Stall>| {
        s.map(|s| {
            format!(
                "{kind} {:.2}/{:.2}/{:.2} {:.3} s",
                s.avg10,
                s.avg60,
                s.avg300,
                s.total as f64 / 1e6
            )
        })
    };
    [line("some", psi.some), line("full", psi.full)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

fn dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(hierarchy: &str, path: &str) -> Place {
        Place {
            hierarchy: hierarchy.to_string(),
            path: path.to_string(),
            dir: PathBuf::from("/sys/fs/cgroup").join(path.trim_start_matches('/')),
            root: is_root(path),
            unit: crate::systemd::detect::unit_of(path).map(str::to_string),
        }
    }

    #[test]
    fn the_unit_is_named_once_and_only_when_there_is_one() {
        let mut r = Report {
            cgroups: vec![place("unified", "/system.slice/cgctl-7.scope/sub")],
            ..Report::default()
        };
        assert!(
            r.render().contains("\nunit       cgctl-7.scope\n"),
            "{}",
            r.render()
        );
        r.cgroups
            .push(place("name=systemd", "/system.slice/cgctl-7.scope/sub"));
        assert_eq!(r.render().matches("unit ").count(), 1, "{}", r.render());
        r.cgroups = vec![place("memory", "/box/web")];
        assert!(!r.render().contains("unit "), "{}", r.render());
    }
}
