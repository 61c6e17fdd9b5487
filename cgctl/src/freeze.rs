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
    match version {
        Version::V1 => {
            let want = if frozen { "FROZEN" } else { "THAWED" };
            let file = loc.dir.join("freezer.state");
            wait(loc, want, || {
                // Writing again moves a FREEZING cgroup on (new tasks get frozen too).
                cgfs::write_unchecked(&file, want)?;
                let state = cgfs::read(&file)?;
                Ok((state.trim() == want)
                    .then_some(())
                    .ok_or(state.trim().to_string()))
            })
        }
        Version::V2 => {
            cgfs::write_unchecked(
                &loc.dir.join("cgroup.freeze"),
                if frozen { "1" } else { "0" },
            )?;
            let events = loc.dir.join("cgroup.events");
            let want = if frozen { "frozen" } else { "thawed" };
            wait(loc, want, || {
                let now = cgfs::read_key(&events, "frozen").ok_or_else(|| Error::Parse {
                    path: events.clone(),
                    why: "no 'frozen' line".to_string(),
                })?;
                Ok(if (now == 1) == frozen {
                    Ok(())
                } else {
                    Err(format!("frozen {now}"))
                })
            })
        }
    }
}

/// Polls `step` with backoff until it reports Ok, for up to [`PATIENCE`]; `step`
/// returns the state it saw when not there yet.
fn wait(
    loc: &Location,
    want: &str,
    mut step: impl FnMut() -> Result<std::result::Result<(), String>>,
) -> Result<()> {
    let deadline = Instant::now() + PATIENCE;
    let mut delay = Duration::from_micros(500);
    loop {
        let seen = match step()? {
            Ok(()) => return Ok(()),
            Err(seen) => seen,
        };
        if Instant::now() > deadline {
            return Err(Error::Timeout(format!(
                "{} did not become {want} within {}s (it is {seen})",
                loc.dir.display(),
                PATIENCE.as_secs()
            )));
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(50));
    }
}
