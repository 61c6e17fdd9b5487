//! The command line: clap's definition of nsinspect's options.

use std::ffi::OsString;
use std::sync::LazyLock;

use clap::Parser;

use nscli::columns::{self, names};
use nscli::format::OutputArgs;
use nsproc::Kind;

use crate::columns::{ListColumn, ShowColumn};
use crate::error::Error;

static AFTER_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "\
TARGET is a PID, 'self' (nsinspect itself, which shares its caller's namespaces), or
the path of a namespace file: /proc/PID/ns/TYPE, /run/netns/NAME, or a file that
`nsrun --net=FILE` or `unshare --net=FILE` bind-mounted a namespace on.

One TARGET shows a row per namespace type. Two or more compare them: a row per type
with each target's namespace and SHARED (yes/no); the exit status says whether all are
shared, as cmp(1) does: nsinspect -t net,uts $A $B && echo same

--all lists every namespace on the host: those of processes, those held only by a
bind mount (in any mount namespace), and with --fds those held by open descriptors.
Processes that exit meanwhile are skipped; those that cannot be read are counted on
stderr (exit status 1 with --strict).

Columns of --all (default: {list_default}):
{list_columns}

Columns of one TARGET (default: {show_default}; with --json every column but DETAILS):
{show_columns}

Namespaces are identified by the device and inode of their nsfs file; NS shows the
inode. '-' (null in JSON) means none or not applicable. JSON keeps numbers as numbers:
FDS is a list of {{pid, fd}} objects, UIDMAP and GIDMAP lists of {{inside, outside, count}}
(empty when unmapped), NSPID a list of PIDs; USER is null for a uid without a name. A
comparison keys each type's namespaces by TARGET.

Exit status:
  0  success; when comparing, every selected type is shared by all targets
  1  when comparing, some type differs; with --strict, some process could not be read
  2  usage error, bad TARGET, or failure",
        list_default = names(ListColumn::DEFAULT),
        list_columns = columns::help::<ListColumn>(),
        show_default = names(ShowColumn::DEFAULT),
        show_columns = columns::help::<ShowColumn>(),
    )
});

/// Show and compare the namespaces of processes, and list every namespace on the host.
#[derive(Parser, Debug)]
#[command(
    name = "nsinspect",
    version,
    after_help = AFTER_HELP.as_str(),
    max_term_width = 100,
    override_usage = "nsinspect [OPTIONS] TARGET...\n       nsinspect -a|--all [OPTIONS]"
)]
pub struct Cli {
    /// List every namespace on the host
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only these namespace types (comma-separated: cgroup,ipc,mnt,net,pid,time,user,uts)
    #[arg(short = 't', long = "type", value_name = "LIST", value_delimiter = ',', value_parser = parse_kind)]
    pub types: Vec<Kind>,
    // -o, -n, -r and --json, as every table of every tool has them.
    #[command(flatten)]
    pub out: OutputArgs,
    /// With --all: draw user namespaces under their parents, PID namespaces under their
    /// parent PID namespace, and everything else under its owning user namespace
    #[arg(short = 'T', long)]
    pub tree: bool,
    /// With --all: also find namespaces held by open file descriptors
    #[arg(long)]
    pub fds: bool,
    /// With --all: exit with status 1 if some process could not be read
    #[arg(long)]
    pub strict: bool,
    /// A PID, 'self', or a namespace file (/proc/PID/ns/TYPE, /run/netns/NAME, a file kept
    /// by nsrun --net=FILE); two or more are compared
    #[arg(value_name = "TARGET")]
    pub targets: Vec<OsString>,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    s.trim()
        .parse()
        .map_err(|e: nsproc::UnknownKind| e.to_string())
}

impl Cli {
    /// The selected types in /proc order, each once; all of them without -t.
    pub fn kinds(&self) -> Vec<Kind> {
        let mut kinds = if self.types.is_empty() {
            Kind::ALL.to_vec()
        } else {
            self.types.clone()
        };
        kinds.sort_by_key(|k| k.index());
        kinds.dedup();
        kinds
    }

    pub fn check(&self) -> Result<(), Error> {
        let usage = |s: &str| Err(Error::Usage(s.to_string()));
        if self.all && !self.targets.is_empty() {
            return usage("--all takes no TARGET");
        }
        if !self.all && self.targets.is_empty() {
            return usage("nothing to inspect: give a TARGET or --all");
        }
        if !self.all && (self.tree || self.fds || self.strict) {
            return usage("--tree, --fds and --strict go with --all");
        }
        if self.targets.len() > 1 && self.out.output.is_some() {
            return usage("-o does not apply when comparing (the columns are the targets)");
        }
        Ok(())
    }
}

/// The command line as clap sees it: what the man page and the shell completions are
/// generated from (`cargo run -p xtask -- docs DIR`).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
