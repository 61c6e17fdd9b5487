//! `cgctl create`: making cgroups, with their ancestors, in one or more hierarchies.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::cgfs::{self, Created};
use crate::cgpath::Location;
use crate::cgroup::{v1, v2, CgroupDir};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::layout::Version;
use crate::undo::Undo;

/// Makes cgroups; everything it made is removed again if it is dropped before
/// [`Creator::keep`] (a failure halfway leaves nothing behind).
pub struct Creator<'a> {
    ctx: &'a Ctx,
    created: Created,
    known_dirs: HashSet<PathBuf>,
    enabled: HashSet<PathBuf>,
    cpusets: HashMap<PathBuf, (String, String)>,
    /// Open directories of parents that get several children in this call.
    parent_fds: HashMap<PathBuf, OwnedFd>,
}

impl<'a> Creator<'a> {
    pub fn new(ctx: &'a Ctx) -> Self {
        Creator {
            ctx,
            created: Created::default(),
            known_dirs: HashSet::new(),
            enabled: HashSet::new(),
            cpusets: HashMap::new(),
            parent_fds: HashMap::new(),
        }
    }

    /// Makes `loc` (and missing ancestors); on v2 enables `v2_controllers` on the path.
    pub fn create(&mut self, loc: &Location, v2_controllers: &[String]) -> Result<()> {
        let hier = &self.ctx.layout.hierarchies[loc.hierarchy];
        self.make_dir(&loc.dir, hier.mount_point(), loc.hierarchy)?;
        if hier.version == Version::V2 {
            v2::enable_controllers(hier, &loc.path, v2_controllers, &mut self.enabled)?;
        }
        Ok(())
    }

    fn make_dir(&mut self, dir: &Path, mount_point: &Path, h: usize) -> Result<()> {
        if self.known_dirs.contains(dir) {
            return Ok(());
        }
        let cpuset_v1 = {
            let hier = &self.ctx.layout.hierarchies[h];
            hier.version == Version::V1 && hier.has("cpuset")
        };
        // Fast path: the parent is known to exist (many siblings in one call); make the
        // cgroup relative to the parent's open directory.
        if let (Some(parent), Some(name)) = (
            dir.parent().filter(|p| self.known_dirs.contains(*p)),
            dir.file_name(),
        ) {
            let fd = match self.parent_fds.entry(parent.to_path_buf()) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(cgfs::open_dir(parent)?),
            };
            let made = cgfs::mkdir_at(fd, name, dir)?;
            if made {
                self.created.push(dir.to_path_buf());
                if cpuset_v1 {
                    v1::inherit_cpuset(&CgroupDir::open(dir)?, &mut self.cpusets)?;
                }
            }
            self.known_dirs.insert(dir.to_path_buf());
            return Ok(());
        }
        // Missing ancestors first, down from the first one that exists.
        let mut missing = Vec::new();
        let mut cur = dir.to_path_buf();
        loop {
            if self.known_dirs.contains(&cur) || cur == mount_point || cur.is_dir() {
                break;
            }
            missing.push(cur.clone());
            if !cur.pop() {
                break;
            }
        }
        if !self.known_dirs.contains(&cur) {
            CgroupDir::open(&cur)?;
            self.known_dirs.insert(cur);
        }
        for d in missing.iter().rev() {
            if cgfs::mkdir(d)? {
                self.created.push(d.clone());
                if cpuset_v1 {
                    v1::inherit_cpuset(&CgroupDir::open(d)?, &mut self.cpusets)?;
                }
            }
            self.known_dirs.insert(d.clone());
        }
        Ok(())
    }

    /// The directories made so far, in order.
    pub fn made(&self) -> &[PathBuf] {
        self.created.dirs()
    }

    /// Keeps everything made.
    pub fn keep(&mut self) {
        std::mem::take(&mut self.created).keep();
    }
}

/// Creates every name in every location list; all or nothing (until `undo` is kept).
pub fn create_all(
    ctx: &Ctx,
    targets: &[Vec<Location>],
    controllers: &[String],
    undo: &mut Undo,
) -> Result<()> {
    for locs in targets {
        for loc in locs {
            let v2c = ctx.v2_controllers(loc.hierarchy, controllers);
            undo.creator().create(loc, &v2c)?;
        }
    }
    Ok(())
}
