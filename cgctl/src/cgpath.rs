//! Naming cgroups: relative names (`box/web`), absolute paths inside a cgroup
//! filesystem, the `--root` they resolve below, and the checks that keep every name
//! inside its hierarchy.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::layout::{join_cgroup, Layout};
use nsproc::cgroup::Membership;

/// The longest file name the kernel takes.
const NAME_MAX: usize = 255;

/// Prefixes of the files cgroup filesystems put in every cgroup (`cgroup.procs`,
/// `memory.max`, `cpu.pressure`...): `PREFIX.` names a file, never a cgroup.
const FILE_PREFIXES: &[&str] = &[
    "cgroup",
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
    "io",
    "irq",
];

/// Files of v1 cgroups without a controller prefix.
const V1_FILES: &[&str] = &["tasks", "notify_on_release", "release_agent"];

/// Why `part` cannot name a cgroup: a name the cgroup filesystem keeps for its files.
fn reserved(part: &str) -> Option<String> {
    if V1_FILES.contains(&part) {
        return Some(format!(
            "'{part}' is a file of every v1 cgroup, not a cgroup"
        ));
    }
    let (prefix, _) = part.split_once('.')?;
    FILE_PREFIXES.contains(&prefix).then(|| {
        format!("'{part}' is a name the cgroup filesystem keeps for its files ({prefix}.*)")
    })
}

/// Refuses a cgroup path (`/a/b`, or `a/b`) with a reserved component.
fn check_reserved(shown: &str, path: &str) -> Result<()> {
    match path.split('/').find_map(reserved) {
        Some(why) => Err(Error::name(shown, why)),
        None => Ok(()),
    }
}

/// A cgroup as the user named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Name {
    /// Below the root, in every hierarchy that is asked for (`box/web`; empty: the root).
    Relative(String),
    /// A directory inside one mounted cgroup filesystem.
    Absolute(PathBuf),
}

impl Name {
    /// Parses a name; refuses `.`/`..`, empty components in the middle and control
    /// characters before anything is written.
    pub fn parse(s: &str) -> Result<Name> {
        if s.is_empty() {
            return Err(Error::name(s, "empty name"));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err(Error::name(
                s.escape_debug().to_string(),
                "control characters are not allowed",
            ));
        }
        for part in s.split('/') {
            if part.len() > NAME_MAX {
                return Err(Error::name(
                    s,
                    format!("a path component is longer than {NAME_MAX} bytes"),
                ));
            }
            if part == ".." {
                return Err(Error::name(s, "'..' would leave the hierarchy"));
            }
            if part == "." {
                return Err(Error::name(s, "'.' components are not allowed"));
            }
        }
        if s.starts_with('/') {
            return Ok(Name::Absolute(PathBuf::from(s)));
        }
        let rel = s.trim_end_matches('/');
        if rel.split('/').any(str::is_empty) {
            return Err(Error::name(s, "empty path component ('//')"));
        }
        check_reserved(s, rel)?;
        Ok(Name::Relative(rel.to_string()))
    }

    pub fn display(&self) -> String {
        match self {
            Name::Relative(r) if r.is_empty() => "/".to_string(),
            Name::Relative(r) => r.clone(),
            Name::Absolute(p) => p.display().to_string(),
        }
    }
}

/// What relative names resolve below.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Root {
    /// The root of each hierarchy.
    Top,
    /// The cgroup cgctl itself is in, in each hierarchy.
    SelfCgroup,
    /// A named cgroup.
    Named(Name),
}

impl Root {
    pub fn parse(s: Option<&str>) -> Result<Root> {
        match s {
            None | Some("") | Some("/") => Ok(Root::Top),
            Some("self") => Ok(Root::SelfCgroup),
            Some(s) => Ok(Root::Named(Name::parse(s)?)),
        }
    }
}

/// A cgroup in one hierarchy: where it is in the hierarchy and on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Index into [`Layout::hierarchies`].
    pub hierarchy: usize,
    /// Path from the hierarchy root (`/box/web`).
    pub path: String,
    /// The directory.
    pub dir: PathBuf,
    /// Hierarchy path of the root it was named below (its ancestors up to and
    /// including this one were not made by this call, unless they did not exist).
    pub base: String,
}

/// Resolves names for one call: the layout, the root and this process's cgroups.
pub struct Resolver<'a> {
    pub layout: &'a Layout,
    root: Root,
    own: Vec<Membership>,
    /// An absolute --root, located once (resolving symlinks costs syscalls per name).
    root_abs: std::cell::OnceCell<(usize, String)>,
}

impl<'a> Resolver<'a> {
    /// `own` is this process's /proc/self/cgroup (only used with `--root self`).
    pub fn new(layout: &'a Layout, root: Root, own: Vec<Membership>) -> Self {
        Resolver {
            layout,
            root,
            own,
            root_abs: std::cell::OnceCell::new(),
        }
    }

    /// The hierarchy path of the root in hierarchy `h`; None when the root is a path
    /// in another hierarchy.
    fn base(&self, h: usize) -> Result<Option<String>> {
        match &self.root {
            Root::Top => Ok(Some("/".to_string())),
            Root::SelfCgroup => {
                let hier = &self.layout.hierarchies[h];
                let m = self.own.iter().find(|m| hier.matches(m)).ok_or_else(|| {
                    Error::Refused(format!(
                        "--root self: this process has no cgroup in the {} hierarchy",
                        hier.label()
                    ))
                })?;
                Ok(Some(m.path.clone()))
            }
            Root::Named(Name::Relative(r)) => Ok(Some(join_cgroup("/", r))),
            Root::Named(Name::Absolute(p)) => {
                let (rh, path) = match self.root_abs.get() {
                    Some(v) => v.clone(),
                    None => {
                        let v = self.locate_absolute(p)?;
                        self.root_abs.get_or_init(|| v).clone()
                    }
                };
                Ok((rh == h).then_some(path))
            }
        }
    }

    /// Hierarchy and hierarchy path of an absolute path, after resolving symlinks in
    /// the part that exists; refuses anything outside a mounted cgroup filesystem.
    pub fn locate_absolute(&self, p: &Path) -> Result<(usize, String)> {
        let real = resolve_existing(p)?;
        self.layout.locate(&real).ok_or_else(|| {
            Error::name(
                p.display().to_string(),
                if real != p {
                    format!(
                        "it leads to {}, which is not inside a mounted cgroup filesystem",
                        real.display()
                    )
                } else {
                    "not inside a mounted cgroup filesystem".to_string()
                },
            )
        })
    }

    /// With `--root`, refuses an absolute path that is not the root or below it, in
    /// its hierarchy (`path` is the hierarchy path it leads to).
    fn check_confined(&self, p: &Path, h: usize, path: &str) -> Result<()> {
        if self.root == Root::Top {
            return Ok(());
        }
        let outside = |why: String| Err(Error::name(p.display().to_string(), why));
        let label = self.layout.hierarchies[h].label();
        let Some(base) = self.base(h)? else {
            return outside(format!(
                "it is in the {label} hierarchy, and --root is in another one"
            ));
        };
        let base_dir = base.trim_end_matches('/');
        if path == base || base_dir.is_empty() || path.starts_with(&format!("{base_dir}/")) {
            return Ok(());
        }
        outside(format!(
            "it is outside --root ({base} in the {label} hierarchy)"
        ))
    }

    /// The locations of `name` in the hierarchies `hiers` (for a relative name), or in
    /// its own hierarchy (an absolute path, which must be one of `hiers` unless `hiers`
    /// is empty).
    pub fn resolve(&self, name: &Name, hiers: &[usize]) -> Result<Vec<Location>> {
        match name {
            Name::Absolute(p) => {
                let (h, path) = self.locate_absolute(p)?;
                check_reserved(&p.display().to_string(), &path)?;
                self.check_confined(p, h, &path)?;
                if !hiers.is_empty() && !hiers.contains(&h) {
                    return Err(Error::name(
                        p.display().to_string(),
                        format!(
                            "it is in the {} hierarchy, which does not hold what was asked for",
                            self.layout.hierarchies[h].label()
                        ),
                    ));
                }
                Ok(vec![self.location(h, path.clone(), path)?])
            }
            Name::Relative(r) => {
                let mut out = Vec::new();
                for &h in hiers {
                    if let Some(base) = self.base(h)? {
                        let path = join_cgroup(&base, r);
                        out.push(self.location(h, path, base)?);
                    }
                }
                if out.is_empty() {
                    return Err(Error::NoCgroup {
                        name: name.display(),
                        detail:
                            " : the root given with --root is in none of the hierarchies asked for"
                                .to_string(),
                    });
                }
                Ok(out)
            }
        }
    }

    /// Like [`Resolver::resolve`], keeping only the locations whose directory exists;
    /// an error if there are none.
    pub fn existing(&self, name: &Name, hiers: &[usize]) -> Result<Vec<Location>> {
        let all = self.resolve(name, hiers)?;
        let found: Vec<Location> = all.iter().filter(|l| l.dir.is_dir()).cloned().collect();
        if found.is_empty() {
            let dirs = all
                .iter()
                .map(|l| l.dir.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::NoCgroup {
                name: name.display(),
                detail: format!(" (looked for {dirs})"),
            });
        }
        Ok(found)
    }

    fn location(&self, h: usize, path: String, base: String) -> Result<Location> {
        let hier = &self.layout.hierarchies[h];
        let dir = hier.dir_of(&path).ok_or_else(|| {
            Error::name(
                path.clone(),
                format!(
                    "not visible through any mount of the {} hierarchy",
                    hier.label()
                ),
            )
        })?;
        Ok(Location {
            hierarchy: h,
            path,
            dir,
            base,
        })
    }
}

/// `p` with symlinks resolved in its longest existing prefix; the rest appended as
/// is. `p` must be absolute and hold no `..`.
pub fn resolve_existing(p: &Path) -> Result<PathBuf> {
    if p.components().any(|c| c == Component::ParentDir) {
        return Err(Error::name(
            p.display().to_string(),
            "'..' would leave the hierarchy",
        ));
    }
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(real) => {
                let mut out = real;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                return Ok(out);
            }
            Err(_) => {
                let Some(name) = existing.file_name().map(|n| n.to_os_string()) else {
                    return Ok(p.to_path_buf());
                };
                rest.push(name);
                if !existing.pop() {
                    return Ok(p.to_path_buf());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests::{layout, HYBRID, V2};
    use nsproc::cgroup::parse;

    #[test]
    fn names() {
        assert_eq!(
            Name::parse("box/web/").unwrap(),
            Name::Relative("box/web".into())
        );
        assert!(matches!(
            Name::parse("/sys/fs/cgroup/x").unwrap(),
            Name::Absolute(_)
        ));
        for bad in [
            "",
            "..",
            "a/../b",
            "a/./b",
            "a//b",
            "/sys/fs/cgroup/../etc",
            "a\nb",
            &"x".repeat(256),
        ] {
            assert!(Name::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Root::parse(Some("self")).unwrap(), Root::SelfCgroup);
        assert_eq!(Root::parse(None).unwrap(), Root::Top);
    }

    #[test]
    fn names_the_filesystem_keeps_for_files() {
        for bad in [
            "cgroup.procs",
            "adv/tasks",
            "notify_on_release",
            "release_agent",
            "a/cgroup.subtree_control/b",
            "memory.max",
            "box/cpu.weight",
            "io.pressure",
        ] {
            let err = Name::parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), crate::error::EXIT_USAGE, "{bad}");
        }
        for good in [
            "user.slice",
            "session-1.scope",
            "memory",
            "tasks2",
            "web.cpu",
        ] {
            assert!(Name::parse(good).is_ok(), "{good}");
        }
        let l = layout(V2, "memory");
        let r = Resolver::new(&l, Root::Top, vec![]);
        let err = r
            .resolve(&Name::parse("/sys/fs/cgroup/x/memory.max").unwrap(), &[])
            .unwrap_err();
        assert!(err.to_string().contains("keeps for its files"), "{err}");
    }

    #[test]
    fn root_confines_absolute_paths() {
        let l = layout(V2, "memory");
        let own = parse("0::/user.slice/session-1.scope\n").unwrap();
        let r = Resolver::new(&l, Root::SelfCgroup, own);
        let inside = Name::parse("/sys/fs/cgroup/user.slice/session-1.scope/box").unwrap();
        assert_eq!(
            r.resolve(&inside, &[]).unwrap()[0].path,
            "/user.slice/session-1.scope/box"
        );
        let root = Name::parse("/sys/fs/cgroup/user.slice/session-1.scope").unwrap();
        assert!(r.resolve(&root, &[]).is_ok());
        for outside in [
            "/sys/fs/cgroup/elsewhere",
            "/sys/fs/cgroup/user.slice",
            "/sys/fs/cgroup/user.slice/session-1.scope2",
        ] {
            let err = r.resolve(&Name::parse(outside).unwrap(), &[]).unwrap_err();
            assert_eq!(err.exit_code(), crate::error::EXIT_USAGE, "{outside}");
            assert!(err.to_string().contains("outside --root"), "{err}");
        }
        let top = Resolver::new(&l, Root::Top, vec![]);
        assert!(top
            .resolve(&Name::parse("/sys/fs/cgroup/elsewhere").unwrap(), &[])
            .is_ok());
    }

    #[test]
    fn relative_names_on_v2() {
        let l = layout(V2, "cpu memory pids");
        let own = parse("0::/user.slice/session-1.scope\n").unwrap();
        let v2 = l.v2().unwrap();
        let r = Resolver::new(&l, Root::SelfCgroup, own.clone());
        let locs = r.resolve(&Name::parse("box/web").unwrap(), &[v2]).unwrap();
        assert_eq!(locs.len(), 1);
        assert_eq!(locs[0].path, "/user.slice/session-1.scope/box/web");
        assert_eq!(locs[0].base, "/user.slice/session-1.scope");
        assert_eq!(
            locs[0].dir,
            Path::new("/sys/fs/cgroup/user.slice/session-1.scope/box/web")
        );
        let top = Resolver::new(&l, Root::Top, own);
        let locs = top.resolve(&Name::parse("box").unwrap(), &[v2]).unwrap();
        assert_eq!(locs[0].dir, Path::new("/sys/fs/cgroup/box"));
        assert_eq!(locs[0].base, "/");
    }

    #[test]
    fn self_root_differs_per_hierarchy() {
        let l = layout(HYBRID, "");
        let own = parse(
            "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n3:cpuset:/\n6:freezer:/\n0::/\n",
        )
        .unwrap();
        let r = Resolver::new(&l, Root::SelfCgroup, own);
        let all = l.default_hierarchies();
        let locs = r.resolve(&Name::parse("t1").unwrap(), &all).unwrap();
        let mem = l.hierarchy_for("memory").unwrap();
        let m = locs.iter().find(|l| l.hierarchy == mem).unwrap();
        assert_eq!(m.path, "/process_api/abc/t1");
        assert_eq!(m.dir, Path::new("/sys/fs/cgroup/memory/process_api/abc/t1"));
        let pids = l.hierarchy_for("pids").unwrap();
        assert_eq!(
            locs.iter().find(|l| l.hierarchy == pids).unwrap().path,
            "/t1"
        );
        // name=systemd is not a default hierarchy
        assert_eq!(locs.len(), all.len());
    }

    #[test]
    fn absolute_paths_must_be_in_cgroupfs() {
        // these paths do not exist on the test host; lexical resolution applies
        let l = layout(V2, "memory");
        let r = Resolver::new(&l, Root::Top, vec![]);
        let err = r
            .resolve(&Name::parse("/nonexistent-cgctl/x").unwrap(), &[])
            .unwrap_err();
        assert!(
            err.to_string().contains("not inside a mounted cgroup"),
            "{err}"
        );
        assert!(Name::parse("/sys/fs/cgroup/a/../../etc").is_err());
    }
}

#[cfg(test)]
mod properties;
