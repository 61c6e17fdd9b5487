//! `cgctl rm`: removing cgroups bottom-up, refusing populated ones unless told to kill.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cgpath::Location;
use crate::cgroup::retry::{Backoff, Budget};
use crate::cgroup::CgroupDir;
use crate::error::{Error, Result};
use crate::procs;
use crate::subtree::Subtree;

/// How long to wait for killed processes to leave, and for EBUSY to clear.
const PATIENCE: Duration = Duration::from_secs(5);

/// Removes the cgroups at `locs` (with everything below, if `recursive`). Nothing is
/// removed if any of them has processes and `kill` is false, or has children and
/// `recursive` is false, or holds cgctl itself. Removal keeps going past errors and
/// reports them all; cgroups that someone else removes meanwhile count as removed.
pub fn remove(locs: &[Location], recursive: bool, kill_procs: bool) -> Result<()> {
    let me = std::process::id() as i32;
    let mut plans = Vec::new();
    for loc in locs {
        CgroupDir::open(&loc.dir)?;
        if loc.path == "/" || loc.dir.parent().is_none() {
            return Err(Error::Refused(format!(
                "{} is the root of its hierarchy and cannot be removed",
                loc.dir.display()
            )));
        }
        let tree = Subtree::scan(&loc.dir)?;
        if tree.descendants() > 0 && !recursive {
            return Err(Error::Refused(format!(
                "cannot remove {}: it has {} cgroup(s) below it (use -r to remove them too)",
                loc.dir.display(),
                tree.descendants()
            )));
        }
        if tree.pids.contains(&me) {
            return Err(Error::Refused(format!(
                "will not remove {}: cgctl itself (PID {me}) is in it",
                loc.dir.display()
            )));
        }
        if !tree.pids.is_empty() && !kill_procs {
            let shown: Vec<String> = tree.pids.iter().take(5).map(|p| p.to_string()).collect();
            return Err(Error::Refused(format!(
                "cannot remove {}: it still has {} process(es) (PID {}{}); use --kill to kill them, or move them out with 'cgctl add'",
                loc.dir.display(),
                tree.pids.len(),
                shown.join(", "),
                if tree.pids.len() > 5 { ", ..." } else { "" }
            )));
        }
        plans.push((loc.dir.clone(), tree));
    }
    let mut errors = Vec::new();
    for (dir, tree) in &plans {
        if !tree.pids.is_empty() {
            let dirs: Vec<PathBuf> = tree.dirs().map(Path::to_path_buf).collect();
            if let Err(e) = kill_all(dir, &dirs) {
                errors.push(e);
                continue;
            }
        }
        errors.extend(tree.remove(PATIENCE));
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Many(errors)),
    }
}

fn tree_pids(tree: &[PathBuf]) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    for d in tree {
        out.extend(procs::pids_if_there(d)?);
    }
    Ok(out)
}

/// Kills every process in `dir` and below: with `cgroup.kill` where the kernel has it
/// (v2, 5.14+), else SIGKILL to each PID until the cgroups are empty.
pub fn kill_all(dir: &Path, tree: &[PathBuf]) -> Result<()> {
    let cg = CgroupDir::open(dir)?;
    let start = Instant::now();
    // The kernel's cgroup.kill is asynchronous (a frozen task dies once thawed): give it
    // a moment before falling back to kill(2) on whatever is left.
    let kernel_kills_until = if cg.has("cgroup.kill") {
        cg.write("cgroup.kill", "1")?;
        start + Duration::from_secs(1)
    } else {
        start
    };
    let round = || -> std::result::Result<(), Left> {
        let pids = tree_pids(tree)?;
        if pids.is_empty() {
            return Ok(());
        }
        if Instant::now() >= kernel_kills_until {
            for &pid in &pids {
                match kill(Pid::from_raw(pid), Signal::SIGKILL) {
                    Ok(()) | Err(Errno::ESRCH) => {}
                    Err(e) => {
                        return Err(Left::Failed(Error::sys(
                            format!("cannot kill PID {pid} in {}", dir.display()),
                            e,
                        )))
                    }
                }
            }
        }
        Err(Left::Pids(pids))
    };
    let every_5ms = Backoff {
        first: Duration::from_millis(5),
        max_delay: Duration::from_millis(5),
        budget: Budget::For(PATIENCE),
    };
    match every_5ms.retry(round, |l| matches!(l, Left::Pids(_))) {
        Ok(()) => Ok(()),
        Err(Left::Failed(e)) => Err(e),
        Err(Left::Pids(pids)) => Err(Error::Timeout(format!(
            "{} still has {} process(es) after SIGKILL (PID {})",
            dir.display(),
            pids.len(),
            pids[0]
        ))),
    }
}

/// What is left after a round of [`kill_all`].
enum Left {
    Failed(Error),
    Pids(Vec<i32>),
}

impl From<Error> for Left {
    fn from(e: Error) -> Left {
        Left::Failed(e)
    }
}
