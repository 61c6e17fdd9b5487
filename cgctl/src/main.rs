use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use cgctl::cli::{Cli, Command, Invocation, Request};
use cgctl::error::{Error, EXIT_EXEC_FAILED, EXIT_USAGE};
use cgctl::{exec, mount, ops, print, Ctx};

/// Runs one request and prints its result.
fn run(inv: Invocation) -> Result<(), Error> {
    let Invocation {
        root,
        json,
        request,
    } = inv;
    let ctx = || Ctx::new(root.as_deref());
    match request {
        Request::Mount { kind, dir } => mount::mount_at(&kind, &dir),
        Request::Umount { dir } => {
            print::umount_note(mount::umount_at(&dir)?);
            Ok(())
        }
        Request::Mode => print::mode(&ctx()?.layout, json),
        Request::Create(req) => print::json_only(&ops::create(&ctx()?, &req)?, json),
        Request::Add(req) => print::json_only(&ops::add(&ctx()?, &req)?, json),
        Request::Limit(req) => print::limit(&ops::limit(&ctx()?, &req)?, json),
        Request::Exec(req) => {
            let ctx = ctx()?;
            let prepared = exec::prepare(&ctx, &req)?;
            print::exec_limits(&prepared.applied);
            Err(prepared.exec(&req.command))
        }
        Request::Show { target } => print::show(&ops::show(&ctx()?, &target)?, json),
        Request::Ls(req) => print::ls(&ops::ls(&ctx()?, &req)?, json),
        Request::Tree(req) => print::tree(&ops::tree(&ctx()?, &req)?, json),
        Request::Which { pid } => print::which(&ops::which(&ctx()?, pid)?, json),
        Request::Rm(req) => ops::rm(&ctx()?, &req),
        Request::Freeze { cgroup, frozen } => ops::freeze(&ctx()?, &cgroup, frozen).map(drop),
    }
}

/// clap's message in one line: its first paragraph (which names the missing
/// arguments or the possible values on the lines after the first), joined.
fn usage_line(text: &str) -> String {
    let line = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    if line.is_empty() {
        "invalid arguments".to_string()
    } else {
        line.to_string()
    }
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, and an ignored signal stays ignored across exec: COMMAND
    // of `exec` would see EPIPE instead of dying quietly (`yes | head`), and cgctl
    // itself would panic printing into a closed pipe. Restore the default.
    // SAFETY: setting a signal's disposition to SIG_DFL, before any thread exists.
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        )
    };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cgctl: {} (see 'cgctl --help')", usage_line(&e.to_string()));
            return ExitCode::from(EXIT_USAGE as u8);
        }
    };
    let is_exec = matches!(cli.command, Command::Exec(_));
    match cli.into_invocation(std::io::stdin().lock()).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cgctl: {e}");
            let code = match e.exit_code() {
                1 if is_exec => EXIT_EXEC_FAILED,
                c => c,
            };
            ExitCode::from(code as u8)
        }
    }
}
