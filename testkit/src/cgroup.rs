//! Cgroups made below the test process's own cgroup, removed on drop, and the facts
//! tests check against: mounts and /proc/PID/cgroup.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nsproc::cgroup::Membership;

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

    /// The path of the line of /proc/PID/cgroup that is for this hierarchy, if any.
    fn path_in<'a>(&self, cgroups: &'a [Membership]) -> Option<&'a str> {
        cgroups
            .iter()
            .find(|m| {
                if self.v2 {
                    m.controllers.is_empty()
                } else {
                    !m.controllers.is_empty()
                        && m.controllers
                            .iter()
                            .all(|c| self.options.split(',').any(|o| o == c))
                }
            })
            .map(|m| m.path.as_str())
    }
}

/// Every cgroup and cgroup2 mount of this mount namespace, from /proc/self/mountinfo.
pub fn cgroup_mounts() -> Vec<CgroupMount> {
    let text = std::fs::read("/proc/self/mountinfo").unwrap_or_default();
    nsproc::mountinfo::cgroup_mounts(&text)
        .map(|m| CgroupMount {
            v2: m.fstype == "cgroup2",
            mount_point: m.mount_point,
            options: m.super_options,
        })
        .collect()
}

/// /proc/PID/cgroup of `pid` ("self" for this process), parsed; empty if unreadable.
fn cgroups_of(pid: &str) -> Vec<Membership> {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .ok()
        .and_then(|text| nsproc::cgroup::parse(&text).ok())
        .unwrap_or_default()
}

/// The kind of cgroup host, read from the mounts (apart from the tools under test).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupLayout {
    /// Controllers on v1 hierarchies only.
    V1,
    /// Controllers on v1 hierarchies, and a cgroup2 hierarchy (`/sys/fs/cgroup/unified`).
    Hybrid,
    /// Controllers on cgroup2 only; v1 mounts, if any, are named ones (`name=NAME`).
    V2,
}

impl std::fmt::Display for CgroupLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CgroupLayout::V1 => "v1",
            CgroupLayout::Hybrid => "hybrid",
            CgroupLayout::V2 => "v2",
        })
    }
}

/// The v1 controllers the kernel knows.
const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "blkio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

fn layout_of(mounts: &[CgroupMount]) -> Option<CgroupLayout> {
    let v1 = mounts
        .iter()
        .any(|m| !m.v2 && m.options.split(',').any(|o| V1_CONTROLLERS.contains(&o)));
    let v2 = mounts.iter().any(|m| m.v2);
    match (v1, v2) {
        (true, true) => Some(CgroupLayout::Hybrid),
        (true, false) => Some(CgroupLayout::V1),
        (false, true) => Some(CgroupLayout::V2),
        (false, false) => None,
    }
}

/// This host's cgroup layout, from /proc/self/mountinfo (None: no cgroup is mounted).
pub fn cgroup_layout() -> Option<CgroupLayout> {
    layout_of(&cgroup_mounts())
}

/// Whether a test that applies only to `layouts` may go on. Otherwise it is skipped with
/// a note on stderr saying why (also under `CI=true`: it does not apply here, and the
/// lane of the other layout runs it). A lane that knows its layout says so in
/// `NSTOOLS_CGROUP_LAYOUT` (`v1`, `hybrid`, `v2`); if the mounts say otherwise, the test
/// fails rather than skip what the lane is there to run.
pub fn cgroup_layout_is(layouts: &[CgroupLayout], why: &str) -> bool {
    let here = cgroup_layout();
    if let Ok(expected) = std::env::var("NSTOOLS_CGROUP_LAYOUT") {
        let seen = here.map_or_else(|| "none".to_string(), |l| l.to_string());
        assert_eq!(
            seen, expected,
            "NSTOOLS_CGROUP_LAYOUT says {expected}, the mounts say {seen}"
        );
    }
    if here.is_some_and(|l| layouts.contains(&l)) {
        return true;
    }
    let want: Vec<String> = layouts.iter().map(ToString::to_string).collect();
    // Straight to the process's stderr, past libtest's capture, so that a skip shows
    // in the test output although the test reports "ok".
    let note = format!(
        "skipped: {}: {why}; this applies to {} hosts, and this one is {}\n",
        std::thread::current().name().unwrap_or("a test"),
        want.join("/"),
        here.map_or_else(|| "without cgroups".to_string(), |l| l.to_string())
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    false
}

/// The hierarchy holding `controller` ("unified" for cgroup2). On a v2-only host every
/// controller is on cgroup2, and so are what v1 had as controllers of their own
/// (`freezer`: cgroup.freeze; `cpuacct`: cpu.stat).
pub fn cgroup_mount_of(controller: &str) -> Option<CgroupMount> {
    let mounts = cgroup_mounts();
    if let Some(m) = mounts.iter().find(|m| m.holds(controller)) {
        return Some(m.clone());
    }
    if layout_of(&mounts) == Some(CgroupLayout::V2) && !controller.starts_with("name=") {
        return mounts.into_iter().find(|m| m.v2);
    }
    None
}

/// The cgroup of `pid` in the hierarchy holding `controller`, from /proc/PID/cgroup.
pub fn cgroup_of(pid: i32, controller: &str) -> Option<String> {
    let mount = cgroup_mount_of(controller)?;
    mount
        .path_in(&cgroups_of(&pid.to_string()))
        .map(str::to_string)
}

/// This process's home cgroup path in the hierarchy mounted at `mount` (see [`cgroup_home`]).
pub fn own_cgroup(mount: &Path) -> Option<String> {
    let mount = cgroup_mounts()
        .into_iter()
        .find(|m| m.mount_point == mount)?;
    mount.path_in(cgroup_home()).map(str::to_string)
}

/// The prefix of the leaf [`cgroup_home`] moves the test process into.
const LEAF_PREFIX: &str = "nstools-leaf-";

/// The cgroups tests make theirs below: this process's cgroups as they were when first
/// asked. On cgroup v2 (controllers there, not in the root cgroup, which is exempt) the
/// home cgroup holds this very process, so v2's "no internal processes" rule would
/// forbid enabling controllers for the cgroups below it: the first call moves this
/// process into a leaf of its own below its home (`nstools-leaf-PID`, never anywhere
/// above), so that home holds no process of the tests, and enables home's controllers
/// for it, so that this process keeps the controllers it had. A leaf cannot be removed while
/// the process is in it; the empty leaves of earlier runs are removed instead. Nothing
/// moves on v1 or hybrid hosts, or where the move is not allowed.
pub fn cgroup_home() -> &'static [Membership] {
    static HOME: std::sync::OnceLock<Vec<Membership>> = std::sync::OnceLock::new();
    HOME.get_or_init(|| {
        let own = cgroups_of("self");
        let mounts = cgroup_mounts();
        if layout_of(&mounts) == Some(CgroupLayout::V2) {
            let v2 = mounts.iter().find(|m| m.v2);
            if let Some(dir) =
                v2.and_then(|m| Some(m.mount_point.join(m.path_in(&own)?.trim_start_matches('/'))))
            {
                move_to_leaf(&dir);
            }
        }
        own
    })
}

/// Moves this process into `DIR/nstools-leaf-PID` unless DIR is the root cgroup;
/// leaves of earlier runs that are empty are removed first.
fn move_to_leaf(dir: &Path) {
    if !dir.join("cgroup.type").exists() {
        return; // the root cgroup has no cgroup.type, and no rule to keep
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(LEAF_PREFIX) {
                // Fails (and the leaf stays) while a process is in it.
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
    let leaf = dir.join(format!("{LEAF_PREFIX}{}", std::process::id()));
    if std::fs::create_dir(&leaf).is_err() {
        return;
    }
    let moved = std::fs::write(leaf.join("cgroup.procs"), std::process::id().to_string());
    if let Err(e) = moved {
        let _ = std::fs::remove_dir(&leaf);
        let note = format!(
            "testkit: cannot move the tests into {}: {e}\n",
            leaf.display()
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
        return;
    }
    // The leaf gets the controllers home had, as this process had them there (each on
    // its own: one the kernel refuses does not keep the others out).
    let available = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    for c in available.split_whitespace() {
        let _ = std::fs::write(dir.join("cgroup.subtree_control"), format!("+{c}"));
    }
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
        cgroup_home();
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
        let own = cgroup_home();
        cgroup_mounts()
            .iter()
            .filter_map(|m| {
                let path = m.path_in(own)?;
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

/// One absolute cgroup path below this process's own cgroup in every hierarchy, for
/// programs that take a single path for all of them (`podman --cgroup-parent`,
/// `ctr run --cgroup`): this process's deepest cgroup joined with a unique name. Nothing
/// is created; on drop, whatever exists at the path is removed in every hierarchy. In a
/// hierarchy where this process sits higher, the program creates the parents too: those
/// missing while any guard lives are removed when the last guard drops.
pub struct CgroupParent {
    /// The path, e.g. `/a/b/nstools-test-1-2`.
    pub path: String,
    /// The path's directory in each hierarchy.
    dirs: Vec<PathBuf>,
}

/// The live [`CgroupParent`]s, and the parents that were missing when one was made.
static PARENTS: std::sync::Mutex<(usize, Vec<PathBuf>)> = std::sync::Mutex::new((0, Vec::new()));

impl CgroupParent {
    /// The path below the deepest of this process's cgroups; None when those are not
    /// all on one line (no single path is below every one of them).
    pub fn new() -> Option<Self> {
        let own = cgroup_home();
        let mounts = cgroup_mounts();
        let paths: Vec<(&CgroupMount, &str)> = mounts
            .iter()
            .filter_map(|m| Some((m, m.path_in(own)?)))
            .collect();
        let deepest = paths.iter().map(|(_, p)| *p).max_by_key(|p| p.len())?;
        let below = |base: &str, path: &str| {
            base == "/" || path == base || path.starts_with(&format!("{base}/"))
        };
        if !paths.iter().all(|(_, p)| below(p, deepest)) {
            return None;
        }
        let path = format!(
            "{}/{}",
            deepest.trim_end_matches('/'),
            crate::unique_name("nstools-test")
        );
        let dirs: Vec<PathBuf> = paths
            .iter()
            .map(|(m, _)| m.mount_point.join(path.trim_start_matches('/')))
            .collect();
        let mut parents = PARENTS.lock().unwrap_or_else(|e| e.into_inner());
        parents.0 += 1;
        for dir in &dirs {
            let missing = dir.ancestors().skip(1).take_while(|a| !a.exists()).last();
            if let Some(top) = missing {
                if !parents.1.iter().any(|p| p == top) {
                    parents.1.push(top.to_path_buf());
                }
            }
        }
        Some(CgroupParent { path, dirs })
    }

    /// `PATH/rest`.
    pub fn sub(&self, rest: &str) -> String {
        format!("{}/{rest}", self.path)
    }
}

impl Drop for CgroupParent {
    fn drop(&mut self) {
        for dir in &self.dirs {
            if dir.exists() {
                remove_tree_patiently(dir);
            }
        }
        let mut parents = PARENTS.lock().unwrap_or_else(|e| e.into_inner());
        parents.0 -= 1;
        if parents.0 == 0 {
            for top in std::mem::take(&mut parents.1) {
                if top.exists() {
                    remove_tree_patiently(&top);
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The path is below this process's cgroup in every hierarchy, and what a program made
    /// there (parents included) is gone after the drop.
    #[test]
    fn cgroup_parent_is_below_every_own_cgroup_and_removed() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let Some(parent) = CgroupParent::new() else {
            return;
        };
        let own = cgroup_home();
        let mounts = cgroup_mounts();
        let made: Vec<PathBuf> = mounts
            .iter()
            .filter_map(|m| {
                let base = m.path_in(own)?;
                assert!(
                    base == "/" || parent.path.starts_with(&format!("{base}/")),
                    "{} is not below {base}",
                    parent.path
                );
                Some(
                    m.mount_point
                        .join(parent.sub("a/b").trim_start_matches('/')),
                )
            })
            .collect();
        for dir in &made {
            std::fs::create_dir_all(dir).expect("create a cgroup below the parent");
        }
        let tops = parent.dirs.clone();
        drop(parent);
        for dir in tops {
            assert!(!dir.exists(), "{} is left", dir.display());
        }
    }
}
