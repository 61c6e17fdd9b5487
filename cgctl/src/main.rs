use std::process::ExitCode;

use nscli::exit;
use nscli::output::Output;

use cgctl::cli::Cli;

const TOOL: &str = "cgctl";

fn main() -> ExitCode {
    let status = match nscli::args::parse::<Cli>(TOOL) {
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
