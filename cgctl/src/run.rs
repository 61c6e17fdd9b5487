//! Running one parsed invocation: the request to its library call, the result to
//! stdout. The binary only parses, calls [`run`] and exits with its status.

use nscli::exit::Failure;
use nscli::output::Output;

use crate::cli::{Invocation, Request};
use crate::error::{Error, Result};
use crate::print::{Done, ExecReport};
use crate::systemd::{self, Systemd};
use crate::undo::Undo;
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
    // `--root self` on a systemd host: the delegated subtree (writes need one).
    let ctx_for = |writes: bool| -> Result<Ctx> {
        let mut ctx = Ctx::new(root.as_deref())?;
        systemd::root_self(&mut ctx, how, writes)?;
        Ok(ctx)
    };
    let ctx = || ctx_for(false);
    let wctx = || ctx_for(true);
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
            let ctx = wctx()?;
            let (created, undo) = ops::create(&ctx, &req)?;
            keep_if_written(undo, out, |out| {
                print::done(out, &Done::Created { created: &created }, json, quiet)
            })
        }
        Request::Add(req) => {
            let ctx = wctx()?;
            let (cgroups, undo) = ops::add(&ctx, &req)?;
            let done = Done::Added {
                cgroups: &cgroups,
                pids: &req.pids,
                threads: req.threads,
            };
            keep_if_written(undo, out, |out| print::done(out, &done, json, quiet))
        }
        Request::Limit(req) => {
            let ctx = wctx()?;
            match sd(&ctx)? {
                Some(s) => print::limit(out, &s.limit(&ctx, &req)?, json),
                None => {
                    let (applied, undo) = ops::limit(&ctx, &req)?;
                    keep_if_written(undo, out, |out| print::limit(out, &applied, json))
                }
            }
        }
        Request::Exec(req) => {
            let ctx = wctx().map_err(Error::before_exec)?;
            match sd(&ctx).map_err(Error::before_exec)? {
                Some(s) => exec_systemd(&s, &ctx, &req, json, out),
                None => exec(&ctx, &req, json, out),
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
            let ctx = wctx()?;
            let dirs = match sd(&ctx)? {
                Some(s) => s.rm_request(&ctx, req)?,
                None => ops::rm(&ctx, &req)?,
            };
            print::done(out, &Done::Removed { removed: &dirs }, json, quiet)
        }
        Request::Freeze { cgroup, frozen } => {
            let ctx = wctx()?;
            let dirs = match sd(&ctx)? {
                Some(s) => s.freeze_request(&ctx, &cgroup, frozen)?,
                None => ops::freeze(&ctx, &cgroup, frozen)?,
            };
            print::dirs(out, &dirs, json)
        }
    }
}

/// Prints a command's result with `print` and writes it out; only then is what the
/// command changed kept. A result that cannot be written undoes it all (exit 1: a
/// script that got nothing has nothing to clean up); a reader that went away keeps it
/// (`| head` ends quietly, with status 0).
fn keep_if_written(
    undo: Undo,
    out: &mut Output,
    print: impl FnOnce(&mut Output) -> Result<()>,
) -> Result<()> {
    let written = print(out).and_then(|()| Ok(out.flush()?));
    match &written {
        Err(e) if !e.is_closed_pipe() => drop(undo),
        _ => undo.keep(),
    }
    written
}

/// `cgctl exec`: prepares, reports (flushed before COMMAND's output), then execs.
fn exec(ctx: &Ctx, req: &exec::ExecRequest, json: bool, out: &mut Output) -> Result<()> {
    let prepared = exec::prepare(ctx, req)?;
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
