//! The command line: clap's definition of cgctl's options and commands.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::resource::Resource;

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
pub struct Cli {
    /// Resolve relative cgroup names below CGROUP ('self': cgctl's own cgroup)
    #[arg(long, global = true, env = "CGCTL_ROOT", value_name = "CGROUP")]
    pub root: Option<String>,
    /// Print results as JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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

/// The command line as clap sees it: what the man page and the shell completions are
/// generated from (`cargo run -p xtask -- docs DIR`).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
