//! Parsing the command line with clap, by one rule for every tool: `--help` and
//! `--version` print to stdout (status 0); any other clap error is one line on
//! stderr, `tool: MESSAGE (see 'tool --help')` (status 2).

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::Parser;

use crate::exit::{EXIT_OK, EXIT_USAGE};
use crate::report;

/// Parses the process's arguments. `Err(status)`: there is nothing to run, exit with
/// `status` (0 after `--help`/`--version`, 2 after a usage error, already reported).
pub fn parse<P: Parser>(tool: &str) -> Result<P, i32> {
    parse_from(tool, std::env::args_os())
}

/// [`parse`] on the given arguments (the first is the program name).
pub fn parse_from<P, I, T>(tool: &str, args: I) -> Result<P, i32>
where
    P: Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match P::try_parse_from(args) {
        Ok(parsed) => Ok(parsed),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            Err(EXIT_OK)
        }
        Err(e) => {
            let message = format!("{} (see '{tool} --help')", usage_line(&e.to_string()));
            report::error(tool, &message);
            Err(EXIT_USAGE)
        }
    }
}

/// clap's message in one line: its first paragraph, up to the usage block, with the
/// lines that name the missing arguments or the possible values joined to the first,
/// without clap's "error: ".
pub fn usage_line(text: &str) -> String {
    let line = text
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    #[command(name = "t", version)]
    struct Cli {
        #[arg(long, value_parser = ["a", "b"])]
        mode: Option<String>,
        value: String,
        target: String,
    }

    fn message<I: IntoIterator<Item = &'static str>>(args: I) -> String {
        let e = Cli::try_parse_from(args).unwrap_err();
        usage_line(&e.to_string())
    }

    #[test]
    fn missing_arguments_are_named() {
        let m = message(["t"]);
        assert!(m.starts_with("the following required arguments"), "{m}");
        assert!(m.contains("<VALUE> <TARGET>"), "{m}");
        assert!(!m.contains("Usage"), "{m}");
    }

    #[test]
    fn possible_values_are_kept_and_tips_dropped() {
        let m = message(["t", "--mode", "c", "v", "t"]);
        assert!(m.contains("possible values: a, b"), "{m}");
        let m = message(["t", "--bogus", "v", "t"]);
        assert!(m.starts_with("unexpected argument '--bogus'"), "{m}");
        assert!(!m.contains("tip") && !m.contains('\n'), "{m}");
    }

    #[test]
    fn statuses() {
        assert_eq!(
            parse_from::<Cli, _, _>("t", ["t", "--version"]).err(),
            Some(0)
        );
        assert_eq!(parse_from::<Cli, _, _>("t", ["t"]).err(), Some(2));
        assert!(parse_from::<Cli, _, _>("t", ["t", "v", "t"]).is_ok());
        assert_eq!(usage_line(""), "invalid arguments");
    }
}
