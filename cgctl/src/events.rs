//! What happens to a cgroup: the counters of OOMs, OOM kills and limit hits, whether it
//! is populated and frozen, and the changes between two readings as events. Reading
//! is here; being told by the kernel when to read again is in [`crate::notify`].

use std::path::PathBuf;

use crate::cgfs::{find_key, read_opt, read_u64};
use crate::layout::Version;

/// The kinds of events `cgctl events` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The memory limit was reached and reclaim failed.
    Oom,
    /// Processes were killed by the OOM killer (count: how many).
    OomKill,
    /// The memory limit was hit (v2 memory.events max, v1 memory.failcnt).
    Max,
    /// memory.high was exceeded (v2).
    High,
    Populated,
    Empty,
    Frozen,
    Thawed,
    /// The cgroup was removed: nothing more will happen to it.
    Removed,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Oom => "oom",
            Kind::OomKill => "oom_kill",
            Kind::Max => "max",
            Kind::High => "high",
            Kind::Populated => "populated",
            Kind::Empty => "empty",
            Kind::Frozen => "frozen",
            Kind::Thawed => "thawed",
            Kind::Removed => "removed",
        })
    }
}

/// The counters and states of one cgroup at one time; None where the host has no file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    pub oom: Option<u64>,
    pub oom_kill: Option<u64>,
    pub max: Option<u64>,
    pub high: Option<u64>,
    pub populated: Option<bool>,
    pub frozen: Option<bool>,
}

/// The events between two readings: counter increases (with the increase) and state
/// changes (count 1).
pub fn diff(before: &Counters, after: &Counters) -> Vec<(Kind, u64)> {
    let mut out = Vec::new();
    let rise = |b: Option<u64>, a: Option<u64>| match (b, a) {
        (Some(b), Some(a)) if a > b => Some(a - b),
        (None, Some(a)) if a > 0 => Some(a),
        _ => None,
    };
    for (kind, b, a) in [
        (Kind::Oom, before.oom, after.oom),
        (Kind::OomKill, before.oom_kill, after.oom_kill),
        (Kind::Max, before.max, after.max),
        (Kind::High, before.high, after.high),
    ] {
        if let Some(n) = rise(b, a) {
            out.push((kind, n));
        }
    }
    let flip = |b: Option<bool>, a: Option<bool>, on, off| match (b, a) {
        (Some(b), Some(a)) if b != a => Some(if a { on } else { off }),
        _ => None,
    };
    out.extend(
        flip(
            before.populated,
            after.populated,
            Kind::Populated,
            Kind::Empty,
        )
        .map(|k| (k, 1)),
    );
    out.extend(flip(before.frozen, after.frozen, Kind::Frozen, Kind::Thawed).map(|k| (k, 1)));
    out
}

/// Where one cgroup's event files are: its memory cgroup (v1 or v2) and its cgroup2
/// cgroup (cgroup.events), which are the same directory on a v2 host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sources {
    /// How the cgroup is shown (its first directory).
    pub shown: PathBuf,
    pub memory: Option<(PathBuf, Version)>,
    pub v2: Option<PathBuf>,
    /// A v1 freezer cgroup (freezer.state; the kernel sends no notification for it).
    pub v1_freezer: Option<PathBuf>,
    /// Its directories in the v1 hierarchies (where processes may be, unseen by v2).
    pub v1_dirs: Vec<PathBuf>,
}

impl Sources {
    /// Reads the counters; None once the cgroup has been removed.
    pub fn read(&self) -> Option<Counters> {
        let mut c = Counters::default();
        let mut any = false;
        if let Some((dir, version)) = &self.memory {
            match version {
                Version::V2 => {
                    let text = read_opt(&dir.join("memory.events"))?;
                    c.oom = find_key(&text, "oom");
                    c.oom_kill = find_key(&text, "oom_kill");
                    c.max = find_key(&text, "max");
                    c.high = find_key(&text, "high");
                }
                Version::V1 => {
                    let text = read_opt(&dir.join("memory.oom_control"))?;
                    c.oom_kill = find_key(&text, "oom_kill");
                    c.max = read_u64(&dir.join("memory.failcnt"));
                }
            }
            any = true;
        }
        if let Some(dir) = &self.v2 {
            let text = read_opt(&dir.join("cgroup.events"))?;
            c.populated = find_key(&text, "populated").map(|n| n == 1);
            c.frozen = find_key(&text, "frozen").map(|n| n == 1);
            any = true;
        }
        if let Some(dir) = &self.v1_freezer {
            if c.frozen.is_none() {
                let state = read_opt(&dir.join("freezer.state"))?;
                c.frozen = Some(state.trim() == "FROZEN");
            }
            any = true;
        }
        any.then_some(c)
    }
}

/// The time now as seconds since the epoch, and as local `YYYY-MM-DDTHH:MM:SS.mmm`.
pub fn now() -> (f64, String) {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = t.as_secs() as libc::time_t;
    // SAFETY: localtime_r writes into the tm it is given and reads secs.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = !unsafe { libc::localtime_r(&secs, &mut tm) }.is_null();
    let text = if ok {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
            tm.tm_year + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec,
            t.subsec_millis()
        )
    } else {
        format!("{}.{:03}", t.as_secs(), t.subsec_millis())
    };
    (t.as_secs_f64(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increases_and_flips_are_events() {
        let before = Counters {
            oom: Some(0),
            oom_kill: Some(1),
            max: Some(10),
            high: Some(0),
            populated: Some(true),
            frozen: Some(false),
        };
        assert!(diff(&before, &before).is_empty());
        let after = Counters {
            oom: Some(1),
            oom_kill: Some(3),
            max: Some(15),
            populated: Some(false),
            frozen: Some(true),
            ..before
        };
        assert_eq!(
            diff(&before, &after),
            [
                (Kind::Oom, 1),
                (Kind::OomKill, 2),
                (Kind::Max, 5),
                (Kind::Empty, 1),
                (Kind::Frozen, 1)
            ]
        );
        assert_eq!(
            diff(&after, &before),
            [(Kind::Populated, 1), (Kind::Thawed, 1)]
        );
    }

    #[test]
    fn reads_v2_and_v1_files() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path();
        std::fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 2\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n",
        )
        .unwrap();
        std::fs::write(dir.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        let v2 = Sources {
            shown: dir.to_path_buf(),
            memory: Some((dir.to_path_buf(), Version::V2)),
            v2: Some(dir.to_path_buf()),
            v1_freezer: None,
            v1_dirs: Vec::new(),
        };
        let c = v2.read().unwrap();
        assert_eq!(
            (c.oom, c.oom_kill, c.max, c.high),
            (Some(1), Some(1), Some(7), Some(2))
        );
        assert_eq!((c.populated, c.frozen), (Some(true), Some(false)));
        std::fs::write(
            dir.join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n",
        )
        .unwrap();
        std::fs::write(dir.join("memory.failcnt"), "12\n").unwrap();
        let v1 = Sources {
            memory: Some((dir.to_path_buf(), Version::V1)),
            v2: None,
            ..v2
        };
        let c = v1.read().unwrap();
        assert_eq!((c.oom_kill, c.max, c.populated), (Some(4), Some(12), None));
        std::fs::remove_file(dir.join("memory.oom_control")).unwrap();
        assert_eq!(v1.read(), None, "removed");
    }

    #[test]
    fn time_has_a_date() {
        let (secs, text) = now();
        assert!(secs > 1e9);
        assert_eq!(text.len(), 23, "{text}");
    }
}
