//! Cgroups made below the test process's own cgroup, removed on drop, and the facts
//! tests check against: mounts and /proc/PID/cgroup.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A mounted cgroup hierarchy.
#[derive(Clone, Debug)]
pub struct CgroupMount {
    pub mount_point: PathBuf,
    /// cgroup2 rather than a v1 hierarchy.
    pub v2: bool,
    /// The super options: for v1, the controllers (and `name=`).
    pub options: String,
}

impl CgroupMount {
    /// Whether this hierarchy holds `controller`; "unified" names the cgroup2 hierarchy.
    pub fn holds(&self, controller: &str) -> bool {
        if controller == "unified" {
            self.v2
        } else {
            !self.v2 && self.options.split(',').any(|o| o == controller)
        }
    }

    /// Whether a line of /proc/PID/cgroup (`ID:CONTROLLERS:PATH`) is for this hierarchy;
    /// its path if so.
    fn path_in<'a>(&self, line: &'a str) -> Option<&'a str> {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let hit = if self.v2 {
            controllers.is_empty()
        } else {
            !controllers.is_empty()
                && controllers
                    .split(',')
                    .all(|c| self.options.split(',').any(|o| o == c))
        };
        hit.then_some(path)
    }
}

/// Every cgroup and cgroup2 mount of this mount namespace, from /proc/self/mountinfo.
pub fn cgroup_mounts() -> Vec<CgroupMount> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split(' ').nth(4)?;
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let options = right.nth(1).unwrap_or("");
            matches!(fstype, "cgroup" | "cgroup2").then(|| CgroupMount {
                mount_point: PathBuf::from(mount_point),
                v2: fstype == "cgroup2",
                options: options.to_string(),
            })
        })
        .collect()
}

/// The hierarchy holding `controller` ("unified" for cgroup2).
pub fn cgroup_mount_of(controller: &str) -> Option<CgroupMount> {
    cgroup_mounts().into_iter().find(|m| m.holds(controller))
}

/// The cgroup of `pid` in the hierarchy holding `controller`, from /proc/PID/cgroup.
pub fn cgroup_of(pid: i32, controller: &str) -> Option<String> {
    let mount = cgroup_mount_of(controller)?;
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    text.lines()
        .find_map(|l| mount.path_in(l))
        .map(str::to_string)
}

/// This process's cgroup path in the hierarchy mounted at `mount`.
pub fn own_cgroup(mount: &Path) -> Option<String> {
    let mount = cgroup_mounts()
        .into_iter()
        .find(|m| m.mount_point == mount)?;
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines()
        .find_map(|l| mount.path_in(l))
        .map(str::to_string)
}

/// A cgroup directory created below this process's own cgroup in one hierarchy.
pub struct CgroupGuard {
    path: PathBuf,
}

impl CgroupGuard {
    /// Creates a uniquely named cgroup below this process's cgroup in the hierarchy
    /// mounted at `mount` (e.g. `/sys/fs/cgroup/memory` or `/sys/fs/cgroup/unified`).
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
        remove_tree_patiently(&self.path);
    }
}

/// A unique name for cgroups below this process's own cgroup, in every hierarchy (what a
/// tool's `--root self` resolves to). Nothing is created; on drop, whatever exists under
/// the name is removed, deepest first, in every hierarchy.
pub struct CgroupScope {
    pub name: String,
}

impl CgroupScope {
    pub fn new() -> Self {
        CgroupScope {
            name: crate::unique_name("nstools-test"),
        }
    }

    /// `NAME/rest`.
    pub fn sub(&self, rest: &str) -> String {
        format!("{}/{rest}", self.name)
    }

    /// The scope's directory in each hierarchy this process has a cgroup in.
    pub fn dirs(&self) -> Vec<PathBuf> {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        cgroup_mounts()
            .iter()
            .filter_map(|m| {
                let path = own.lines().find_map(|l| m.path_in(l))?;
                Some(
                    m.mount_point
                        .join(path.trim_start_matches('/'))
                        .join(&self.name),
                )
            })
            .collect()
    }
}

impl Default for CgroupScope {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for CgroupScope {
    fn drop(&mut self) {
        for dir in self.dirs() {
            if dir.exists() {
                remove_tree_patiently(&dir);
            }
        }
    }
}

/// Removes a cgroup tree, retrying for a while: killed processes take a moment to leave.
fn remove_tree_patiently(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while remove_tree(path).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
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
