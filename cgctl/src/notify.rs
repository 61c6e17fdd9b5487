//! Being told by the kernel when a cgroup's counters change, instead of polling: v2
//! `inotify` on `memory.events` and `cgroup.events`; v1 an `eventfd` registered through
//! `cgroup.event_control` for `memory.oom_control` (OOM) and for a `memory.usage_in_bytes`
//! threshold at the limit (limit hits).

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use crate::error::{Error, Result};
use crate::events::Sources;
use crate::layout::Version;

/// A v1 eventfd and what it reports.
struct V1Event {
    fd: EventFd,
    /// The cgroup it is about (index into the sources watched).
    source: usize,
    /// True for memory.oom_control (an OOM), false for the usage threshold.
    oom: bool,
}

/// The notifications for a set of cgroups.
pub struct Watcher {
    inotify: Inotify,
    v1: Vec<V1Event>,
}

/// What woke the watcher.
#[derive(Debug, Default)]
pub struct Woken {
    /// The sources whose v1 OOM eventfd fired (an OOM happened there).
    pub oom: Vec<usize>,
    /// Nothing happened before the timeout.
    pub timed_out: bool,
}

impl Watcher {
    /// Registers for changes of every cgroup in `sources`.
    pub fn new(sources: &[Sources]) -> Result<Watcher> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .map_err(|e| Error::sys("inotify_init1", e))?;
        let mut w = Watcher {
            inotify,
            v1: Vec::new(),
        };
        for (i, s) in sources.iter().enumerate() {
            let mut files = Vec::new();
            if let Some(dir) = &s.v2 {
                files.push(dir.join("cgroup.events"));
            }
            match &s.memory {
                Some((dir, Version::V2)) => files.push(dir.join("memory.events")),
                Some((dir, Version::V1)) => w.register_v1(i, dir)?,
                None => {}
            }
            for f in files {
                w.inotify
                    .add_watch(&f, AddWatchFlags::IN_MODIFY)
                    .map_err(|e| Error::sys(format!("inotify_add_watch {}", f.display()), e))?;
            }
        }
        Ok(w)
    }

    /// v1: an eventfd for OOM, and one for memory use crossing the limit.
    fn register_v1(&mut self, source: usize, dir: &Path) -> Result<()> {
        self.register(source, dir, "memory.oom_control", None)?;
        let limit = crate::cgfs::read_opt(&dir.join("memory.limit_in_bytes"))
            .and_then(|t| crate::value::parse_kernel_limit(&t));
        if let Some(crate::value::OrMax::Value(limit)) = limit {
            self.register(source, dir, "memory.usage_in_bytes", Some(limit))?;
        }
        Ok(())
    }

    fn register(
        &mut self,
        source: usize,
        dir: &Path,
        file: &str,
        threshold: Option<u64>,
    ) -> Result<()> {
        let fd = EventFd::from_flags(EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map_err(|e| Error::sys("eventfd", e))?;
        let target_path = dir.join(file);
        let target =
            std::fs::File::open(&target_path).map_err(|e| Error::file("open", &target_path, e))?;
        let mut line = format!("{} {}", fd.as_raw_fd(), target.as_raw_fd());
        if let Some(t) = threshold {
            line.push_str(&format!(" {t}"));
        }
        let control = dir.join("cgroup.event_control");
        OpenOptions::new()
            .write(true)
            .open(&control)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| Error::file("register an eventfd in", &control, e))?;
        self.v1.push(V1Event {
            fd,
            source,
            oom: threshold.is_none(),
        });
        Ok(())
    }

    /// Blocks until the kernel reports a change or `timeout` passes (None: forever).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Woken> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let left = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32)
                        .unwrap_or(PollTimeout::MAX)
                }
                None => PollTimeout::NONE,
            };
            let mut fds = vec![PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
            fds.extend(
                self.v1
                    .iter()
                    .map(|e| PollFd::new(e.fd.as_fd(), PollFlags::POLLIN)),
            );
            let n = match poll(&mut fds, left) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("poll on cgroup notifications", e)),
            };
            if n == 0 {
                return Ok(Woken {
                    oom: Vec::new(),
                    timed_out: true,
                });
            }
            let ready: Vec<bool> = fds.iter().map(|f| f.any().unwrap_or(false)).collect();
            drop(fds);
            let mut woken = Woken::default();
            if ready[0] {
                // Drained; which file changed does not matter: all are read again.
                while matches!(self.inotify.read_events(), Ok(ev) if !ev.is_empty()) {}
            }
            for (e, r) in self.v1.iter().zip(&ready[1..]) {
                if *r {
                    let _ = e.fd.read();
                    if e.oom && !woken.oom.contains(&e.source) {
                        woken.oom.push(e.source);
                    }
                }
            }
            return Ok(woken);
        }
    }
}

/// Time left until `deadline`, None for no deadline; Err(Timeout) once passed.
pub fn left(deadline: Option<Instant>, what: &str) -> Result<Option<Duration>> {
    match deadline {
        None => Ok(None),
        Some(d) => {
            let now = Instant::now();
            if now >= d {
                Err(Error::Timeout(what.to_string()))
            } else {
                Ok(Some(d - now))
            }
        }
    }
}
