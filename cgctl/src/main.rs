use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

use cgctl::error::{Error, EXIT_EXEC_FAILED, EXIT_USAGE};
use cgctl::exec::ExecRequest;
use cgctl::ops::{self, LimitRequest};
use cgctl::resource::Resource;
use cgctl::value::DEFAULT_PERIOD_US;
use cgctl::Ctx;

const AFTER_HELP: &str = "\
CGROUP is a path relative to the hierarchy root (box/web, as with cgcreate), resolved in
every hierarchy that applies, or an absolute path inside a mounted cgroup filesystem
(/sys/fs/cgroup/memory/box). With --root, relative names resolve below that cgroup;
--root self means the cgroup cgctl itself is in, in each hierarchy. Names with '..',
or that lead outside a cgroup filesystem, are refused before anything is written.
A TARGET of digits only is a PID.

Values: sizes are bytes or K/M/G/T/P/E with optional B or iB, any case, base 1024
(100M = 104857600), or N% of physical memory; 'max', 'infinity' or -1 remove a limit.
cpu is a decimal number of CPUs (0.5 = 50000 µs every 100000 µs). cpu-weight and
io-weight are 1-10000 (v2 scale). On v1, cpu.shares = 2 + (weight-1)*262142/9999
rounded up (1 -> 2, 100 -> 2598, 10000 -> 262144; the inverse of runc's mapping) and
blkio.weight = 10 + (weight-1)*990/9999.

Exit status:
  0        success
  1        the operation failed (the message says what, on what, and why)
  2        usage error: bad arguments, value or name; nothing was written
  exec:    COMMAND's status; 125 if cgctl failed, 126 COMMAND cannot be executed,
           127 COMMAND not found";

/// Create cgroups, move processes, set limits and read usage on cgroup v1, hybrid
/// and v2 hosts.
#[derive(Parser, Debug)]
#[command(name = "cgctl", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    /// Resolve relative cgroup names below CGROUP ('self': cgctl's own cgroup)
    #[arg(long, global = true, env = "CGCTL_ROOT", value_name = "CGROUP")]
    root: Option<String>,
    /// Print results as JSON on stdout
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the host's layout (v1, hybrid or v2), then each hierarchy
    Mode,
    /// Create cgroups (with their ancestors)
    Create {
        #[arg(required = true, value_name = "CGROUP")]
        cgroups: Vec<String>,
        /// Controllers whose hierarchies get the cgroup [default: all with controllers]
        #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
        controllers: Vec<String>,
    },
    /// Move processes into a cgroup ('-' reads PIDs from stdin, one a line)
    Add {
        cgroup: String,
        #[arg(required = true, value_name = "PID")]
        pids: Vec<String>,
        /// Move single threads (v1 tasks, v2 cgroup.threads) instead of processes
        #[arg(long)]
        threads: bool,
        /// Only in the hierarchies of these controllers
        #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
        controllers: Vec<String>,
    },
    /// Set a limit on PIDs (moved into cgctl/PID) or cgroups; prints the cgroup
    Limit {
        #[arg(value_enum)]
        resource: Resource,
        #[arg(allow_hyphen_values = true)]
        value: String,
        #[arg(required = true, value_name = "TARGET")]
        targets: Vec<String>,
        /// For PIDs: the cgroup to move them into [default: cgctl/PID]
        #[arg(long, value_name = "CGROUP")]
        cgroup: Option<String>,
        /// CPU period in microseconds, for cpu [default: 100000]
        #[arg(long, value_name = "US")]
        period: Option<u64>,
        /// On v2, set a memory limit below current usage (the kernel OOM-kills)
        #[arg(long)]
        force: bool,
    },
    /// Run COMMAND in a cgroup (created if needed) with limits; exits with its status
    Exec {
        /// RESOURCE=VALUE, repeatable
        #[arg(short = 'l', long = "limit", value_name = "RESOURCE=VALUE", value_parser = parse_pair)]
        limits: Vec<(Resource, String)>,
        /// Controllers whose hierarchies get the cgroup [default: all with controllers]
        #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
        controllers: Vec<String>,
        /// CPU period in microseconds, for a cpu limit [default: 100000]
        #[arg(long, value_name = "US")]
        period: Option<u64>,
        /// On v2, set a memory limit below current usage
        #[arg(long)]
        force: bool,
        cgroup: String,
        #[arg(required = true, last = true, value_name = "COMMAND")]
        command: Vec<OsString>,
    },
    /// Limits and usage of a cgroup, or of a PID's cgroups
    Show { target: String },
    /// List the cgroups below CGROUP [default: the root]
    Ls {
        cgroup: Option<String>,
        #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
        controllers: Vec<String>,
    },
    /// The cgroups below CGROUP with their processes, like systemd-cgls
    Tree {
        cgroup: Option<String>,
        #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
        controllers: Vec<String>,
    },
    /// A PID's cgroup in every hierarchy
    Which { pid: String },
    /// Remove cgroups, deepest first
    Rm {
        #[arg(required = true, value_name = "CGROUP")]
        cgroups: Vec<String>,
        /// Also remove the cgroups below
        #[arg(short = 'r', long)]
        recursive: bool,
        /// Kill the processes inside first (cgroup.kill, else SIGKILL until empty)
        #[arg(long)]
        kill: bool,
        #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
        controllers: Vec<String>,
    },
    /// Freeze every process in a cgroup (waits until frozen)
    Freeze { cgroup: String },
    /// Thaw a frozen cgroup
    Thaw { cgroup: String },
    /// Mount a v1 hierarchy (named, or with controllers) or cgroup2 on DIR
    Mount {
        /// Name of a v1 hierarchy (name=NAME)
        #[arg(long)]
        name: Option<String>,
        /// Controllers of a v1 hierarchy
        #[arg(
            short = 'c',
            long,
            value_delimiter = ',',
            value_name = "CONTROLLERS",
            conflicts_with = "v2"
        )]
        controllers: Vec<String>,
        /// Mount cgroup2
        #[arg(long, conflicts_with = "name")]
        v2: bool,
        dir: PathBuf,
    },
    /// Unmount a cgroup filesystem mounted on DIR
    Umount { dir: PathBuf },
}

fn parse_pair(s: &str) -> Result<(Resource, String), String> {
    let (r, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not RESOURCE=VALUE"))?;
    let res: Resource = r.parse().map_err(|e: Error| e.to_string())?;
    Ok((res, v.to_string()))
}

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
