//! What every command works with: the host's layout and the root names resolve below.

use std::path::PathBuf;

use crate::cgpath::{Location, Name, Resolver, Root};
use crate::error::{Error, Result};
use crate::layout::{Layout, Version};
use crate::resource::Resource;
use nsproc::cgroup::Membership;

pub struct Ctx {
    pub layout: Layout,
    pub root: Root,
    own: Vec<Membership>,
}

impl Ctx {
    /// Detects the layout; `root` is `--root` (None: the hierarchy roots).
    pub fn new(root: Option<&str>) -> Result<Ctx> {
        let root = Root::parse(root)?;
        let layout = Layout::detect()?;
        let own = if root == Root::SelfCgroup {
            nsproc::Process::current()?.cgroups()?
        } else {
            Vec::new()
        };
        Ok(Ctx { layout, root, own })
    }

    /// A context on a made-up layout, for unit tests.
    #[cfg(test)]
    pub(crate) fn for_layout(layout: Layout) -> Ctx {
        Ctx {
            layout,
            root: Root::Top,
            own: Vec::new(),
        }
    }

    /// With `--root self`: resolve relative names below `path` in hierarchy `h`
    /// instead of below cgctl's own cgroup there (systemd's delegated subtree).
    pub fn set_self_in(&mut self, h: usize, path: String) {
        let hier = &self.layout.hierarchies[h];
        if let Some(m) = self.own.iter_mut().find(|m| hier.matches(m)) {
            m.path = path;
        }
    }

    pub fn resolver(&self) -> Resolver<'_> {
        Resolver::new(&self.layout, self.root.clone(), self.own.clone())
    }

    pub fn version(&self, loc: &Location) -> Version {
        self.layout.hierarchies[loc.hierarchy].version
    }

    /// Hierarchies named by `-c` (controllers or name=NAME), or the default ones.
    pub fn hierarchies(&self, controllers: &[String]) -> Result<Vec<usize>> {
        if controllers.is_empty() {
            return Ok(self.layout.default_hierarchies());
        }
        let mut out = Vec::new();
        for c in controllers {
            let h = if c == "unified" || c == "cgroup2" {
                self.layout.v2()
            } else if c.starts_with("name=") {
                self.layout.hierarchies.iter().position(|h| h.has(c))
            } else {
                self.hierarchy_of(c)
            };
            let h = h.ok_or_else(|| {
                Error::Unsupported(format!(
                    "no mounted hierarchy has the {c} controller (see 'cgctl mode')"
                ))
            })?;
            if !out.contains(&h) {
                out.push(h);
            }
        }
        Ok(out)
    }

    /// The hierarchies a name is looked up in: an absolute path names its own (unless
    /// `-c` was given, which it must then be in); a relative name, those of `-c` or the
    /// default ones.
    pub fn hierarchies_for(&self, name: &Name, controllers: &[String]) -> Result<Vec<usize>> {
        if controllers.is_empty() && matches!(name, Name::Absolute(_)) {
            Ok(Vec::new())
        } else {
            self.hierarchies(controllers)
        }
    }

    /// The hierarchy holding `res` (its v1 controller where one is mounted, else v2).
    pub fn resource_hierarchy(&self, res: Resource) -> Result<usize> {
        let v1 = res.controller(Version::V1);
        self.layout
            .hierarchy_for(v1)
            .or_else(|| self.layout.hierarchy_for(res.controller(Version::V2)))
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "no mounted hierarchy has the {v1} controller, which {res} needs (see 'cgctl mode')"
                ))
            })
    }

    /// The directory of a process's cgroup in hierarchy `h`, from its /proc/PID/cgroup.
    pub fn dir_in(&self, memberships: &[Membership], h: usize) -> Option<PathBuf> {
        let hier = &self.layout.hierarchies[h];
        let m = memberships.iter().find(|m| hier.matches(m))?;
        hier.dir_of(&m.path)
    }

    /// The v2 controllers to enable along the path for `controllers` in hierarchy `h`.
    pub fn v2_controllers(&self, h: usize, controllers: &[String]) -> Vec<String> {
        let hier = &self.layout.hierarchies[h];
        if hier.version != Version::V2 {
            return Vec::new();
        }
        controllers
            .iter()
            .filter(|c| !c.starts_with("name=") && *c != "unified" && *c != "cgroup2")
            .map(|c| canonical_controller(c, hier.version).to_string())
            .filter(|c| !crate::layout::V2_BUILTIN.contains(&c.as_str()))
            .filter(|c| self.layout.hierarchy_for(c) == Some(h))
            .collect()
    }

    /// The hierarchy of a controller named as libcgroup or cgctl spells it (`memory` or
    /// `mem`, `blkio` or `io`).
    pub fn hierarchy_of(&self, controller: &str) -> Option<usize> {
        self.layout.hierarchy_for(controller).or_else(|| {
            [Version::V1, Version::V2].iter().find_map(|v| {
                let c = canonical_controller(controller, *v);
                (c != controller).then(|| self.layout.hierarchy_for(c))?
            })
        })
    }

    /// The locations of an existing cgroup (in the hierarchies it exists in).
    pub fn existing(&self, name: &Name, hiers: &[usize]) -> Result<Vec<Location>> {
        self.resolver().existing(name, hiers)
    }
}

/// A controller's kernel name on `version` for the names users type: cgctl's resource
/// names (`mem`, `cpu-weight`, `io-weight`...) and libcgroup's v1 names (`blkio` is `io`
/// on v2, and the other way round).
pub fn canonical_controller(name: &str, version: Version) -> &str {
    match (name, version) {
        ("mem" | "mem-high" | "swap", _) => "memory",
        ("cpu-weight", _) => "cpu",
        ("mems", _) => "cpuset",
        ("io-weight" | "io", Version::V1) | ("blkio", Version::V1) => "blkio",
        ("io-weight" | "blkio", Version::V2) => "io",
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_aliases() {
        assert_eq!(canonical_controller("mem", Version::V1), "memory");
        assert_eq!(canonical_controller("memory", Version::V2), "memory");
        assert_eq!(canonical_controller("io", Version::V1), "blkio");
        assert_eq!(canonical_controller("blkio", Version::V2), "io");
        assert_eq!(canonical_controller("io", Version::V2), "io");
        assert_eq!(canonical_controller("cpuacct", Version::V1), "cpuacct");
    }
}
