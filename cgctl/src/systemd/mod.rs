//! cgctl on hosts where systemd manages the cgroup tree: instead of making cgroups
//! behind systemd's back, cgctl asks systemd (over D-Bus, [`bus`]) for transient
//! scopes with the limits as unit properties ([`properties`]), then reads the
//! effective values back from the cgroup files. Whether to do so is decided from files
//! alone ([`detect`]); the bus is only reached when it is used.

pub mod bus;
pub mod detect;
pub mod properties;

use std::path::{Path, PathBuf};

use crate::apply::{self, Applied};
use crate::cgpath::{Name, Root};
use crate::cgroup::write::FileValue;
use crate::cgroup::CgroupDir;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::held::Held;
use crate::layout::{join_cgroup, Version};
use crate::resource::Limit;

pub use bus::{Bus, Scope};

/// `--systemd`: whether to go through systemd.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Use {
    /// When systemd manages the tree and the cgroups named are not in a subtree it
    /// delegated
    #[default]
    Auto,
    /// Always (an error where systemd does not manage the tree)
    Yes,
    /// Never: write the cgroup files, as on any other host
    No,
}

/// What `cgctl mode` says about systemd.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// systemd's version, read over the bus (None if the bus could not be asked).
    pub version: Option<String>,
    /// The delegated cgroup directory cgctl runs in, if any.
    pub delegated: Option<PathBuf>,
    /// The unit cgctl runs in.
    pub unit: Option<String>,
}

/// The v2 hierarchy's index and mount point, where systemd manages it.
fn v2_mount(ctx: &Ctx) -> Option<(usize, PathBuf)> {
    let h = ctx.layout.v2()?;
    let m = ctx.layout.hierarchies[h].mounts.first()?;
    Some((h, m.mount_point.clone()))
}

fn uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// This process's cgroup path in the v2 hierarchy.
fn own_path() -> Result<Option<String>> {
    let own = nsproc::Process::current()?.cgroups()?;
    Ok(own.into_iter().find(|m| m.is_v2()).map(|m| m.path))
}

/// `cgctl mode`'s systemd part: None unless systemd manages the tree. The version
/// costs a connection to the bus, made only here.
pub fn status(ctx: &Ctx) -> Result<Option<Status>> {
    if !detect::manages(Path::new("/run"), &ctx.layout) {
        return Ok(None);
    }
    let Some((h, mount)) = v2_mount(ctx) else {
        return Ok(None);
    };
    let own = own_path()?;
    let dir = own
        .as_deref()
        .and_then(|p| ctx.layout.hierarchies[h].dir_of(p));
    Ok(Some(Status {
        version: Bus::new(Scope::for_caller()).version().ok(),
        delegated: dir.and_then(|d| detect::delegated_ancestor(&d, &mount, uid())),
        unit: own.as_deref().and_then(detect::unit_of).map(str::to_string),
    }))
}

/// `--root self` where systemd manages the tree (and `--systemd` is not `no`): the
/// delegated subtree cgctl runs in (the unit's cgroup systemd delegated, not a cgroup
/// below it cgctl may sit in). Outside one, a command that writes is refused with the
/// ways to get one; one that only reads keeps cgctl's own cgroup.
pub fn root_self(ctx: &mut Ctx, how: Use, writes: bool) -> Result<()> {
    if ctx.root != Root::SelfCgroup
        || how == Use::No
        || !detect::manages(Path::new("/run"), &ctx.layout)
    {
        return Ok(());
    }
    let (Some((h, mount)), Some(own)) = (v2_mount(ctx), own_path()?) else {
        return Ok(());
    };
    let delegated = ctx.layout.hierarchies[h]
        .dir_of(&own)
        .and_then(|d| detect::delegated_ancestor(&d, &mount, uid()))
        .and_then(|d| ctx.layout.locate(&d));
    match delegated {
        Some((_, path)) => ctx.set_self_in(h, path),
        None if writes => return Err(Error::Refused(not_delegated(&own))),
        None => {}
    }
    Ok(())
}

/// Why `--root self` cannot be written below `own`, and how to get a subtree that can.
fn not_delegated(own: &str) -> String {
    let unit = detect::unit_of(own).unwrap_or("the root cgroup");
    format!(
        "--root self: cgctl runs in {own} ({unit}), which systemd did not delegate: the \
         cgroups below it are systemd's. Run cgctl in a delegated scope \
         (systemd-run --scope -p Delegate=yes cgctl ...; as a user, add --user), or leave \
         --root self out and let cgctl ask systemd for a scope (--systemd yes)"
    )
}

/// systemd, when cgctl is to go through it for this invocation.
pub struct Systemd {
    pub bus: Bus,
    /// `--slice`, or the manager's usual one.
    pub slice: String,
    v2: usize,
}

/// Decides `--systemd` for this invocation: with `auto`, systemd when it manages the
/// tree and the root names resolve below is not inside a delegated subtree.
pub fn choose(how: Use, ctx: &Ctx, slice: Option<&str>) -> Result<Option<Systemd>> {
    if how == Use::No {
        return Ok(None);
    }
    let managed = detect::manages(Path::new("/run"), &ctx.layout);
    let v2 = v2_mount(ctx);
    let (h, mount) = match (managed, v2) {
        (true, Some(v2)) => v2,
        _ if how == Use::Yes => {
            return Err(Error::Unsupported(
                "--systemd yes: systemd does not manage the cgroup tree here (no /run/systemd/system, or not a cgroup v2 host)".to_string(),
            ))
        }
        _ => return Ok(None),
    };
    if how == Use::Auto {
        let base = match &ctx.root {
            Root::Top => None,
            Root::SelfCgroup => own_path()?,
            Root::Named(Name::Relative(r)) => Some(join_cgroup("/", r)),
            Root::Named(Name::Absolute(p)) => ctx.layout.locate(p).map(|(_, p)| p),
        };
        let dir = base.and_then(|b| ctx.layout.hierarchies[h].dir_of(&b));
        if dir.is_some_and(|d| detect::delegated_ancestor(&d, &mount, uid()).is_some()) {
            return Ok(None);
        }
    }
    let scope = Scope::for_caller();
    let slice = slice.map_or_else(
        || match scope {
            Scope::System => "system.slice".to_string(),
            Scope::User => "app.slice".to_string(),
        },
        str::to_string,
    );
    Ok(Some(Systemd {
        bus: Bus::new(scope),
        slice,
        v2: h,
    }))
}

/// The scope unit for cgctl name `name`: `cgctl-NAME.scope`, with `/` as `-` and
/// every other byte systemd does not allow in a unit name as `\xHH` (`-` stays: a
/// scope's name, unlike a slice's, says nothing about where it is).
pub fn scope_name(name: &str) -> String {
    let mut out = String::from("cgctl-");
    for b in name.trim_matches('/').bytes() {
        match b {
            b'/' => out.push('-'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b':' | b'_' | b'.' | b'-' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push_str(".scope");
    out
}

impl Systemd {
    /// The directory of a unit's cgroup, from systemd's `ControlGroup`.
    fn unit_dir(&self, ctx: &Ctx, unit: &str) -> Result<PathBuf> {
        let cg = self.bus.control_group(unit)?;
        ctx.layout.hierarchies[self.v2]
            .dir_of(&cg)
            .filter(|_| !cg.is_empty())
            .ok_or_else(|| Error::NoCgroup {
                name: unit.to_string(),
                detail: format!(" (systemd says its cgroup is '{cg}', not mounted here)"),
            })
    }

    /// Starts `unit` holding `pids` with `limits`, or, when it is already there (a
    /// second `limit --cgroup NAME`), moves `pids` into it and sets `limits` on it for
    /// this boot; returns what the kernel made of them.
    fn start(
        &self,
        ctx: &Ctx,
        unit: &str,
        pids: &[u32],
        limits: &[(Limit, String)],
    ) -> Result<(PathBuf, Vec<Applied>)> {
        let props: Vec<_> = limits
            .iter()
            .flat_map(|(l, _)| properties::properties(l))
            .collect();
        if self.bus.has_unit(unit)? {
            if !pids.is_empty() {
                self.bus.attach(unit, pids)?;
            }
            self.bus.set_properties(unit, &props)?;
        } else {
            self.bus.start_scope(unit, &self.slice, pids, &props)?;
        }
        let dir = self.unit_dir(ctx, unit)?;
        let cg = CgroupDir::open(&dir)?;
        let applied = limits
            .iter()
            .map(|(l, text)| read_back(&cg, l, text))
            .collect();
        Ok((dir, applied))
    }

    /// `cgctl limit` through systemd: each PID in its own scope `cgctl-PID.scope`
    /// (all in `cgctl-NAME.scope` with `--cgroup NAME`); a cgroup that is a unit's
    /// gets the property for this boot (`SetUnitProperties`); any other cgroup, its
    /// files.
    pub fn limit(&self, ctx: &Ctx, req: &crate::ops::LimitRequest) -> Result<Vec<Applied>> {
        let limits = [(req.limit.clone(), req.value.clone())];
        let mut pids = Vec::new();
        let mut cgroups = Vec::new();
        for t in &req.targets {
            match crate::ops::Target::parse(t)? {
                crate::ops::Target::Pid(pid) => {
                    let held = Held::open(pid, false)?;
                    held.refuse_protected(req.force)?;
                    pids.push(held);
                }
                crate::ops::Target::Cgroup(name) => cgroups.push(ctx.existing(&name, &[self.v2])?),
            }
        }
        let mut out = Vec::new();
        let mut start = |held: &[Held], name: &str| -> Result<()> {
            for h in held {
                h.ensure_same()?;
            }
            let ids: Vec<u32> = held.iter().map(|h| h.pid().unsigned_abs()).collect();
            out.extend(self.start(ctx, &scope_name(name), &ids, &limits)?.1);
            Ok(())
        };
        match &req.cgroup {
            Some(name) if !pids.is_empty() => start(&pids, name)?,
            _ => {
                for h in &pids {
                    start(std::slice::from_ref(h), &h.pid().to_string())?;
                }
            }
        }
        // Files set on plain cgroups get their old values back if a later one fails.
        let mut restores = Vec::new();
        for loc in cgroups.iter().flatten() {
            let unit = loc
                .path
                .rsplit('/')
                .next()
                .filter(|c| detect::unit_of(c).is_some());
            match unit {
                Some(unit) => {
                    self.bus
                        .set_properties(unit, &properties::properties(&req.limit))?;
                    out.push(read_back(
                        &CgroupDir::open(&loc.dir)?,
                        &req.limit,
                        &req.value,
                    ));
                }
                None => {
                    let (applied, restore) =
                        apply::apply(ctx, loc, &req.limit, &req.value, req.force)?;
                    restores.push(restore);
                    out.push(applied);
                }
            }
        }
        restores
            .into_iter()
            .for_each(crate::cgroup::write::Restore::keep);
        Ok(out)
    }

    /// `cgctl exec` through systemd: cgctl itself in `cgctl-CGROUP.scope` with the
    /// limits; then COMMAND is exec'd there.
    pub fn exec_prepare(
        &self,
        ctx: &Ctx,
        req: &crate::exec::ExecRequest,
    ) -> Result<(PathBuf, Vec<Applied>, PathBuf)> {
        let Some(prog) = req.command.first() else {
            return Err(Error::Usage("no COMMAND given".to_string()));
        };
        let program = crate::exec::find_program(Path::new(prog)).map_err(|source| Error::Exec {
            command: prog.to_string_lossy().into_owned(),
            source,
        })?;
        let unit = scope_name(&req.cgroup);
        let (dir, applied) = self.start(ctx, &unit, &[std::process::id()], &req.limits)?;
        Ok((dir, applied, program))
    }

    /// The unit whose own cgroup `dir` is, if it is one.
    pub fn unit_at(&self, ctx: &Ctx, dir: &Path) -> Option<String> {
        let (_, path) = ctx.layout.locate(dir)?;
        let last = path.rsplit('/').next()?;
        detect::unit_of(last).map(str::to_string)
    }

    /// The cgroup2 locations of a name; none when it is not there (an absolute path in
    /// a named v1 hierarchy, a cgroup that does not exist: the files' way says why).
    fn v2_locations(&self, ctx: &Ctx, name: &str) -> Result<Vec<crate::cgpath::Location>> {
        Ok(ctx
            .existing(&Name::parse(name)?, &[self.v2])
            .unwrap_or_default())
    }

    /// The cgctl scope (`cgctl-*.scope`) whose own cgroup a name is, with its directory.
    fn cgctl_scope(&self, ctx: &Ctx, name: &str) -> Result<Option<(String, PathBuf)>> {
        let locs = self.v2_locations(ctx, name)?;
        Ok(locs.into_iter().find_map(|l| {
            let unit = self.unit_at(ctx, &l.dir)?;
            unit.starts_with("cgctl-").then_some((unit, l.dir))
        }))
    }

    /// `cgctl rm`: a cgctl scope is stopped (`KillUnit` first with `--kill`), and
    /// systemd removes its cgroup; every other cgroup is removed as without systemd.
    pub fn rm_request(&self, ctx: &Ctx, mut req: crate::ops::RmRequest) -> Result<Vec<PathBuf>> {
        let mut units = Vec::new();
        let mut rest = Vec::new();
        for name in std::mem::take(&mut req.cgroups) {
            match self.cgctl_scope(ctx, &name)? {
                Some(u) => units.push(u),
                None => rest.push(name),
            }
        }
        let mut out = Vec::new();
        for (unit, dir) in units {
            if req.kill {
                self.bus.kill(&unit)?;
            }
            self.bus.stop(&unit)?;
            out.push(dir);
        }
        if !rest.is_empty() {
            req.cgroups = rest;
            out.extend(crate::ops::rm(ctx, &req)?);
        }
        Ok(out)
    }

    /// `cgctl freeze`/`thaw`: a unit's own cgroup through `FreezeUnit`/`ThawUnit`,
    /// any other as without systemd.
    pub fn freeze_request(&self, ctx: &Ctx, name: &str, frozen: bool) -> Result<Vec<PathBuf>> {
        let locs = self.v2_locations(ctx, name)?;
        let unit = locs
            .iter()
            .find_map(|l| Some((self.unit_at(ctx, &l.dir)?, l.dir.clone())));
        match unit {
            Some((unit, dir)) => {
                self.bus.freeze(&unit, frozen)?;
                Ok(vec![dir])
            }
            None => crate::ops::freeze(ctx, name, frozen),
        }
    }
}

/// `cgctl mode`'s line about systemd.
pub fn describe(s: &Status) -> String {
    format!(
        "systemd {} manages the tree; cgctl runs in {}; delegated subtree: {}",
        s.version.as_deref().unwrap_or("(version unknown: no bus)"),
        s.unit.as_deref().unwrap_or("no unit"),
        s.delegated
            .as_deref()
            .map_or_else(|| "none".to_string(), |d| d.display().to_string()),
    )
}

/// What systemd wrote for `limit` in the unit's cgroup, read back, as `limit` reports.
fn read_back(dir: &CgroupDir, limit: &Limit, requested: &str) -> Applied {
    let res = limit.resource();
    let file = properties::v2_file(res);
    let read = dir
        .read_opt(file)
        .map_or_else(|| "?".to_string(), |s| s.trim().to_string());
    let written = properties::properties(limit)
        .iter()
        .map(properties::describe)
        .collect::<Vec<_>>()
        .join(" ");
    let files = vec![FileValue {
        file,
        written,
        read,
        clamped: false,
    }];
    Applied {
        cgroup: dir.path().to_path_buf(),
        resource: res,
        requested: requested.to_string(),
        effective: apply::effective(dir, res, Version::V2, &files),
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_are_escaped() {
        assert_eq!(scope_name("4242"), "cgctl-4242.scope");
        assert_eq!(scope_name("box/web"), "cgctl-box-web.scope");
        assert_eq!(scope_name("sd-exec"), "cgctl-sd-exec.scope");
        assert_eq!(scope_name("a b\\c"), "cgctl-a\\x20b\\x5cc.scope");
    }

    #[test]
    fn outside_a_delegated_scope_root_self_says_how_to_get_one() {
        let why = not_delegated("/user.slice/user-1000.slice/session-3.scope");
        assert!(
            why.contains("session-3.scope), which systemd did not delegate"),
            "{why}"
        );
        assert!(
            why.contains("systemd-run --scope -p Delegate=yes cgctl"),
            "{why}"
        );
        assert!(why.contains("--systemd yes"), "{why}");
        assert!(not_delegated("/").contains("(the root cgroup)"));
    }

    #[test]
    fn root_self_is_untouched_without_systemd() {
        if Path::new("/run/systemd/system").exists() {
            return;
        }
        let Ok(mut ctx) = Ctx::new(Some("self")) else {
            return;
        };
        let name = Name::parse("x").unwrap();
        let hiers = ctx.layout.default_hierarchies();
        let before = ctx.resolver().resolve(&name, &hiers).unwrap();
        // no refusal, and names resolve below cgctl's own cgroup as before
        root_self(&mut ctx, Use::Yes, true).unwrap();
        assert_eq!(ctx.resolver().resolve(&name, &hiers).unwrap(), before);
    }

    #[test]
    fn no_means_no_and_auto_is_no_without_systemd() {
        if Path::new("/run/systemd/system").exists() {
            return;
        }
        let Ok(ctx) = Ctx::new(None) else { return };
        assert!(choose(Use::No, &ctx, None).unwrap().is_none());
        assert!(choose(Use::Auto, &ctx, None).unwrap().is_none());
        let err = choose(Use::Yes, &ctx, None)
            .err()
            .expect("yes needs systemd");
        assert!(err.to_string().contains("--systemd yes"), "{err}");
    }
}
