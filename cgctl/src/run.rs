//! Running one parsed invocation: the request to its library call, the result to
//! stdout. The binary only parses, calls [`run`] and exits with its status.

use nscli::output::Output;

use crate::cli::{Invocation, Request};
use crate::error::{Error, Result};
use crate::print::{Done, ExecReport};
use crate::systemd::{self, Systemd};
use crate::{exec, mount, ops, print, watch, Ctx};

/// Runs one request and prints its result on `out`. `exec` returns only if it failed.
pub fn run(inv: Invocation, out: &mut Output) -> Result<()> {
    let Invocation {
        root,
        json,
        quiet,
        systemd: how,
        slice,
        request,
    } = inv;
    let ctx = || Ctx::new(root.as_deref());
    // systemd is only looked for by the commands it changes.
    let sd = |ctx: &Ctx| systemd::choose(how, ctx, slice.as_deref());
    match request {
        Request::Events { cgroups, follow } => {
            let ctx = ctx()?;
            if follow {
                watch::follow(&ctx, &cgroups, |ev| print::event(out, ev, json))
            } else {
                print::snapshots(out, &watch::snapshot(&ctx, &cgroups)?, json)
            }
        }
        Request::Wait(req) => watch::wait(&ctx()?, &req),
        Request::Top(req) => crate::topview::run(&ctx()?, &req, out),
        Request::Mount { kind, dir } => {
            let v2 = kind == mount::Kind::V2;
            mount::mount_at(&kind, &dir)?;
            print::mount(out, &dir, v2, json, quiet)
        }
        Request::Umount { dir } => {
            let children = mount::umount_at(&dir)?;
            print::umount(out, &dir, children, json)
        }
        Request::Mode(o) => {
            let ctx = ctx()?;
            let status = match how {
                systemd::Use::No => None,
                _ => systemd::status(&ctx)?,
            };
            print::mode(out, &ctx.layout, status.as_ref(), &o)
        }
        Request::Create(req) => {
            let created = ops::create(&ctx()?, &req)?;
            print::done(out, &Done::Created { created: &created }, json, quiet)
        }
        Request::Add(req) => {
            let cgroups = ops::add(&ctx()?, &req)?;
            let done = Done::Added {
                cgroups: &cgroups,
                pids: &req.pids,
                threads: req.threads,
            };
            print::done(out, &done, json, quiet)
        }
        Request::Limit(req) => {
            let ctx = ctx()?;
            let applied = match sd(&ctx)? {
                Some(s) => s.limit(&ctx, &req)?,
                None => ops::limit(&ctx, &req)?,
            };
            print::limit(out, &applied, json)
        }
        Request::Exec(req) => {
            let ctx = ctx().map_err(Error::before_exec)?;
            match sd(&ctx).map_err(Error::before_exec)? {
                Some(s) => exec_systemd(&s, &ctx, &req, json, out),
                None => exec(&req, root.as_deref(), json, out),
            }
            .map_err(Error::before_exec)
        }
        Request::Show { target } => print::show(out, &ops::show(&ctx()?, &target)?, json),
        Request::Ls(req, o) => print::ls(out, &ops::ls(&ctx()?, &req)?, &o),
        Request::Tree(req, o) => {
            let width = (!req.full).then(nscli::term::width);
            print::tree(out, &ops::tree(&ctx()?, &req)?, &o, width)
        }
        Request::Which { pid, output } => print::which(out, &ops::which(&ctx()?, pid)?, &output),
        Request::Rm(req) => {
            let ctx = ctx()?;
            let dirs = match sd(&ctx)? {
                Some(s) => s.rm_request(&ctx, req)?,
                None => ops::rm(&ctx, &req)?,
            };
            print::done(out, &Done::Removed { removed: &dirs }, json, quiet)
        }
        Request::Freeze { cgroup, frozen } => {
            let ctx = ctx()?;
            let dirs = match sd(&ctx)? {
                Some(s) => s.freeze_request(&ctx, &cgroup, frozen)?,
                None => ops::freeze(&ctx, &cgroup, frozen)?,
            };
            print::dirs(out, &dirs, json)
        }
    }
}

/// `cgctl exec`: prepares, reports (flushed before COMMAND's output), then execs.
fn exec(req: &exec::ExecRequest, root: Option<&str>, json: bool, out: &mut Output) -> Result<()> {
    let ctx = Ctx::new(root)?;
    let prepared = exec::prepare(&ctx, req)?;
    let report = ExecReport {
        cgroups: prepared.cgroups.iter().map(|d| d.as_path()).collect(),
        applied: &prepared.applied,
    };
    // A report that cannot be written: undo (dropping `prepared`), COMMAND never runs.
    print::exec(out, &report, json)?;
    Err(prepared.exec(&req.command))
}

/// `cgctl exec` through systemd: cgctl moves into a new scope, reports, then execs.
fn exec_systemd(
    sd: &Systemd,
    ctx: &Ctx,
    req: &exec::ExecRequest,
    json: bool,
    out: &mut Output,
) -> Result<()> {
    let (dir, applied, program) = sd.exec_prepare(ctx, req)?;
    let report = ExecReport {
        cgroups: vec![dir.as_path()],
        applied: &applied,
    };
    // A report that cannot be written: COMMAND never runs (the scope, empty once
    // cgctl exits, goes away with it).
    print::exec(out, &report, json)?;
    Err(exec::exec_now(&program, &req.command))
}
