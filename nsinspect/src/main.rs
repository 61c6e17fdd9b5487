use std::io::{BufWriter, Write};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use nsinspect::cli::Cli;
use nsinspect::columns::{self, ListColumn, ShowColumn};
use nsinspect::error::{Error, EXIT_DIFFERENT, EXIT_ERROR, EXIT_OK};
use nsinspect::listing::{self, ListOptions};
use nsinspect::output::{self};
use nsinspect::target::{self, Target};
use nsinspect::{compare, show};

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
