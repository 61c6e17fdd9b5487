//! The cgroup layout of this host: which hierarchies are mounted where, with which
//! controllers, and whether that makes it a v1, hybrid or v2 host.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use nsproc::cgroup::Membership;
use nsproc::mountinfo::{self, Mount};

/// The kind of host, from what is mounted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Only v1 hierarchies with controllers.
    V1,
    /// v1 controllers plus a cgroup2 hierarchy (usually at /sys/fs/cgroup/unified).
    Hybrid,
    /// Controllers are on cgroup2; v1 mounts, if any, are named ones without controllers.
    V2,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::V1 => "v1",
            Mode::Hybrid => "hybrid",
            Mode::V2 => "v2",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    V1,
    V2,
}

/// Where a hierarchy is visible: the cgroup path `root` of it is mounted on `mount_point`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MountPoint {
    pub root: String,
    pub mount_point: PathBuf,
}

/// One cgroup hierarchy (one superblock), possibly mounted in several places.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Hierarchy {
    pub version: Version,
    /// v1: the controllers bound to it; v2: the root's `cgroup.controllers`.
    pub controllers: Vec<String>,
    /// v1 `name=` option.
    pub name: Option<String>,
    /// `major:minor` from mountinfo.
    #[serde(skip)]
    pub dev: String,
    pub mounts: Vec<MountPoint>,
}

/// The controllers of cgroup v2 (Documentation/admin-guide/cgroup-v2.rst), enabled
/// through `cgroup.subtree_control`.
pub const V2_CONTROLLERS: &[&str] = &[
    "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc",
];

/// What v1 has as controllers of their own and v2 has in every cgroup, with nothing to
/// enable: `freezer` (cgroup.freeze), `cpuacct` (cpu.stat), `devices` (BPF programs),
/// `perf_event` (always on).
pub const V2_BUILTIN: &[&str] = &["freezer", "cpuacct", "devices", "perf_event"];

/// Mount options of v1 cgroupfs that are not controllers.
const V1_NON_CONTROLLER_OPTIONS: &[&str] = &[
    "rw",
    "ro",
    "none",
    "all",
    "noprefix",
    "xattr",
    "clone_children",
    "cpuset_v2_mode",
    "favordynmods",
    "nofavordynmods",
];

impl Hierarchy {
    /// A short label: `cpu,cpuacct`, `name=systemd`, `unified`.
    pub fn label(&self) -> String {
        match self.version {
            Version::V2 => "unified".to_string(),
            Version::V1 => self.tags().join(","),
        }
    }

    /// The controllers and `name=NAME`, as /proc/PID/cgroup lists them (sorted).
    pub fn tags(&self) -> Vec<String> {
        let mut tags = self.controllers.clone();
        if let Some(name) = &self.name {
            tags.push(format!("name={name}"));
        }
        tags.sort();
        tags
    }

    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
            || self
                .name
                .as_deref()
                .is_some_and(|n| controller.strip_prefix("name=") == Some(n))
    }

    /// Whether this /proc/PID/cgroup line is about this hierarchy.
    pub fn matches(&self, m: &Membership) -> bool {
        match self.version {
            Version::V2 => m.is_v2(),
            Version::V1 => {
                let mut theirs = m.controllers.clone();
                theirs.sort();
                !m.is_v2() && theirs == self.tags()
            }
        }
    }

    /// The directory of the cgroup at hierarchy path `path` (`/a/b`), through the first
    /// mount whose root contains it.
    pub fn dir_of(&self, path: &str) -> Option<PathBuf> {
        self.mounts.iter().find_map(|m| {
            let rest = strip_cgroup_prefix(path, &m.root)?;
            Some(if rest.is_empty() {
                m.mount_point.clone()
            } else {
                m.mount_point.join(rest)
            })
        })
    }

    /// The main mount point.
    pub fn mount_point(&self) -> &Path {
        self.mounts
            .first()
            .map(|m| m.mount_point.as_path())
            .unwrap_or(Path::new("/"))
    }
}

/// `path` below `root` (both absolute cgroup paths), without a leading slash; None if
/// `path` is not at or below `root`.
pub fn strip_cgroup_prefix<'a>(path: &'a str, root: &str) -> Option<&'a str> {
    let root = root.trim_end_matches('/');
    let rest = path.strip_prefix(root)?;
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix('/').map(|r| r.trim_end_matches('/'))
}

/// The cgroup mounts of this host.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Layout {
    pub mode: Mode,
    pub hierarchies: Vec<Hierarchy>,
}

impl Layout {
    /// Reads `/proc/self/mountinfo` and checks each mount's statfs magic.
    pub fn detect() -> Result<Layout> {
        let path = "/proc/self/mountinfo";
        let text = std::fs::read(path).map_err(|e| Error::file("read", path, e))?;
        let mounts = mountinfo::cgroup_mounts(&text)
            .filter(magic_matches)
            .collect::<Vec<_>>();
        Layout::from_mounts(&mounts, |dir| {
            std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default()
        })
    }

    /// Builds the layout from cgroup mounts; `v2_controllers` reads the
    /// `cgroup.controllers` file of a v2 mount point.
    pub fn from_mounts(
        mounts: &[Mount],
        v2_controllers: impl Fn(&Path) -> String,
    ) -> Result<Layout> {
        let mut hierarchies: Vec<Hierarchy> = Vec::new();
        for m in mounts {
            let mp = MountPoint {
                root: m.root.to_string_lossy().into_owned(),
                mount_point: m.mount_point.clone(),
            };
            if let Some(h) = hierarchies.iter_mut().find(|h| h.dev == m.dev()) {
                h.mounts.push(mp);
                continue;
            }
            let mut h = Hierarchy {
                version: if m.fstype == "cgroup2" {
                    Version::V2
                } else {
                    Version::V1
                },
                controllers: Vec::new(),
                name: None,
                dev: m.dev(),
                mounts: vec![mp],
            };
            if h.version == Version::V1 {
                for opt in m.options() {
                    if let Some(name) = opt.strip_prefix("name=") {
                        h.name = Some(name.to_string());
                    } else if !opt.contains('=') && !V1_NON_CONTROLLER_OPTIONS.contains(&opt) {
                        h.controllers.push(opt.to_string());
                    }
                }
            } else {
                h.controllers = v2_controllers(&m.mount_point)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
            }
            hierarchies.push(h);
        }
        // Mount points: prefer the mount of the hierarchy's root.
        for h in &mut hierarchies {
            h.mounts.sort_by_key(|m| m.root != "/");
        }
        let v1_controllers = hierarchies
            .iter()
            .any(|h| h.version == Version::V1 && !h.controllers.is_empty());
        let v2 = hierarchies.iter().any(|h| h.version == Version::V2);
        let mode =
            match (v1_controllers, v2) {
                (true, true) => Mode::Hybrid,
                (true, false) => Mode::V1,
                (false, true) => Mode::V2,
                (false, false) => return Err(Error::Unsupported(
                    "no cgroup filesystem with controllers is mounted (see /proc/self/mountinfo)"
                        .to_string(),
                )),
            };
        Ok(Layout { mode, hierarchies })
    }

    /// The hierarchy that holds `controller` (v1 first: in hybrid mode that is where
    /// the controllers are; v2 only holds what no v1 hierarchy took).
    pub fn hierarchy_for(&self, controller: &str) -> Option<usize> {
        let v1 = self
            .hierarchies
            .iter()
            .position(|h| h.version == Version::V1 && h.has(controller));
        v1.or_else(|| {
            let v2 = self
                .hierarchies
                .iter()
                .position(|h| h.version == Version::V2)?;
            // Hybrid: v2 holds what no v1 hierarchy took, if the kernel offers it there.
            // v2: every v2 controller (whether this cgroup may use it is checked where it
            // is enabled, with the reason), and what v2 has built in; not names that no
            // kernel has.
            let v2_only = self.mode == Mode::V2
                && (V2_CONTROLLERS.contains(&controller) || V2_BUILTIN.contains(&controller));
            (v2_only || self.hierarchies[v2].has(controller)).then_some(v2)
        })
    }

    /// The hierarchies a cgroup goes into when no controller is named: every v1
    /// hierarchy with controllers, and the v2 one. Named v1 hierarchies without
    /// controllers (name=systemd) belong to their owners and are left alone.
    pub fn default_hierarchies(&self) -> Vec<usize> {
        (0..self.hierarchies.len())
            .filter(|&i| {
                let h = &self.hierarchies[i];
                h.version == Version::V2 || !h.controllers.is_empty()
            })
            .collect()
    }

    /// The v2 hierarchy, if mounted.
    pub fn v2(&self) -> Option<usize> {
        self.hierarchies
            .iter()
            .position(|h| h.version == Version::V2)
    }

    /// The hierarchy and hierarchy path of a filesystem path inside a mounted cgroup
    /// filesystem (the longest matching mount point wins).
    pub fn locate(&self, path: &Path) -> Option<(usize, String)> {
        let mut best: Option<(usize, String, usize)> = None;
        for (i, h) in self.hierarchies.iter().enumerate() {
            for m in &h.mounts {
                if let Ok(rest) = path.strip_prefix(&m.mount_point) {
                    let len = m.mount_point.as_os_str().len();
                    if best.as_ref().is_none_or(|b| len > b.2) {
                        let rest = rest.to_str()?;
                        let cg = join_cgroup(&m.root, rest);
                        best = Some((i, cg, len));
                    }
                }
            }
        }
        best.map(|(i, p, _)| (i, p))
    }

    /// Which hierarchy a `/proc/PID/cgroup` line is about.
    pub fn find(&self, m: &Membership) -> Option<usize> {
        self.hierarchies.iter().position(|h| h.matches(m))
    }
}

/// Joins cgroup paths: `/a` + `b/c` = `/a/b/c`, always absolute, no trailing slash.
pub fn join_cgroup(base: &str, rest: &str) -> String {
    let mut out = String::from("/");
    for part in base.split('/').chain(rest.split('/')) {
        if part.is_empty() {
            continue;
        }
        if out.len() > 1 {
            out.push('/');
        }
        out.push_str(part);
    }
    out
}

fn magic_matches(m: &Mount) -> bool {
    use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};
    match statfs(&m.mount_point) {
        Ok(fs) => {
            let t = fs.filesystem_type();
            if m.fstype == "cgroup2" {
                t == CGROUP2_SUPER_MAGIC
            } else {
                t == CGROUP_SUPER_MAGIC
            }
        }
        Err(_) => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const HYBRID: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
";

    pub const V2: &str = "\
30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

    pub const V1: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
36 31 0:32 /box /srv/box-memory rw - cgroup cgroup rw,memory
";

    fn cgroup_mounts(text: &str) -> Vec<Mount> {
        mountinfo::cgroup_mounts(text.as_bytes()).collect()
    }

    pub fn layout(text: &str, v2: &str) -> Layout {
        let v2 = v2.to_string();
        Layout::from_mounts(&cgroup_mounts(text), move |_| v2.clone()).unwrap()
    }

    #[test]
    fn modes() {
        assert_eq!(layout(HYBRID, "hugetlb").mode, Mode::Hybrid);
        assert_eq!(layout(V2, "cpu memory pids").mode, Mode::V2);
        assert_eq!(layout(V1, "").mode, Mode::V1);
        let named_only = "40 31 0:37 / /x rw - cgroup cgroup rw,name=systemd\n";
        assert!(Layout::from_mounts(&cgroup_mounts(named_only), |_| String::new()).is_err());
        let v2_and_named = format!("{V2}{named_only}");
        assert_eq!(layout(&v2_and_named, "memory").mode, Mode::V2);
    }

    #[test]
    fn controllers_from_super_options() {
        let l = layout(HYBRID, "hugetlb");
        let mem = l.hierarchy_for("memory").unwrap();
        assert_eq!(l.hierarchies[mem].label(), "memory");
        let sd = l.hierarchies.iter().find(|h| h.name.is_some()).unwrap();
        assert!(sd.controllers.is_empty(), "xattr is not a controller");
        assert_eq!(sd.label(), "name=systemd");
        // hybrid: v2 holds only what the kernel lists in its cgroup.controllers
        assert_eq!(l.hierarchy_for("hugetlb"), l.v2());
        assert_eq!(l.hierarchy_for("io"), None);
        let l1 = layout(V1, "");
        let cpu = l1.hierarchy_for("cpuacct").unwrap();
        assert_eq!(l1.hierarchies[cpu].label(), "cpu,cpuacct");
    }

    #[test]
    fn v2_holds_everything() {
        let l = layout(V2, "cpuset cpu io memory pids");
        let v2 = l.v2().unwrap();
        for c in ["memory", "cpu", "pids", "cpuset", "io"] {
            assert_eq!(l.hierarchy_for(c), Some(v2));
        }
        // built in: found, with nothing to enable; unknown names are not
        assert_eq!(l.hierarchy_for("freezer"), Some(v2));
        assert_eq!(l.hierarchy_for("cpuacct"), Some(v2));
        assert_eq!(l.hierarchy_for("nosuchcontroller"), None);
        assert_eq!(l.hierarchy_for("blkio"), None);
        // a v2 controller this cgroup does not have is still v2's (enabling it says why)
        assert_eq!(l.hierarchy_for("hugetlb"), Some(v2));
        assert_eq!(l.default_hierarchies(), vec![v2]);
        assert_eq!(
            l.hierarchies[v2].dir_of("/a/b").unwrap(),
            Path::new("/sys/fs/cgroup/a/b")
        );
        assert_eq!(
            l.locate(Path::new("/sys/fs/cgroup/a/b")),
            Some((v2, "/a/b".to_string()))
        );
        assert_eq!(
            l.locate(Path::new("/sys/fs/cgroup")),
            Some((v2, "/".to_string()))
        );
        assert_eq!(l.locate(Path::new("/tmp/x")), None);
    }

    #[test]
    fn same_hierarchy_mounted_twice_honours_root() {
        let l = layout(V1, "");
        assert_eq!(l.hierarchies.len(), 2);
        let mem = l.hierarchy_for("memory").unwrap();
        assert_eq!(l.hierarchies[mem].mounts.len(), 2);
        // paths resolve through the root mount first
        assert_eq!(
            l.hierarchies[mem].dir_of("/box/web").unwrap(),
            Path::new("/sys/fs/cgroup/memory/box/web")
        );
        // a path through the second mount maps back to the hierarchy path
        assert_eq!(
            l.locate(Path::new("/srv/box-memory/web")),
            Some((mem, "/box/web".to_string()))
        );
    }

    #[test]
    fn memberships_match_hierarchies() {
        let l = layout(HYBRID, "");
        let ms = nsproc::cgroup::parse("4:memory:/p/x\n9:name=systemd:/\n0::/u\n").unwrap();
        let mem = l.find(&ms[0]).unwrap();
        assert!(l.hierarchies[mem].has("memory"));
        assert_eq!(
            l.hierarchies[l.find(&ms[1]).unwrap()].label(),
            "name=systemd"
        );
        assert_eq!(l.find(&ms[2]), l.v2());
    }

    #[test]
    fn joins() {
        assert_eq!(join_cgroup("/", "a/b/"), "/a/b");
        assert_eq!(join_cgroup("/x/", ""), "/x");
        assert_eq!(join_cgroup("/", ""), "/");
        assert_eq!(strip_cgroup_prefix("/a/b", "/a"), Some("b"));
        assert_eq!(strip_cgroup_prefix("/ab", "/a"), None);
        assert_eq!(strip_cgroup_prefix("/a", "/"), Some("a"));
    }
}
