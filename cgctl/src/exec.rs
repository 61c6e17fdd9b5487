//! `cgctl exec`: create a cgroup, apply limits, move cgctl itself in and exec COMMAND
//! (as cgexec and `systemd-run --scope` do).

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::apply::{self, Applied};
use crate::cgpath::Name;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::held::Held;
use crate::resource::{Limit, Resource};
use crate::undo::Undo;

/// `cgctl exec`.
#[derive(Debug)]
pub struct ExecRequest {
    pub cgroup: String,
    /// Each limit with its VALUE as given.
    pub limits: Vec<(Limit, String)>,
    pub controllers: Vec<String>,
    pub force: bool,
    pub command: Vec<OsString>,
}

/// Finds `prog` the way execvp would: as given if it has a slash, else in $PATH. A
/// program that is not there is ENOENT; one that is there but cannot be run (a
/// directory, no execute permission) is EACCES, found before anything is made.
pub fn find_program(prog: &Path) -> std::result::Result<PathBuf, Errno> {
    use nix::unistd::{access, AccessFlags};
    let runnable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file()) && access(p, AccessFlags::X_OK).is_ok()
    };
    if prog.as_os_str().as_bytes().contains(&b'/') {
        if !prog.exists() {
            return Err(Errno::ENOENT);
        }
        return if runnable(prog) {
            Ok(prog.to_path_buf())
        } else {
            Err(Errno::EACCES)
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut found_unrunnable = false;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(prog);
        if runnable(&p) {
            return Ok(p);
        }
        found_unrunnable |= p.exists();
    }
    Err(if found_unrunnable {
        Errno::EACCES
    } else {
        Errno::ENOENT
    })
}

/// Everything `exec` did before exec(2): undone by [`Prepared::exec`] if exec fails.
pub struct Prepared<'a> {
    pub applied: Vec<Applied>,
    /// The cgroup's directory in each hierarchy.
    pub cgroups: Vec<PathBuf>,
    program: PathBuf,
    undo: Undo<'a>,
}

/// Does everything up to exec: checks COMMAND and every value and name, creates the
/// cgroup, applies the limits and moves cgctl in. On failure nothing is left behind.
pub fn prepare<'a>(ctx: &'a Ctx, req: &ExecRequest) -> Result<Prepared<'a>> {
    let Some(prog) = req.command.first() else {
        return Err(Error::Usage("no COMMAND given".to_string()));
    };
    let program = find_program(Path::new(prog)).map_err(|source| Error::Exec {
        command: prog.to_string_lossy().into_owned(),
        source,
    })?;
    let name = Name::parse(&req.cgroup)?;
    let mut values: Vec<(Resource, &Limit, &str, usize)> = Vec::new();
    for (limit, text) in &req.limits {
        let res = limit.resource();
        values.push((res, limit, text.as_str(), ctx.resource_hierarchy(res)?));
    }
    // Hierarchies: those the limits need plus those of -c; with neither, the default
    // ones. A hierarchy no limit needs and -c does not name is left alone.
    let mut controllers = req.controllers.clone();
    let hiers = if matches!(name, Name::Absolute(_)) {
        Vec::new()
    } else {
        let mut hiers = if req.controllers.is_empty() && !values.is_empty() {
            Vec::new()
        } else {
            ctx.hierarchies(&req.controllers)?
        };
        for (_, _, _, h) in &values {
            if !hiers.contains(h) {
                hiers.push(*h);
            }
        }
        hiers
    };
    for (res, _, _, h) in &values {
        controllers.push(
            res.controller(ctx.layout.hierarchies[*h].version)
                .to_string(),
        );
    }
    let locs = ctx.resolver().resolve(&name, &hiers)?;
    let mut undo = Undo::new(ctx);
    for loc in &locs {
        let v2c = ctx.v2_controllers(loc.hierarchy, &controllers);
        undo.creator().create(loc, &v2c)?;
    }
    let mut applied = Vec::new();
    for (res, val, text, h) in &values {
        let loc = locs.iter().find(|l| l.hierarchy == *h).ok_or_else(|| {
            Error::Unsupported(format!("{} has no cgroup for the {res} limit", req.cgroup))
        })?;
        let (done, restore) = apply::apply(ctx, loc, val, text, req.force)?;
        undo.restore(restore);
        applied.push(done);
    }
    // Move ourselves in; on failure the moves are undone, the limits put back, then
    // the cgroups removed.
    let me = std::rc::Rc::new(Held::open(std::process::id() as i32, false)?);
    let before = me.cgroups()?;
    for loc in &locs {
        let from = ctx.dir_in(&before, loc.hierarchy);
        let dir = crate::cgroup::CgroupDir::open(&loc.dir)?;
        undo.moves()
            .attach(&dir, from.as_deref(), ctx.version(loc), &me)?;
    }
    Ok(Prepared {
        applied,
        cgroups: locs.into_iter().map(|l| l.dir).collect(),
        program,
        undo,
    })
}

impl Prepared<'_> {
    /// Replaces cgctl with COMMAND; returns only if exec failed, after moving cgctl
    /// back, putting the limits back and removing the cgroups it made.
    pub fn exec(self, command: &[OsString]) -> Error {
        let err = exec_now(&self.program, command);
        drop(self.undo);
        err
    }
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
    // Rust ignores SIGPIPE, and an ignored signal stays ignored across exec: COMMAND
    // would see EPIPE instead of dying quietly (`yes | head`). Restore the default.
    // SAFETY: setting a signal's disposition to SIG_DFL; cgctl has no other threads.
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        )
    };
    match nix::unistd::execv(&path, &args) {
        Err(source) => Error::Exec {
            command: display,
            source,
        },
        Ok(never) => match never {},
    }
}
