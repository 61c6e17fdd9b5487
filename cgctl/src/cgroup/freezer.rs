//! Freezing and thawing a cgroup and waiting until the kernel says it is done: the
//! v1 freezer controller ([`v1::freezer`]) or v2's `cgroup.freeze` ([`v2::freezer`]).

use std::path::Path;
use std::time::Duration;

use crate::cgroup::retry::{Backoff, Budget};
use crate::cgroup::{v1, v2, CgroupDir};
use crate::error::{Error, Result};
use crate::layout::Version;

const PATIENCE: Duration = Duration::from_secs(10);

/// One look at the freezer: there yet, or what state it is in meanwhile.
pub enum Step {
    Failed(Error),
    /// Not there yet: the state seen.
    Seen(String),
}

impl From<Error> for Step {
    fn from(e: Error) -> Step {
        Step::Failed(e)
    }
}

/// One look; Err(Step::Seen) while the kernel is not there yet.
type Poll<'a> = dyn Fn() -> std::result::Result<(), Step> + 'a;

/// Freezes (`frozen`) or thaws the cgroup `path`, and waits until the kernel says so.
pub fn set(path: &Path, version: Version, frozen: bool) -> Result<()> {
    let dir = CgroupDir::open(path)?;
    let (want, step): (&str, Box<Poll>) = match version {
        Version::V1 => {
            let want = v1::freezer::state(frozen);
            (want, Box::new(|| v1::freezer::step(&dir, frozen)))
        }
        Version::V2 => {
            v2::freezer::start(&dir, frozen)?;
            let want = if frozen { "frozen" } else { "thawed" };
            (want, Box::new(|| v2::freezer::step(&dir, frozen)))
        }
    };
    let polling = Backoff {
        first: Duration::from_micros(500),
        max_delay: Duration::from_millis(50),
        budget: Budget::For(PATIENCE),
    };
    match polling.retry(step, |s| matches!(s, Step::Seen(_))) {
        Ok(()) => Ok(()),
        Err(Step::Failed(e)) => Err(e),
        Err(Step::Seen(seen)) => Err(Error::Timeout(format!(
            "{} did not become {want} within {}s (it is {seen})",
            path.display(),
            PATIENCE.as_secs()
        ))),
    }
}
