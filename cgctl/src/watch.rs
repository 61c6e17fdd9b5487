//! `cgctl events` and `cgctl wait`: a cgroup's counters, their changes as the kernel
//! reports them, and waiting for one to happen.

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::events::{self, Counters, Kind, Sources};
use crate::layout::Version;
use crate::notify::{self, Watcher};

/// One event, as `events --follow` prints it.
#[derive(Debug, serde::Serialize)]
pub struct Event {
    /// Seconds since the epoch.
    pub time: f64,
    /// The same, as local time, for people.
    #[serde(skip)]
    pub time_text: String,
    pub cgroup: PathBuf,
    pub event: Kind,
    pub count: u64,
}

/// The counters of one cgroup, as `events` without `--follow` prints them.
#[derive(Debug, serde::Serialize)]
pub struct Snapshot {
    pub cgroup: PathBuf,
    #[serde(flatten)]
    pub counters: Counters,
}

/// Where the event files of cgroup `name` are, in the hierarchies it exists in.
pub fn sources(ctx: &Ctx, name: &str) -> Result<Sources> {
    let locs = crate::ops::locations(ctx, Some(name), &[])?;
    let layout = &ctx.layout;
    let in_hier = |h: Option<usize>| {
        let h = h?;
        locs.iter()
            .find(|l| l.hierarchy == h)
            .map(|l| l.dir.clone())
    };
    let memory = layout
        .hierarchy_for("memory")
        .and_then(|h| Some((in_hier(Some(h))?, layout.hierarchies[h].version)));
    let v2 = in_hier(layout.v2());
    let v1_freezer = layout
        .hierarchies
        .iter()
        .position(|h| h.version == Version::V1 && h.has("freezer"))
        .and_then(|h| in_hier(Some(h)));
    let shown = memory
        .as_ref()
        .map(|(d, _)| d.clone())
        .or_else(|| v2.clone())
        .or_else(|| locs.first().map(|l| l.dir.clone()))
        .ok_or_else(|| Error::NoCgroup {
            name: name.to_string(),
            detail: String::new(),
        })?;
    let v1_dirs = locs
        .iter()
        .filter(|l| layout.hierarchies[l.hierarchy].version == Version::V1)
        .map(|l| l.dir.clone())
        .collect();
    Ok(Sources {
        shown,
        memory,
        v2,
        v1_freezer,
        v1_dirs,
    })
}

/// `cgctl events` without `--follow`: the counters so far.
pub fn snapshot(ctx: &Ctx, names: &[String]) -> Result<Vec<Snapshot>> {
    let mut out = Vec::new();
    for n in names {
        let s = sources(ctx, n)?;
        let counters = s.read().ok_or_else(|| removed(&s))?;
        out.push(Snapshot {
            cgroup: s.shown,
            counters,
        });
    }
    Ok(out)
}

fn removed(s: &Sources) -> Error {
    Error::NoCgroup {
        name: s.shown.display().to_string(),
        detail: " (removed meanwhile)".to_string(),
    }
}

/// `cgctl events --follow`: calls `emit` for each event as the kernel reports it, until
/// every cgroup has been removed.
pub fn follow(
    ctx: &Ctx,
    names: &[String],
    mut emit: impl FnMut(&Event) -> Result<()>,
) -> Result<()> {
    let sources = names
        .iter()
        .map(|n| sources(ctx, n))
        .collect::<Result<Vec<_>>>()?;
    // Registered before the first reading, so that no change falls between the two.
    let mut watcher = Watcher::new(&sources)?;
    let mut last: Vec<Option<Counters>> = sources.iter().map(Sources::read).collect();
    while last.iter().any(Option::is_some) {
        let woken = watcher.wait(None)?;
        for (i, s) in sources.iter().enumerate() {
            let Some(before) = last[i] else {
                continue;
            };
            let now = s.read();
            let mut found = match &now {
                Some(after) => events::diff(&before, after),
                None => vec![(Kind::Removed, 1)],
            };
            // v1 counts no OOMs: the eventfd firing is one (it also fires when the
            // cgroup is removed, which is no OOM).
            let oom_seen = found
                .iter()
                .any(|(k, _)| matches!(k, Kind::Oom | Kind::Removed));
            if woken.oom.contains(&i) && !oom_seen {
                found.insert(0, (Kind::Oom, 1));
            }
            for (kind, count) in found {
                let (time, time_text) = events::now();
                emit(&Event {
                    time,
                    time_text,
                    cgroup: s.shown.clone(),
                    event: kind,
                    count,
                })?;
            }
            last[i] = now;
        }
    }
    Ok(())
}

/// What `cgctl wait` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    Empty,
    Oom,
    Frozen,
}

impl Until {
    fn words(self) -> &'static str {
        match self {
            Until::Empty => "to be empty",
            Until::Oom => "to see an OOM",
            Until::Frozen => "to be frozen",
        }
    }
}

/// `cgctl wait`.
#[derive(Debug)]
pub struct WaitRequest {
    pub cgroup: String,
    pub until: Until,
    pub timeout: Option<Duration>,
}

/// `cgctl wait`: returns once it happened; Err(Timeout) after the timeout.
pub fn wait(ctx: &Ctx, req: &WaitRequest) -> Result<()> {
    let s = sources(ctx, &req.cgroup)?;
    let deadline = req.timeout.map(|t| Instant::now() + t);
    let what = format!(
        "waited {} s for {} {}",
        req.timeout.map_or(0.0, |t| t.as_secs_f64()),
        s.shown.display(),
        req.until.words()
    );
    match req.until {
        // On a hybrid host, processes in its v1 cgroups are not in cgroup.events.
        Until::Empty if !s.v1_dirs.is_empty() => return wait_empty_v1(&s, deadline, &what),
        Until::Frozen if s.v2.is_none() => return wait_frozen_v1(&s, deadline, &what),
        Until::Oom if s.memory.is_none() => {
            return Err(Error::Unsupported(format!(
                "{} has no memory cgroup: nothing can tell of an OOM",
                s.shown.display()
            )))
        }
        _ => {}
    }
    let mut watcher = Watcher::new(std::slice::from_ref(&s))?;
    let start = s.read().ok_or_else(|| removed(&s))?;
    loop {
        let Some(now) = s.read() else {
            return match req.until {
                Until::Empty => Ok(()),
                _ => Err(removed(&s)),
            };
        };
        let done = match req.until {
            Until::Empty => now.populated == Some(false),
            Until::Frozen => now.frozen == Some(true),
            Until::Oom => now.oom_kill > start.oom_kill || now.oom > start.oom,
        };
        if done {
            return Ok(());
        }
        let woken = watcher.wait(notify::left(deadline, &what)?)?;
        // The v1 eventfd fires on an OOM, and also when the cgroup is removed.
        if req.until == Until::Oom && !woken.oom.is_empty() && s.read().is_some() {
            return Ok(());
        }
        if woken.timed_out {
            return Err(Error::Timeout(what));
        }
    }
}

/// v1 has no "populated" notification, but each process's pidfd says when it exits:
/// wait for those in the cgroup (and below, in every hierarchy) until none is left.
fn wait_empty_v1(s: &Sources, deadline: Option<Instant>, what: &str) -> Result<()> {
    let dirs: Vec<&PathBuf> = s.v1_dirs.iter().chain(&s.v2).collect();
    loop {
        let mut pids = Vec::new();
        for dir in &dirs {
            for d in crate::cgfs::walk(dir).unwrap_or_default() {
                pids.extend(crate::procs::pids_if_there(&d)?);
            }
        }
        if pids.is_empty() {
            return Ok(());
        }
        let fds: Vec<_> = pids
            .iter()
            .filter_map(|&p| nsproc::pidfd::open(p).ok().flatten())
            .collect();
        if fds.is_empty() {
            // Gone between the two readings, or no pidfds (before 5.3): look again soon.
            std::thread::sleep(Duration::from_millis(20));
            notify::left(deadline, what)?;
            continue;
        }
        let mut polled: Vec<_> = fds
            .iter()
            .map(|f| PollFd::new(f.as_fd(), PollFlags::POLLIN))
            .collect();
        let timeout = match notify::left(deadline, what)? {
            Some(t) => PollTimeout::try_from(t.as_millis().min(i32::MAX as u128) as i32)
                .unwrap_or(PollTimeout::MAX),
            None => PollTimeout::NONE,
        };
        let n = match poll(&mut polled, timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys("poll on pidfds", e)),
        };
        if n == 0 {
            return Err(Error::Timeout(what.to_string()));
        }
        if usize::try_from(n).is_ok_and(|n| n == polled.len()) {
            // All have exited but are still listed (zombies): give their parents a moment.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// v1 freezer.state changes without a notification: read it every 100 ms.
fn wait_frozen_v1(s: &Sources, deadline: Option<Instant>, what: &str) -> Result<()> {
    if s.v1_freezer.is_none() {
        return Err(Error::Unsupported(format!(
            "{} is in no freezer hierarchy",
            s.shown.display()
        )));
    }
    loop {
        match s.read() {
            Some(c) if c.frozen == Some(true) => return Ok(()),
            Some(_) => {}
            None => return Err(removed(s)),
        }
        let left = notify::left(deadline, what)?;
        std::thread::sleep(left.map_or(Duration::from_millis(100), |l| {
            l.min(Duration::from_millis(100))
        }));
    }
}
