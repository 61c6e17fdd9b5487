//! nsinspect's three modes, as the command line picks them: every namespace
//! (`--all`), one target, or a comparison of several.

use std::io::Write;

use nscli::output::Output;

use crate::cli::Cli;
use crate::columns::{ListColumn, ShowColumn};
use crate::error::{Error, EXIT_DIFFERENT, EXIT_OK};
use crate::listing::{self, ListOptions};
use crate::output;
use crate::target::{self, Target};
use crate::{compare, show};

/// Does what the command line asks: `--all`, one target, or a comparison. The status
/// is 0, or 1 when compared targets differ (or `--strict` found unreadable processes).
pub fn run(cli: &Cli, out: &mut Output) -> Result<i32, Error> {
    cli.check()?;
    if cli.all {
        list(cli, out)
    } else if cli.targets.len() == 1 {
        show_one(cli, out)
    } else {
        compare_many(cli, out)
    }
}

fn list(cli: &Cli, out: &mut Output) -> Result<i32, Error> {
    let mut default = ListColumn::DEFAULT.to_vec();
    if cli.fds {
        default.push(ListColumn::Fds);
    }
    let columns = cli.out.columns(&default)?;
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
    output::write_list(out, &listing, &columns, cli.out.format(), cli.tree)?;
    if listing.unreadable > 0 {
        let why = listing
            .unreadable_errno
            .map(|e| lowercase_first(e.desc()))
            .unwrap_or_default();
        let n = listing.unreadable;
        let noun = if n == 1 { "process" } else { "processes" };
        // Said after the output, so it is not lost above a long table.
        out.flush()?;
        nscli::report::error("nsinspect", &format!("{n} {noun} could not be read: {why}"));
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

fn show_one(cli: &Cli, out: &mut impl Write) -> Result<i32, Error> {
    let resolved = target::resolve(&cli.targets[0])?;
    let default = if cli.out.json {
        ShowColumn::DEFAULT_JSON
    } else {
        ShowColumn::DEFAULT
    };
    let columns = cli.out.columns(default)?;
    let reports = show::inspect(&resolved, &cli.kinds())?;
    let pid = match &resolved.target {
        Target::Process(p) => Some(p.pid()),
        Target::File(_) => None,
    };
    output::write_show(
        out,
        &resolved.label,
        pid,
        &reports,
        &columns,
        cli.out.format(),
    )?;
    Ok(EXIT_OK)
}

fn compare_many(cli: &Cli, out: &mut impl Write) -> Result<i32, Error> {
    let targets = cli
        .targets
        .iter()
        .map(|t| target::resolve(t))
        .collect::<Result<Vec<_>, _>>()?;
    let asked = (!cli.types.is_empty()).then(|| cli.kinds());
    let kinds = compare::select_kinds(&targets, asked.as_deref())?;
    let rows = compare::compare(&targets, &kinds)?;
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    output::write_compare(out, &labels, &rows, cli.out.format())?;
    if rows.iter().all(|r| r.shared) {
        Ok(EXIT_OK)
    } else {
        Ok(EXIT_DIFFERENT)
    }
}
