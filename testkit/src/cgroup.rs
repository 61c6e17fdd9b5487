//! A cgroup made below the test process's own cgroup, removed on drop.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A cgroup directory created below this process's own cgroup in one hierarchy.
pub struct CgroupGuard {
    path: PathBuf,
}

impl CgroupGuard {
    /// Creates `NAME` below this process's cgroup in the hierarchy mounted at `mount`
    /// (e.g. `/sys/fs/cgroup/memory` or `/sys/fs/cgroup/unified`).
    pub fn new(mount: &Path) -> Self {
        let own = own_cgroup(mount)
            .unwrap_or_else(|| panic!("this process has no cgroup in {}", mount.display()));
        let path = mount
            .join(own.trim_start_matches('/'))
            .join(crate::unique_name("nstools-test"));
        std::fs::create_dir(&path)
            .unwrap_or_else(|e| panic!("cannot create cgroup {}: {e}", path.display()));
        CgroupGuard { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        // Processes may take a moment to leave after they are killed; retry briefly.
        let deadline = Instant::now() + Duration::from_secs(5);
        while remove_tree(&self.path).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Removes a cgroup and the cgroups below it, deepest first.
fn remove_tree(path: &Path) -> std::io::Result<()> {
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path())?;
            }
        }
    }
    match std::fs::remove_dir(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// This process's cgroup path in the hierarchy mounted at `mount`, from /proc/self/cgroup.
pub fn own_cgroup(mount: &Path) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let magic = nix::sys::statfs::statfs(mount).ok()?.filesystem_type();
    let v2 = magic == nix::sys::statfs::CGROUP2_SUPER_MAGIC;
    let opts = super_options(mount)?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let matches = if v2 {
            id == "0" && controllers.is_empty()
        } else {
            !controllers.is_empty()
                && controllers
                    .split(',')
                    .all(|c| opts.split(',').any(|o| o == c))
        };
        matches.then(|| path.to_string())
    })
}

/// The super options of the filesystem mounted at `mount` (its controllers, for v1).
fn super_options(mount: &Path) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let target = mount.to_str()?;
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (left.split(' ').nth(4)? == target)
            .then(|| right.split(' ').nth(2).unwrap_or("").to_string())
    })
}
