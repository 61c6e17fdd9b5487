//! The command line: clap's definition of cgctl's options and commands, one `Args`
//! struct per command, and their conversion into the requests the library takes.

use std::ffi::OsString;
use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use nscli::format::OutputArgs;

use crate::error::{Error, Result};
use crate::exec::ExecRequest;
use crate::helptext::*;
use crate::ops::{AddRequest, CreateRequest, LimitRequest, ListRequest, RmRequest, TreeRequest};
use crate::resource::{Limit, Resource};
use crate::value::DEFAULT_PERIOD_US;
use crate::{mount, procs};

/// Create cgroups, move processes, set limits and read usage on cgroup v1, hybrid
/// and v2 hosts.
#[derive(Parser, Debug)]
#[command(name = "cgctl", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Resolve relative cgroup names below CGROUP ('self': cgctl's own cgroup, or the
    /// delegated scope it runs in where systemd manages the tree)
    #[arg(long, global = true, env = "CGCTL_ROOT", value_name = "CGROUP")]
    pub root: Option<String>,
    /// Print results as JSON on stdout (also after the command: COMMAND --json)
    #[arg(long)]
    pub json: bool,
    /// Go through systemd (transient scopes over D-Bus) where it manages the tree
    #[arg(
        long,
        global = true,
        env = "CGCTL_SYSTEMD",
        value_enum,
        default_value_t,
        value_name = "WHEN"
    )]
    pub systemd: crate::systemd::Use,
    /// With systemd: the slice of the scopes made [default: system.slice; app.slice of
    /// the user's manager when unprivileged]
    #[arg(long, global = true, env = "CGCTL_SLICE", value_name = "SLICE")]
    pub slice: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the host's layout (v1, hybrid or v2), then each hierarchy
    #[command(after_help = mode_help())]
    Mode(ModeArgs),
    /// Create cgroups (with their ancestors)
    #[command(after_help = CREATE_HELP)]
    Create(CreateArgs),
    /// Move processes into a cgroup ('-' reads PIDs from stdin, one a line)
    #[command(after_help = ADD_HELP)]
    Add(AddArgs),
    /// Set a limit on PIDs (moved into cgctl/PID) or cgroups; prints the cgroup
    #[command(after_help = LIMIT_HELP)]
    Limit(LimitArgs),
    /// Run COMMAND in a cgroup (created if needed) with limits; exits with its status
    #[command(
        override_usage = "cgctl exec [OPTIONS] CGROUP -- COMMAND...",
        after_help = EXEC_HELP
    )]
    Exec(ExecArgs),
    /// Limits, usage and pressure of a cgroup, or of the cgroups a PID is in (root
    /// cgroups marked, their host-wide figures left out)
    #[command(after_help = SHOW_HELP)]
    Show(ShowArgs),
    /// List the cgroups below CGROUP [default: the root]
    #[command(after_help = ls_help())]
    Ls(ListArgs),
    /// The cgroups below CGROUP with their processes, like systemd-cgls
    #[command(after_help = tree_help())]
    Tree(TreeArgs),
    /// A PID's cgroup in every hierarchy
    #[command(after_help = which_help())]
    Which(WhichArgs),
    /// Remove cgroups, deepest first
    #[command(after_help = RM_HELP)]
    Rm(RmArgs),
    /// Freeze every process in a cgroup (waits until frozen)
    #[command(after_help = FREEZE_HELP)]
    Freeze(FreezeArgs),
    /// Thaw a frozen cgroup
    #[command(after_help = FREEZE_HELP)]
    Thaw(FreezeArgs),
    /// OOMs, OOM kills, limit hits, populated/empty, frozen/thawed of cgroups
    #[command(after_help = EVENTS_HELP)]
    Events(EventsArgs),
    /// Live usage of the cgroups below CGROUP [default: the root], like systemd-cgtop
    #[command(after_help = TOP_HELP)]
    Top(TopArgs),
    /// Wait until a cgroup is empty, sees an OOM, or is frozen (exit 1 on timeout)
    #[command(after_help = WAIT_HELP)]
    Wait(WaitArgs),
    /// Mount a v1 hierarchy (named, or with controllers) or cgroup2 on DIR
    #[command(after_help = MOUNT_HELP)]
    Mount(MountArgs),
    /// Unmount a cgroup filesystem mounted on DIR
    #[command(after_help = UMOUNT_HELP)]
    Umount(UmountArgs),
}

/// `-q` of a command that prints what it did, one path a line.
#[derive(Args, Debug)]
pub struct QuietArg {
    /// Print nothing on success (errors still go to stderr)
    #[arg(short = 'q', long)]
    quiet: bool,
}

/// `--json` of a command that prints no table.
#[derive(Args, Debug)]
pub struct JsonArg {
    /// Print the result as one JSON document on stdout
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct ModeArgs {
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    json: JsonArg,
    #[command(flatten)]
    quiet: QuietArg,
    /// Cgroups to make, with their ancestors: paths below the hierarchy root or --root
    /// (box/web), or absolute paths in a cgroup filesystem
    #[arg(required = true, value_name = "CGROUP")]
    cgroups: Vec<String>,
    /// Controllers whose hierarchies get the cgroup, comma-separated (-c memory,pids;
    /// name=NAME for a named v1 hierarchy) [default: all with controllers]
    #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
    controllers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    #[command(flatten)]
    json: JsonArg,
    #[command(flatten)]
    quiet: QuietArg,
    /// The cgroup: a path below the hierarchy root or --root (box/web), or an absolute
    /// path in a cgroup filesystem (/sys/fs/cgroup/memory/box)
    cgroup: String,
    /// Processes to move, by PID (4242); '-' reads PIDs from stdin, one a line
    #[arg(required = true, value_name = "PID")]
    pids: Vec<String>,
    /// Move single threads (v1 tasks, v2 cgroup.threads) instead of processes
    #[arg(long)]
    threads: bool,
    /// Only in the hierarchies of these controllers, comma-separated (-c memory,pids)
    #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
    controllers: Vec<String>,
    /// Also move PID 1, a kernel thread or one of cgctl's own ancestors
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
pub struct LimitArgs {
    #[command(flatten)]
    json: JsonArg,
    /// What to limit
    #[arg(value_enum)]
    resource: Resource,
    /// The limit: for mem, mem-high and swap a size (100M, 1.5G, 512KiB, 10%, bytes);
    /// for cpu a number of CPUs (0.5, 2); for cpu-weight and io-weight 1-10000; for
    /// cpuset and mems a list (0-1,3); for pids a count. 'max' (also 'infinity', -1)
    /// removes a limit
    #[arg(allow_hyphen_values = true)]
    value: String,
    /// PIDs (digits only: each moved into cgctl/PID or --cgroup) or cgroups (box/web, or
    /// a path in a cgroup filesystem)
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,
    /// For PIDs: the cgroup to move them into [default: cgctl/PID]
    #[arg(long, value_name = "CGROUP")]
    cgroup: Option<String>,
    /// CPU period in microseconds (1000-1000000), for cpu [default: 100000]
    #[arg(long, value_name = "US")]
    period: Option<u64>,
    /// On v2, set a memory limit below current usage (the kernel OOM-kills); also
    /// move PID 1, a kernel thread or one of cgctl's own ancestors
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    #[command(flatten)]
    json: JsonArg,
    /// A limit, repeatable (-l mem=100M -l cpu=0.5 -l pids=max); RESOURCE and VALUE as
    /// for limit; only the hierarchies of the resources named (and of -c) get the cgroup
    #[arg(short = 'l', long = "limit", value_name = "RESOURCE=VALUE", value_parser = parse_pair)]
    limits: Vec<(Resource, String)>,
    /// Also the hierarchies of these controllers (-c pids,memory) [default: with -l,
    /// none; without -l, all with controllers]
    #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
    controllers: Vec<String>,
    /// CPU period in microseconds (1000-1000000), for a cpu limit [default: 100000]
    #[arg(long, value_name = "US")]
    period: Option<u64>,
    /// On v2, set a memory limit below current usage
    #[arg(long)]
    force: bool,
    /// The cgroup to run COMMAND in, created if missing (box/web, or a path in a
    /// cgroup filesystem)
    cgroup: String,
    /// Words after CGROUP but before `--`: a usage error that names the `--`.
    #[arg(hide = true, value_name = "WORD")]
    stray: Vec<OsString>,
    /// The command to run, after `--`
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    json: JsonArg,
    /// A cgroup (box/web, or a path in a cgroup filesystem), or a PID (digits only):
    /// the cgroups it is in
    target: String,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    output: OutputArgs,
    /// Where to start (box, or a path in a cgroup filesystem) [default: the root, or
    /// --root]
    cgroup: Option<String>,
    /// Only the hierarchies of these controllers, comma-separated (-c memory,pids)
    /// [default: every hierarchy]
    #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
    controllers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TreeArgs {
    #[command(flatten)]
    list: ListArgs,
    /// Whole command lines [default: cut to the terminal's width, else $COLUMNS or 80;
    /// JSON keeps them whole]
    #[arg(long)]
    full: bool,
    /// Also kernel threads (hidden by default: they sit in the root cgroups)
    #[arg(long)]
    kernel: bool,
    /// Only N levels of cgroups below CGROUP (--depth 0: CGROUP alone, 1: its children)
    #[arg(long, value_name = "N")]
    depth: Option<usize>,
    /// Cgroups only, no processes
    #[arg(long)]
    no_procs: bool,
}

#[derive(Args, Debug)]
pub struct WhichArgs {
    #[command(flatten)]
    output: OutputArgs,
    /// The process, by PID (digits only)
    pid: String,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[command(flatten)]
    json: JsonArg,
    #[command(flatten)]
    quiet: QuietArg,
    /// Cgroups to remove (box/web, or paths in a cgroup filesystem)
    #[arg(required = true, value_name = "CGROUP")]
    cgroups: Vec<String>,
    /// Also remove the cgroups below
    #[arg(short = 'r', long)]
    recursive: bool,
    /// Kill the processes inside first (cgroup.kill, else SIGKILL until empty)
    #[arg(long)]
    kill: bool,
    /// Only in the hierarchies of these controllers, comma-separated (-c memory,pids)
    /// [default: every hierarchy the cgroup is in]
    #[arg(short = 'c', long, value_delimiter = ',', value_name = "CONTROLLERS")]
    controllers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct FreezeArgs {
    #[command(flatten)]
    json: JsonArg,
    /// The cgroup (box/web, or a path in a cgroup filesystem)
    cgroup: String,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    json: JsonArg,
    /// Cgroups to watch (box/web, or paths in a cgroup filesystem)
    #[arg(required = true, value_name = "CGROUP")]
    cgroups: Vec<String>,
    /// Keep reporting events as they happen, one a line
    #[arg(short = 'f', long)]
    follow: bool,
}

#[derive(Args, Debug)]
pub struct TopArgs {
    #[command(flatten)]
    json: JsonArg,
    /// Where to start (box, or a path in a cgroup filesystem) [default: the root, or
    /// --root]
    cgroup: Option<String>,
    /// Seconds between iterations, a decimal (-d 0.5) [default: 1]
    #[arg(short = 'd', long, value_name = "SECONDS")]
    delay: Option<f64>,
    /// Stop after N iterations (-n 2), printing batches even on a terminal
    #[arg(short = 'n', long, value_name = "N")]
    iterations: Option<u64>,
    /// Order of the rows, biggest first (--sort mem)
    #[arg(long, value_enum, default_value = "cpu")]
    sort: crate::top::SortBy,
    /// Only N levels of cgroups below CGROUP (--depth 1: its children)
    #[arg(long, value_name = "N")]
    depth: Option<usize>,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("until").args(["empty", "oom", "frozen"]).required(true)))]
pub struct WaitArgs {
    /// The cgroup (box/web, or a path in a cgroup filesystem)
    cgroup: String,
    /// Until no process is left in the cgroup (or below)
    #[arg(long)]
    empty: bool,
    /// Until an OOM happens in it (memory.events oom/oom_kill, v1 memory.oom_control)
    #[arg(long)]
    oom: bool,
    /// Until it is frozen
    #[arg(long)]
    frozen: bool,
    /// Give up after SECONDS (decimal, e.g. 2.5) with exit status 1 [default: never]
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
}

#[derive(Args, Debug)]
pub struct MountArgs {
    #[command(flatten)]
    json: JsonArg,
    #[command(flatten)]
    quiet: QuietArg,
    /// Name of a v1 hierarchy (mounted as -o none,name=NAME without -c)
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Controllers of a v1 hierarchy, comma-separated (-c cpu,cpuacct)
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
    /// An existing directory to mount on (/mnt/cg)
    dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct UmountArgs {
    #[command(flatten)]
    json: JsonArg,
    /// Where a cgroup filesystem is mounted (/mnt/cg)
    dir: PathBuf,
}

/// What cgctl was asked to do, with every argument parsed: the binary only turns
/// this into calls.
#[derive(Debug)]
pub struct Invocation {
    /// `--root`, resolved when the layout is known.
    pub root: Option<String>,
    /// `--json`, before or after the command (tables: in `Request`'s [`OutputArgs`]).
    pub json: bool,
    /// `-q`: `create`, `add`, `rm` and `mount` print nothing on success.
    pub quiet: bool,
    /// `--systemd` and `--slice`.
    pub systemd: crate::systemd::Use,
    pub slice: Option<String>,
    pub request: Request,
}

/// One command, as a request the library takes.
#[derive(Debug)]
pub enum Request {
    Mode(OutputArgs),
    Create(CreateRequest),
    Add(AddRequest),
    Limit(LimitRequest),
    Exec(ExecRequest),
    Show { target: String },
    Ls(ListRequest, OutputArgs),
    Tree(TreeRequest, OutputArgs),
    Which { pid: i32, output: OutputArgs },
    Rm(RmRequest),
    Freeze { cgroup: String, frozen: bool },
    Events { cgroups: Vec<String>, follow: bool },
    Wait(crate::watch::WaitRequest),
    Top(crate::topview::TopRequest),
    Mount { kind: mount::Kind, dir: PathBuf },
    Umount { dir: PathBuf },
}

/// A word [`Cli::parse_simple`] takes as a value: not empty, and not one clap could read
/// as an option.
fn plain(word: &str) -> Option<String> {
    (!word.is_empty() && !word.starts_with('-')).then(|| word.to_string())
}

/// The environment settings of cgctl's options: with any of them set, a command line is
/// clap's to read.
const ENV_OPTIONS: [&str; 3] = ["CGCTL_ROOT", "CGCTL_SYSTEMD", "CGCTL_SLICE"];

impl Cli {
    /// The common `limit` command line, read without clap: building clap's parser for
    /// all of cgctl's commands and their help is most of cgctl's start-up. Takes
    /// `[--root CGROUP] [--json] limit RESOURCE VALUE TARGET... [--cgroup CGROUP]
    /// [--json]` (options after `limit` in any place, each once, spelled `--NAME VALUE`;
    /// no value or TARGET starting with '-'), with none of cgctl's environment settings
    /// set. Anything else is `None`, for clap to read: its messages and exit statuses
    /// stay as they were. A unit test checks both read such lines alike.
    pub fn parse_simple(args: &[OsString]) -> Option<Cli> {
        if ENV_OPTIONS
            .iter()
            .any(|name| std::env::var_os(name).is_some())
        {
            return None;
        }
        let mut words = args.iter().skip(1).map(|a| a.to_str());
        let mut root = None;
        let mut json = false;
        loop {
            match words.next()?? {
                "--root" if root.is_none() => root = Some(plain(words.next()??)?),
                "--json" if !json => json = true,
                "limit" => break,
                _ => return None,
            }
        }
        let mut positional = Vec::new();
        let mut cgroup = None;
        let mut limit_json = false;
        while let Some(word) = words.next() {
            match word? {
                "--cgroup" if cgroup.is_none() => cgroup = Some(plain(words.next()??)?),
                "--root" if root.is_none() => root = Some(plain(words.next()??)?),
                "--json" if !limit_json => limit_json = true,
                word => positional.push(plain(word)?),
            }
        }
        if positional.len() < 3 {
            return None;
        }
        let targets = positional.split_off(2);
        let value = positional.pop()?;
        let resource = <Resource as clap::ValueEnum>::from_str(&positional.pop()?, false).ok()?;
        Some(Cli {
            root,
            json,
            systemd: Default::default(),
            slice: None,
            command: Command::Limit(LimitArgs {
                json: JsonArg { json: limit_json },
                resource,
                value,
                targets,
                cgroup,
                period: None,
                force: false,
            }),
        })
    }

    /// Checks and converts the arguments (values, PIDs, --period) before anything is
    /// looked up or written. PIDs given as '-' are read from `stdin`.
    pub fn into_invocation(self, stdin: impl BufRead) -> Result<Invocation> {
        let json = self.json || self.command.json();
        let quiet = self.command.quiet();
        let mut request = self.command.into_request(stdin)?;
        if let Request::Top(t) = &mut request {
            t.json |= json;
        }
        if let Request::Mode(o)
        | Request::Ls(_, o)
        | Request::Tree(_, o)
        | Request::Which { output: o, .. } = &mut request
        {
            o.json |= json;
        }
        Ok(Invocation {
            root: self.root,
            json,
            quiet,
            systemd: self.systemd,
            slice: self.slice,
            request,
        })
    }
}

impl Command {
    /// `-q` of the commands that print what they did.
    fn quiet(&self) -> bool {
        match self {
            Command::Create(CreateArgs { quiet, .. })
            | Command::Add(AddArgs { quiet, .. })
            | Command::Rm(RmArgs { quiet, .. })
            | Command::Mount(MountArgs { quiet, .. }) => quiet.quiet,
            _ => false,
        }
    }

    /// `--json` given after the command.
    fn json(&self) -> bool {
        match self {
            Command::Mode(a) => a.output.json,
            Command::Ls(a) => a.output.json,
            Command::Tree(a) => a.list.output.json,
            Command::Which(a) => a.output.json,
            Command::Wait(_) => false,
            Command::Create(CreateArgs { json, .. })
            | Command::Add(AddArgs { json, .. })
            | Command::Limit(LimitArgs { json, .. })
            | Command::Exec(ExecArgs { json, .. })
            | Command::Show(ShowArgs { json, .. })
            | Command::Rm(RmArgs { json, .. })
            | Command::Events(EventsArgs { json, .. })
            | Command::Top(TopArgs { json, .. })
            | Command::Freeze(FreezeArgs { json, .. })
            | Command::Thaw(FreezeArgs { json, .. })
            | Command::Mount(MountArgs { json, .. })
            | Command::Umount(UmountArgs { json, .. }) => json.json,
        }
    }

    fn into_request(self, stdin: impl BufRead) -> Result<Request> {
        Ok(match self {
            Command::Mode(a) => Request::Mode(a.output),
            Command::Create(a) => Request::Create(a.into()),
            Command::Add(a) => Request::Add(a.into_request(stdin)?),
            Command::Limit(a) => Request::Limit(a.try_into()?),
            Command::Exec(a) => Request::Exec(a.try_into()?),
            Command::Show(a) => Request::Show { target: a.target },
            Command::Ls(a) => {
                let output = a.output.clone();
                Request::Ls(a.into(), output)
            }
            Command::Tree(a) => {
                let output = a.list.output.clone();
                Request::Tree(a.into(), output)
            }
            Command::Which(a) => Request::Which {
                pid: procs::parse_pid(&a.pid)?,
                output: a.output,
            },
            Command::Rm(a) => Request::Rm(a.into()),
            Command::Freeze(a) => Request::Freeze {
                cgroup: a.cgroup,
                frozen: true,
            },
            Command::Thaw(a) => Request::Freeze {
                cgroup: a.cgroup,
                frozen: false,
            },
            Command::Events(a) => Request::Events {
                cgroups: a.cgroups,
                follow: a.follow,
            },
            Command::Wait(a) => Request::Wait(a.try_into()?),
            Command::Top(a) => Request::Top(a.try_into()?),
            Command::Mount(a) => a.into(),
            Command::Umount(a) => Request::Umount { dir: a.dir },
        })
    }
}

impl From<CreateArgs> for CreateRequest {
    fn from(a: CreateArgs) -> Self {
        CreateRequest {
            cgroups: a.cgroups,
            controllers: a.controllers,
        }
    }
}

impl AddArgs {
    fn into_request(self, mut stdin: impl BufRead) -> Result<AddRequest> {
        let mut pids = Vec::new();
        for a in &self.pids {
            if a == "-" {
                pids.extend(procs::read_pids(&mut stdin)?);
            } else {
                pids.push(procs::parse_pid(a)?);
            }
        }
        Ok(AddRequest {
            cgroup: self.cgroup,
            pids,
            threads: self.threads,
            controllers: self.controllers,
            force: self.force,
        })
    }
}

impl TryFrom<LimitArgs> for LimitRequest {
    type Error = Error;
    fn try_from(a: LimitArgs) -> Result<Self> {
        if a.period.is_some() && a.resource != Resource::Cpu {
            return Err(Error::Usage(format!(
                "--period only applies to cpu, not to {}",
                a.resource
            )));
        }
        let period_us = a.period.unwrap_or(DEFAULT_PERIOD_US);
        Ok(LimitRequest {
            limit: Limit::from_arg(a.resource, &a.value, period_us)?,
            value: a.value,
            targets: a.targets,
            cgroup: a.cgroup,
            force: a.force,
        })
    }
}

impl TryFrom<ExecArgs> for ExecRequest {
    type Error = Error;
    fn try_from(a: ExecArgs) -> Result<Self> {
        if let Some(word) = a.stray.first() {
            return Err(Error::Usage(format!(
                "unexpected argument '{}' after CGROUP '{}': COMMAND goes after '--' (cgctl exec [OPTIONS] CGROUP -- COMMAND...)",
                word.to_string_lossy(),
                a.cgroup
            )));
        }
        if a.command.is_empty() {
            return Err(Error::Usage(
                "no COMMAND given: it goes after '--' (cgctl exec [OPTIONS] CGROUP -- COMMAND...)"
                    .to_string(),
            ));
        }
        if a.period.is_some() && !a.limits.iter().any(|(r, _)| *r == Resource::Cpu) {
            return Err(Error::Usage(
                "--period only applies to a cpu limit (-l cpu=N)".to_string(),
            ));
        }
        let period_us = a.period.unwrap_or(DEFAULT_PERIOD_US);
        let limits = a
            .limits
            .into_iter()
            .map(|(res, text)| Ok((Limit::from_arg(res, &text, period_us)?, text)))
            .collect::<Result<Vec<_>>>()?;
        Ok(ExecRequest {
            cgroup: a.cgroup,
            limits,
            controllers: a.controllers,
            force: a.force,
            command: a.command,
        })
    }
}

impl From<ListArgs> for ListRequest {
    fn from(a: ListArgs) -> Self {
        ListRequest {
            cgroup: a.cgroup,
            controllers: a.controllers,
        }
    }
}

impl From<TreeArgs> for TreeRequest {
    fn from(a: TreeArgs) -> Self {
        TreeRequest {
            options: crate::tree::TreeOptions {
                depth: a.depth,
                procs: !a.no_procs,
                kernel: a.kernel,
            },
            full: a.full,
            list: a.list.into(),
        }
    }
}

impl TryFrom<TopArgs> for crate::topview::TopRequest {
    type Error = Error;
    fn try_from(a: TopArgs) -> Result<Self> {
        let secs = a.delay.unwrap_or(1.0);
        let delay = std::time::Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Error::value("delay", secs.to_string(), "not a number of seconds > 0")
            })?;
        if a.iterations == Some(0) {
            return Err(Error::value("iterations", "0".to_string(), "at least 1"));
        }
        Ok(crate::topview::TopRequest {
            cgroup: a.cgroup,
            delay,
            iterations: a.iterations,
            sort: a.sort,
            depth: a.depth,
            json: a.json.json,
        })
    }
}

impl TryFrom<WaitArgs> for crate::watch::WaitRequest {
    type Error = Error;
    fn try_from(a: WaitArgs) -> Result<Self> {
        use crate::watch::Until;
        let until = if a.empty {
            Until::Empty
        } else if a.oom {
            Until::Oom
        } else {
            Until::Frozen
        };
        let timeout = a
            .timeout
            .map(|t| {
                std::time::Duration::try_from_secs_f64(t).map_err(|_| {
                    Error::value("timeout", t.to_string(), "not a number of seconds >= 0")
                })
            })
            .transpose()?;
        Ok(crate::watch::WaitRequest {
            cgroup: a.cgroup,
            until,
            timeout,
        })
    }
}

impl From<RmArgs> for RmRequest {
    fn from(a: RmArgs) -> Self {
        RmRequest {
            cgroups: a.cgroups,
            recursive: a.recursive,
            kill: a.kill,
            controllers: a.controllers,
        }
    }
}

impl From<MountArgs> for Request {
    fn from(a: MountArgs) -> Self {
        let kind = if a.v2 {
            mount::Kind::V2
        } else {
            mount::Kind::V1 {
                controllers: a.controllers,
                name: a.name,
            }
        };
        Request::Mount { kind, dir: a.dir }
    }
}

fn parse_pair(s: &str) -> std::result::Result<(Resource, String), String> {
    let (r, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not RESOURCE=VALUE"))?;
    let res: Resource = r.parse().map_err(|e: Error| e.to_string())?;
    Ok((res, v.to_string()))
}

/// The command line as clap sees it: what the man page and the shell completions are
/// generated from (`cargo run -p xtask -- docs DIR`).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::OrMax;

    fn request(args: &[&str], stdin: &str) -> Result<Request> {
        let cli = Cli::try_parse_from(std::iter::once("cgctl").chain(args.iter().copied()))
            .expect("clap accepts it");
        cli.into_invocation(stdin.as_bytes()).map(|i| i.request)
    }

    #[test]
    fn the_simple_reading_of_limit_is_clap_s() {
        let os = |line: &str| -> Vec<OsString> {
            std::iter::once("cgctl")
                .chain(line.split_whitespace())
                .map(OsString::from)
                .collect()
        };
        for line in [
            "limit mem 100M 42",
            "--root /sys/fs/cgroup/memory/x limit mem 100M 42 --cgroup lim",
            "--json limit memory 1G 42 43",
            "limit cpu 0.5 box/web --json",
            "limit --cgroup a/b pids 10 42",
            "limit io 100 42 --root self",
            "--root base --json limit swap max 7 --json --cgroup c",
        ] {
            let simple = Cli::parse_simple(&os(line)).expect("a simple line");
            let clap = Cli::try_parse_from(os(line)).expect("clap reads it");
            assert_eq!(format!("{simple:?}"), format!("{clap:?}"), "{line}");
        }
        // Clap's to read: its errors, other commands, options and spellings.
        for line in [
            "",
            "limit",
            "limit mem 100M",
            "limit nosuch 1 42",
            "limit mem -1 42",
            "limit mem 100M 42 --period 1000",
            "limit mem 100M 42 --force",
            "limit mem 100M 42 --cgroup a --cgroup b",
            "limit mem 100M 42 --cgroup=a",
            "limit mem 100M 42 --systemd no",
            "limit mem 100M --help",
            "--root a --root b limit mem 1M 42",
            "add box 42",
            "-h",
        ] {
            assert!(Cli::parse_simple(&os(line)).is_none(), "{line}");
        }
    }

    #[test]
    fn limit_args_become_a_typed_limit() {
        let Request::Limit(r) =
            request(&["limit", "cpu", "0.5", "--period", "20000", "box"], "").unwrap()
        else {
            panic!("not a limit")
        };
        assert_eq!(
            r.limit,
            Limit::Cpu(crate::value::CpuQuota {
                quota_us: OrMax::Value(10_000),
                period_us: 20_000
            })
        );
        assert_eq!(
            (r.value.as_str(), r.targets.as_slice()),
            ("0.5", &["box".to_string()][..])
        );
        let err = request(&["limit", "pids", "5", "--period", "1000", "x"], "").unwrap_err();
        assert_eq!(err.to_string(), "--period only applies to cpu, not to pids");
        let err = request(&["limit", "mem", "0", "x"], "").unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
    }

    #[test]
    fn exec_args_check_period_and_values() {
        let err = request(
            &[
                "exec", "-l", "pids=5", "--period", "1000", "g", "--", "true",
            ],
            "",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--period only applies to a cpu limit (-l cpu=N)"
        );
        let Request::Exec(r) = request(&["exec", "-l", "pids=max", "g", "--", "true"], "").unwrap()
        else {
            panic!("not exec")
        };
        assert_eq!(r.limits, [(Limit::Pids(OrMax::Max), "max".to_string())]);
        assert!(request(&["exec", "-l", "cpu=0", "g", "--", "true"], "").is_err());
    }

    #[test]
    fn exec_without_the_double_dash_names_it() {
        for args in [&["exec", "-l", "mem=100M", "x", "true"][..], &["exec", "x"]] {
            let err = request(args, "").unwrap_err();
            assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
            assert!(err.to_string().contains("'--'"), "{err}");
        }
        let Request::Exec(r) = request(&["exec", "x", "--", "true", "-l"], "").unwrap() else {
            panic!("not exec")
        };
        assert_eq!(r.command, ["true", "-l"]);
    }

    #[test]
    fn add_reads_pids_from_stdin_for_a_dash() {
        let Request::Add(r) = request(&["add", "g", "7", "-", "9"], "1\n\n2\n").unwrap() else {
            panic!("not add")
        };
        assert_eq!(r.pids, [7, 1, 2, 9]);
        assert!(request(&["add", "g", "x"], "").is_err());
    }

    #[test]
    fn mount_and_freeze_requests() {
        let Request::Mount { kind, .. } = request(&["mount", "--v2", "/mnt"], "").unwrap() else {
            panic!("not mount")
        };
        assert_eq!(kind, mount::Kind::V2);
        let Request::Mount { kind, .. } =
            request(&["mount", "-c", "cpu,cpuacct", "/m"], "").unwrap()
        else {
            panic!("not mount")
        };
        assert_eq!(
            kind,
            mount::Kind::V1 {
                controllers: vec!["cpu".into(), "cpuacct".into()],
                name: None
            }
        );
        assert!(matches!(
            request(&["thaw", "g"], "").unwrap(),
            Request::Freeze { frozen: false, .. }
        ));
    }
}
