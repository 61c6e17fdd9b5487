use std::process::ExitCode;

use nscli::exit;
use nscli::format::{write_rows, OutputArgs};
use nscli::output::Output;

use netns_bridge::attach::{self, Attachment};
use netns_bridge::cli::{Action, Cli};
use netns_bridge::columns::{self, LS_DEFAULT};
use netns_bridge::publish;
use netns_bridge::teardown;
use netns_bridge::Error;

const TOOL: &str = "netns-bridge";

fn run(cli: Cli, out: &mut Output) -> Result<(), Error> {
    match cli.into_action()? {
        Action::Attach {
            request,
            targets,
            json,
        } => {
            // Written and flushed before the attach is committed: a result that cannot
            // be delivered rolls the attach back.
            attach::attach_all(&request, &targets, |all| {
                deliver(out, all, json).map_err(Error::Undelivered)
            })?;
        }
        Action::Detach(request) => {
            teardown::detach(&request)?;
        }
        Action::Ls { request, output } => ls(out, &request, &output)?,
        Action::Gc(request) => {
            teardown::gc(&request)?;
        }
        Action::Down(request) => teardown::down(&request)?,
        Action::Publish(request) => publish::publish(&request)?,
        Action::Unpublish(request) => publish::unpublish(&request)?,
    }
    Ok(out.flush()?)
}

/// The addresses, one a line, in the order the targets were given; with `json`, one
/// attachment as an object, several as `{"attachments": [...]}` (the shape of ls --json).
fn deliver(
    out: &mut Output,
    all: &[Attachment],
    json: bool,
) -> Result<(), nscli::output::OutputError> {
    match (json, all) {
        (true, [one]) => out.json(one)?,
        (true, _) => out.json(&serde_json::json!({ "attachments": all }))?,
        (false, _) => {
            for a in all {
                out.line(&a.address)?;
                if let Some(address6) = &a.address6 {
                    out.line(address6)?;
                }
            }
        }
    }
    out.flush()
}

fn ls(out: &mut Output, request: &teardown::List, output: &OutputArgs) -> Result<(), Error> {
    let columns = output
        .columns(LS_DEFAULT)
        .map_err(|e| Error::invalid(e.to_string()))?;
    let entries = teardown::list(request)?;
    write_rows(
        out,
        output.format(),
        "attachments",
        &columns,
        &entries,
        columns::cell,
    )?;
    Ok(())
}

fn main() -> ExitCode {
    if std::env::var_os("CNI_COMMAND").is_some() {
        return exit::exit_code(netns_bridge::cni::run());
    }
    let status = match nscli::args::parse::<Cli>(TOOL) {
        Ok(cli) => {
            let mut out = Output::stdout();
            exit::status(TOOL, run(cli, &mut out).map(|()| exit::EXIT_OK))
        }
        Err(status) => status,
    };
    exit::exit_code(status)
}
