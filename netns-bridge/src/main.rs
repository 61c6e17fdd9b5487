use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use netns_bridge::attach;
use netns_bridge::cli::{Action, Cli};
use netns_bridge::error::EXIT_USAGE;
use netns_bridge::teardown::{self, Entry};
use netns_bridge::Error;

fn run(cli: Cli) -> Result<(), Error> {
    match cli.into_action()? {
        Action::Attach { request, json } => {
            let a = attach::attach(&request)?;
            if json {
                print(&serde_json::to_string(&a).unwrap_or_default());
            } else {
                print(&a.address);
            }
        }
        Action::Detach(request) => {
            teardown::detach(&request)?;
        }
        Action::Ls { request, json } => ls(&teardown::list(&request)?, json),
        Action::Gc(request) => {
            teardown::gc(&request)?;
        }
        Action::Down(request) => teardown::down(&request)?,
    }
    Ok(())
}

/// A line on stdout; a closed stdout is not worth a panic.
fn print(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn ls(entries: &[Entry], json: bool) {
    if json {
        print(&serde_json::to_string(entries).unwrap_or_default());
        return;
    }
    let header = [
        "BRIDGE",
        "NAMESPACE",
        "NETNS",
        "HOST-VETH",
        "IFNAME",
        "ADDRESS",
        "MAC",
        "ALIVE",
    ];
    print(&ls_row(header));
    for e in entries {
        let alive = if e.alive { "yes" } else { "no" };
        print(&ls_row([
            &e.bridge,
            &e.namespace,
            &e.netns,
            &e.host_veth,
            &e.interface,
            &e.address,
            &e.mac,
            alive,
        ]));
    }
}

/// One line of `ls`: the columns padded to their widths, the last one as it is.
fn ls_row(cells: [&str; 8]) -> String {
    const WIDTHS: [usize; 7] = [10, 32, 22, 15, 8, 18, 17];
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(WIDTHS) {
        line.push_str(&format!("{cell:<width$} "));
    }
    line.push_str(cells[7]);
    line
}

fn main() -> ExitCode {
    if std::env::var_os("CNI_COMMAND").is_some() {
        return ExitCode::from(netns_bridge::cni::run().clamp(0, 255) as u8);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line: clap's message up to its usage block, joined.
            let text = e.to_string();
            let message = text
                .lines()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("netns-bridge: {message} (see 'netns-bridge --help')");
            return ExitCode::from(EXIT_USAGE as u8);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the kernel or nft said.
            let text = e.to_string().replace('\n', " ");
            eprintln!("netns-bridge: {text}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
