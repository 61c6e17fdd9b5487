//! `cgctl freeze` / `cgctl thaw`: the v1 freezer and v2 `cgroup.freeze`.

use std::time::{Duration, Instant};

use crate::cgfs;
use crate::cgpath::Location;
use crate::error::{Error, Result};
use crate::layout::Version;

const PATIENCE: Duration = Duration::from_secs(10);

/// Freezes (`frozen`) or thaws the cgroup at `loc`, and waits until the kernel says so.
pub fn set(loc: &Location, version: Version, frozen: bool) -> Result<()> {
    cgfs::ensure_cgroupfs(&loc.dir)?;
    let deadline = Instant::now() + PATIENCE;
    let mut delay = Duration::from_micros(500);
    match version {
        Version::V1 => {
            let want = if frozen { "FROZEN" } else { "THAWED" };
            loop {
                // Writing again moves a FREEZING cgroup on (new tasks get frozen too).
                cgfs::write_unchecked(&loc.dir.join("freezer.state"), want)?;
                let state = cgfs::read(&loc.dir.join("freezer.state"))?;
                if state.trim() == want {
                    return Ok(());
                }
                if Instant::now() > deadline {
                    return Err(Error::Timeout(format!(
                        "{} is still {} after {}s",
                        loc.dir.display(),
                        state.trim(),
                        PATIENCE.as_secs()
                    )));
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(50));
            }
        }
        Version::V2 => {
            cgfs::write_unchecked(
                &loc.dir.join("cgroup.freeze"),
                if frozen { "1" } else { "0" },
            )?;
            let events = loc.dir.join("cgroup.events");
            loop {
                let now = cgfs::read_key(&events, "frozen").ok_or_else(|| Error::Parse {
                    path: events.clone(),
                    why: "no 'frozen' line".to_string(),
                })?;
                if (now == 1) == frozen {
                    return Ok(());
                }
                if Instant::now() > deadline {
                    return Err(Error::Timeout(format!(
                        "{} did not become {} within {}s",
                        loc.dir.display(),
                        if frozen { "frozen" } else { "thawed" },
                        PATIENCE.as_secs()
                    )));
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(50));
            }
        }
    }
}
