use std::process::ExitCode;

use nscli::exit;
use nscli::output::Output;

use nsinspect::cli::Cli;

const TOOL: &str = "nsinspect";

fn main() -> ExitCode {
    let status = match nscli::args::parse::<Cli>(TOOL) {
        Ok(cli) => {
            let mut out = Output::stdout();
            let result = nsinspect::modes::run(&cli, &mut out).and_then(|code| {
                out.flush()?;
                Ok(code)
            });
            exit::status(TOOL, result)
        }
        Err(status) => status,
    };
    exit::exit_code(status)
}
