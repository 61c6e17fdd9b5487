use std::ffi::OsString;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::LazyLock;

use clap::error::ErrorKind;
use clap::Parser;

use nsinspect::columns::{self, ListColumn, ShowColumn};
use nsinspect::error::{Error, EXIT_DIFFERENT, EXIT_ERROR, EXIT_OK};
use nsinspect::listing::{self, ListOptions};
use nsinspect::output::{self, Format};
use nsinspect::procscan::kind_index;
use nsinspect::table::Style;
use nsinspect::target::{self, Target};
use nsinspect::{compare, show};
use nskind::Kind;

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
(empty when unmapped), NSPID a list of PIDs.

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

fn names<C: columns::Column>(list: &[C]) -> String {
    list.iter().map(|c| c.name()).collect::<Vec<_>>().join(",")
}

/// Show and compare the namespaces of processes, and list every namespace on the host.
#[derive(Parser, Debug)]
#[command(
    name = "nsinspect",
    version,
    after_help = AFTER_HELP.as_str(),
    max_term_width = 100,
    override_usage = "nsinspect [OPTIONS] TARGET...\n       nsinspect -a|--all [OPTIONS]"
)]
struct Cli {
    /// List every namespace on the host
    #[arg(short = 'a', long)]
    all: bool,
    /// Only these namespace types (comma-separated: cgroup,ipc,mnt,net,pid,time,user,uts)
    #[arg(short = 't', long = "type", value_name = "LIST", value_delimiter = ',', value_parser = parse_kind)]
    types: Vec<Kind>,
    /// Columns to print (comma-separated; +LIST adds to the default ones)
    #[arg(short = 'o', long, value_name = "LIST")]
    output: Option<String>,
    /// Do not print the heading line
    #[arg(short = 'n', long)]
    noheadings: bool,
    /// Raw output: one space between columns, blanks escaped as \x20
    #[arg(short = 'r', long, conflicts_with = "json")]
    raw: bool,
    /// JSON output, with raw numbers and stable field names
    #[arg(short = 'J', long)]
    json: bool,
    /// With --all: draw user namespaces under their parents, PID namespaces under their
    /// parent PID namespace, and everything else under its owning user namespace
    #[arg(short = 'T', long)]
    tree: bool,
    /// With --all: also find namespaces held by open file descriptors
    #[arg(long)]
    fds: bool,
    /// With --all: exit with status 1 if some process could not be read
    #[arg(long)]
    strict: bool,
    /// A PID, 'self', or a namespace file
    #[arg(value_name = "TARGET")]
    targets: Vec<OsString>,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    s.trim()
        .parse()
        .map_err(|e: nskind::UnknownKind| e.to_string())
}

impl Cli {
    /// The selected types in /proc order, each once; all of them without -t.
    fn kinds(&self) -> Vec<Kind> {
        let mut kinds = if self.types.is_empty() {
            Kind::ALL.to_vec()
        } else {
            self.types.clone()
        };
        kinds.sort_by_key(|k| kind_index(*k));
        kinds.dedup();
        kinds
    }

    fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            Format::Table(Style {
                no_headings: self.noheadings,
                raw: self.raw,
            })
        }
    }

    fn check(&self) -> Result<(), Error> {
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
        if self.targets.len() > 1 && self.output.is_some() {
            return usage("-o does not apply when comparing (the columns are the targets)");
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line, like every other nsinspect error.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("nsinspect: {first} (see 'nsinspect --help')");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = run(&cli, &mut out).and_then(|code| match out.flush() {
        Ok(()) => Ok(code),
        Err(e) => Err(Error::Output(e)),
    });
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader went away (nsinspect --all | head): nothing left to say.
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("nsinspect: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: &Cli, out: &mut impl Write) -> Result<u8, Error> {
    cli.check()?;
    if cli.all {
        list(cli, out)
    } else if cli.targets.len() == 1 {
        show_one(cli, out)
    } else {
        compare_many(cli, out)
    }
}

fn list(cli: &Cli, out: &mut impl Write) -> Result<u8, Error> {
    let mut default = ListColumn::DEFAULT.to_vec();
    if cli.fds {
        default.push(ListColumn::Fds);
    }
    let columns = match &cli.output {
        Some(list) => columns::parse_list(list, &default)?,
        None => default,
    };
    let wants = |c| columns.contains(&c);
    let opts = ListOptions {
        kinds: cli.kinds(),
        fds: cli.fds,
        relations: wants(ListColumn::Pns) || wants(ListColumn::Ons),
        ancestors: cli.tree,
        details: wants(ListColumn::Ppid) || wants(ListColumn::Command),
        uids: wants(ListColumn::Uid) || wants(ListColumn::User),
        users: wants(ListColumn::User),
    };
    let listing = listing::list(&opts)?;
    output::write_list(out, &listing, &columns, cli.format(), cli.tree).map_err(Error::Output)?;
    if listing.unreadable > 0 {
        let why = listing
            .unreadable_errno
            .map(|e| lowercase_first(e.desc()))
            .unwrap_or_default();
        let n = listing.unreadable;
        let noun = if n == 1 { "process" } else { "processes" };
        // Said after the output, so it is not lost above a long table.
        out.flush().map_err(Error::Output)?;
        eprintln!("nsinspect: {n} {noun} could not be read: {why}");
        if cli.strict {
            return Ok(EXIT_DIFFERENT);
        }
    }
    Ok(EXIT_OK)
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn show_one(cli: &Cli, out: &mut impl Write) -> Result<u8, Error> {
    let resolved = target::resolve(&cli.targets[0])?;
    let default = if cli.json {
        ShowColumn::DEFAULT_JSON
    } else {
        ShowColumn::DEFAULT
    };
    let columns = match &cli.output {
        Some(list) => columns::parse_list(list, default)?,
        None => default.to_vec(),
    };
    let reports = show::inspect(&resolved, &cli.kinds())?;
    let pid = match &resolved.target {
        Target::Process(p) => Some(p.pid()),
        Target::File(_) => None,
    };
    output::write_show(out, &resolved.label, pid, &reports, &columns, cli.format())
        .map_err(Error::Output)?;
    Ok(EXIT_OK)
}

fn compare_many(cli: &Cli, out: &mut impl Write) -> Result<u8, Error> {
    let targets = cli
        .targets
        .iter()
        .map(|t| target::resolve(t))
        .collect::<Result<Vec<_>, _>>()?;
    let asked = (!cli.types.is_empty()).then(|| cli.kinds());
    let kinds = compare::select_kinds(&targets, asked.as_deref())?;
    let rows = compare::compare(&targets, &kinds)?;
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    output::write_compare(out, &labels, &rows, cli.format()).map_err(Error::Output)?;
    if rows.iter().all(|r| r.shared) {
        Ok(EXIT_OK)
    } else {
        Ok(EXIT_DIFFERENT)
    }
}
