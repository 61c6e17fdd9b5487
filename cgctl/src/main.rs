use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use cgctl::cli::{Cli, Command};
use cgctl::error::{Error, EXIT_EXEC_FAILED, EXIT_USAGE};
use cgctl::exec::ExecRequest;
use cgctl::ops::{self, LimitRequest};
use cgctl::resource::Resource;
use cgctl::value::DEFAULT_PERIOD_US;
use cgctl::Ctx;

fn print_json<T: serde::Serialize>(v: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(v)
        .map_err(|e| Error::Usage(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

fn pids_from(args: &[String]) -> Result<Vec<i32>, Error> {
    let mut out = Vec::new();
    for a in args {
        if a == "-" {
            out.extend(cgctl::procs::read_pids(std::io::stdin().lock())?);
        } else {
            out.push(cgctl::procs::parse_pid(a)?);
        }
    }
    Ok(out)
}

fn run(cli: Cli) -> Result<i32, Error> {
    let json = cli.json;
    if let Command::Mount {
        name,
        controllers,
        v2,
        dir,
    } = &cli.command
    {
        let kind = if *v2 {
            cgctl::mount::Kind::V2
        } else {
            cgctl::mount::Kind::V1 {
                controllers: controllers.clone(),
                name: name.clone(),
            }
        };
        cgctl::mount::mount_at(&kind, dir)?;
        return Ok(0);
    }
    if let Command::Umount { dir } = &cli.command {
        let children = cgctl::mount::umount_at(dir)?;
        if children > 0 {
            eprintln!("cgctl: note: the hierarchy still has {children} cgroup(s) and lives on, hidden, until they are removed");
        }
        return Ok(0);
    }
    let ctx = Ctx::new(cli.root.as_deref())?;
    match cli.command {
        Command::Mode => {
            if json {
                print_json(&ctx.layout)?;
            } else {
                let mut out = format!("{}\n", ctx.layout.mode);
                for h in &ctx.layout.hierarchies {
                    for m in &h.mounts {
                        out.push_str(&format!(
                            "{}\t{}\t{}\n",
                            h.label(),
                            m.mount_point.display(),
                            if h.controllers.is_empty() {
                                "-".to_string()
                            } else {
                                h.controllers.join(",")
                            }
                        ));
                    }
                }
                print!("{out}");
            }
        }
        Command::Create {
            cgroups,
            controllers,
        } => {
            let made = ops::create(&ctx, &cgroups, &controllers)?;
            if json {
                print_json(&made)?;
            }
        }
        Command::Add {
            cgroup,
            pids,
            threads,
            controllers,
        } => {
            let pids = pids_from(&pids)?;
            let dirs = ops::add(&ctx, &cgroup, &pids, threads, &controllers)?;
            if json {
                print_json(&dirs)?;
            }
        }
        Command::Limit {
            resource,
            value,
            targets,
            cgroup,
            period,
            force,
        } => {
            if period.is_some() && resource != Resource::Cpu {
                return Err(Error::Usage(format!(
                    "--period only applies to cpu, not to {resource}"
                )));
            }
            let req = LimitRequest {
                resource,
                value,
                targets,
                cgroup,
                period_us: period.unwrap_or(DEFAULT_PERIOD_US),
                force,
            };
            let applied = ops::limit(&ctx, &req)?;
            if json {
                print_json(&applied)?;
            } else {
                let mut out = std::io::stdout().lock();
                for a in &applied {
                    let _ = writeln!(out, "{}", a.cgroup.display());
                    eprintln!("{}", a.describe());
                }
            }
        }
        Command::Exec {
            limits,
            controllers,
            period,
            force,
            cgroup,
            command,
        } => {
            if period.is_some() && !limits.iter().any(|(r, _)| *r == Resource::Cpu) {
                return Err(Error::Usage(
                    "--period only applies to a cpu limit (-l cpu=N)".to_string(),
                ));
            }
            let req = ExecRequest {
                cgroup,
                limits,
                controllers,
                period_us: period.unwrap_or(DEFAULT_PERIOD_US),
                force,
                command,
            };
            let prepared = cgctl::exec::prepare(&ctx, &req)?;
            for a in &prepared.applied {
                eprintln!("cgctl: {}", a.describe());
            }
            return Err(prepared.exec(&req.command));
        }
        Command::Show { target } => {
            let report = ops::show(&ctx, &target)?;
            if json {
                print_json(&report)?;
            } else {
                print!("{}", report.render());
            }
        }
        Command::Ls {
            cgroup,
            controllers,
        } => {
            let entries = ops::ls(&ctx, cgroup.as_deref(), &controllers)?;
            if json {
                print_json(&entries)?;
            } else {
                let mut out = std::io::stdout().lock();
                for e in entries {
                    let _ = writeln!(out, "{}:{}", e.hierarchy, e.path);
                }
            }
        }
        Command::Tree {
            cgroup,
            controllers,
        } => {
            let trees = ops::tree(&ctx, cgroup.as_deref(), &controllers)?;
            if json {
                print_json(&trees)?;
            } else {
                for t in &trees {
                    print!("{}", cgctl::tree::render(t));
                }
            }
        }
        Command::Which { pid } => {
            let pid = cgctl::procs::parse_pid(&pid)?;
            let lines = ops::which(&ctx, pid)?;
            if json {
                print_json(&lines)?;
            } else {
                for w in lines {
                    let dir = w.dir.map_or("-".to_string(), |d| d.display().to_string());
                    println!("{}\t{}\t{dir}", w.hierarchy, w.path);
                }
            }
        }
        Command::Rm {
            cgroups,
            recursive,
            kill,
            controllers,
        } => {
            ops::rm(&ctx, &cgroups, recursive, kill, &controllers)?;
        }
        Command::Freeze { cgroup } => {
            ops::freeze(&ctx, &cgroup, true)?;
        }
        Command::Thaw { cgroup } => {
            ops::freeze(&ctx, &cgroup, false)?;
        }
        Command::Mount { .. } | Command::Umount { .. } => {}
    }
    Ok(0)
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
    let is_exec = matches!(cli.command, Command::Exec { .. });
    match run(cli) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
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
