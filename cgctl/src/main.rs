use std::process::ExitCode;

use nscli::exit;
use nscli::output::Output;

use cgctl::cli::Cli;

const TOOL: &str = "cgctl";

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    // The common `limit` line without clap's parser (most of the start-up), else clap.
    let parsed = match Cli::parse_simple(&args) {
        Some(cli) => Ok(cli),
        None => nscli::args::parse_from::<Cli, _, _>(TOOL, args),
    };
    let status = match parsed {
        Ok(cli) => {
            let mut out = Output::stdout();
            let result = cli
                .into_invocation(std::io::stdin().lock())
                .and_then(|inv| cgctl::run::run(inv, &mut out))
                .and_then(|()| Ok(out.flush()?))
                .map(|()| exit::EXIT_OK);
            exit::status(TOOL, result)
        }
        Err(status) => status,
    };
    exit::exit_code(status)
}
