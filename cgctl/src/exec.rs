//! `cgctl exec`: create a cgroup, apply limits, move cgctl itself in and exec COMMAND
//! (as cgexec and `systemd-run --scope` do).

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::cgpath::Name;
use crate::create::Creator;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::layout::Version;
use crate::limit::{self, Applied};
use crate::resource::{Resource, Value};
use crate::{ops, procs};

pub struct ExecRequest {
    pub cgroup: String,
    pub limits: Vec<(Resource, String)>,
    pub controllers: Vec<String>,
    pub period_us: u64,
    pub force: bool,
    pub command: Vec<OsString>,
}

/// Finds `prog` the way execvp would: as given if it has a slash, else in $PATH.
pub fn find_program(prog: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if prog.as_os_str().as_bytes().contains(&b'/') {
        // Let exec report EACCES for a file that is there but not runnable.
        return prog.exists().then(|| prog.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| runnable(p))
}

/// Does everything up to exec; returns only on failure (or with what was applied and
/// the program, for [`exec_now`]).
pub fn prepare(ctx: &Ctx, req: &ExecRequest) -> Result<(Vec<Applied>, PathBuf)> {
    let Some(prog) = req.command.first() else {
        return Err(Error::Usage("no COMMAND given".to_string()));
    };
    let program = find_program(Path::new(prog)).ok_or(Error::Exec {
        command: prog.to_string_lossy().into_owned(),
        source: Errno::ENOENT,
    })?;
    let name = Name::parse(&req.cgroup)?;
    let mut values: Vec<(Resource, Value, &str)> = Vec::new();
    for (res, v) in &req.limits {
        values.push((*res, ops::parse_limit(*res, v, req.period_us)?, v.as_str()));
    }
    // Hierarchies: those asked for (default: all), plus those the limits need.
    let mut controllers = req.controllers.clone();
    for (res, _, _) in &values {
        let c = res.controller(Version::V1);
        let c = if ctx.layout.hierarchy_for(c).is_some() {
            c
        } else {
            res.controller(Version::V2)
        };
        controllers.push(c.to_string());
    }
    let hiers = if matches!(name, Name::Absolute(_)) {
        Vec::new()
    } else {
        let mut hiers = ctx.hierarchies(&req.controllers)?;
        let limit_controllers = &controllers[req.controllers.len()..];
        if !limit_controllers.is_empty() {
            for h in ctx.hierarchies(limit_controllers)? {
                if !hiers.contains(&h) {
                    hiers.push(h);
                }
            }
        }
        hiers
    };
    let locs = ctx.resolver().resolve(&name, &hiers)?;
    let mut creator = Creator::new(ctx);
    for loc in &locs {
        let v2c = ctx.v2_controllers(loc.hierarchy, &controllers);
        creator.create(loc, &v2c)?;
    }
    let mut applied = Vec::new();
    for (res, val, text) in &values {
        let h = ctx
            .layout
            .hierarchy_for(res.controller(Version::V1))
            .or_else(|| ctx.layout.hierarchy_for(res.controller(Version::V2)));
        let loc = locs
            .iter()
            .find(|l| Some(l.hierarchy) == h)
            .ok_or_else(|| {
                Error::Unsupported(format!("{} has no cgroup for the {res} limit", req.cgroup))
            })?;
        applied.push(limit::apply(ctx, loc, *res, val, text, req.force)?);
    }
    // Move ourselves in; on failure move back, so the new cgroups can be removed.
    let me = std::process::id() as i32;
    let before = ops::pid_locations(ctx, me)?;
    for (i, loc) in locs.iter().enumerate() {
        if let Err(e) = procs::attach(&loc.dir, ctx.version(loc), me, false) {
            for moved in &locs[..i] {
                if let Some(orig) = before.iter().find(|b| b.hierarchy == moved.hierarchy) {
                    let _ = procs::attach(&orig.dir, ctx.version(orig), me, false);
                }
            }
            return Err(e);
        }
    }
    creator.finish();
    Ok((applied, program))
}

/// Replaces cgctl with COMMAND; returns only if exec failed.
pub fn exec_now(program: &Path, command: &[OsString]) -> Error {
    let display = command
        .first()
        .map_or_else(String::new, |c| c.to_string_lossy().into_owned());
    let to_c = |s: &[u8]| CString::new(s).ok();
    let Some(path) = to_c(program.as_os_str().as_bytes()) else {
        return Error::Usage(format!("'{display}' contains a NUL byte"));
    };
    let Some(args) = command
        .iter()
        .map(|a| to_c(a.as_bytes()))
        .collect::<Option<Vec<_>>>()
    else {
        return Error::Usage("an argument contains a NUL byte".to_string());
    };
    match nix::unistd::execv(&path, &args) {
        Err(source) => Error::Exec {
            command: display,
            source,
        },
        Ok(never) => match never {},
    }
}
