use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use netns_bridge::attach::{self, Request};
use netns_bridge::cli::{Cli, Command};
use netns_bridge::error::EXIT_USAGE;
use netns_bridge::ipam::Subnet;
use netns_bridge::lease::{self, Store};
use netns_bridge::teardown::{self, Selector};
use netns_bridge::Error;

fn run(cli: Cli) -> Result<(), Error> {
    let root = lease::state_root(cli.state_dir);
    let mut out = std::io::stdout().lock();
    let print = |out: &mut std::io::StdoutLock, text: &str| {
        let _ = writeln!(out, "{text}");
    };
    match cli.command {
        Command::Attach {
            target,
            bridge,
            subnet,
            ip,
            ifname,
            mtu,
            no_default_route,
            nat,
            json,
        } => {
            let subnet = subnet.map(|s| s.parse::<Subnet>()).transpose()?;
            let request = Request {
                target,
                bridge,
                subnet,
                ip,
                ifname,
                mtu,
                default_route: !no_default_route,
                nat,
                state_root: root,
                cni: None,
            };
            let a = attach::attach(&request)?;
            if json {
                print(&mut out, &serde_json::to_string(&a).unwrap_or_default());
            } else {
                print(&mut out, &a.address);
            }
        }
        Command::Detach { targets, bridge } => {
            netns_bridge::names::check_ifname(&bridge, "bridge name")?;
            let selectors = targets
                .iter()
                .map(|t| teardown::selector_for(t))
                .collect::<Result<Vec<Selector>, Error>>()?;
            teardown::detach(&root, &bridge, &selectors)?;
        }
        Command::Ls { bridge, json } => {
            let bridges = match bridge {
                Some(b) => {
                    netns_bridge::names::check_ifname(&b, "bridge name")?;
                    vec![b]
                }
                None => Store::bridges(&root)?,
            };
            let entries = teardown::list(&root, &bridges)?;
            if json {
                print(
                    &mut out,
                    &serde_json::to_string(&entries).unwrap_or_default(),
                );
            } else {
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
                print(&mut out, &ls_row(header));
                for e in entries {
                    let alive = if e.alive { "yes" } else { "no" };
                    print(
                        &mut out,
                        &ls_row([
                            &e.bridge,
                            &e.namespace,
                            &e.netns,
                            &e.host_veth,
                            &e.interface,
                            &e.address,
                            &e.mac,
                            alive,
                        ]),
                    );
                }
            }
        }
        Command::Gc { bridge } => {
            teardown::gc(&root, &bridge)?;
        }
        Command::Down { bridge, force } => teardown::down(&root, &bridge, force)?,
    }
    Ok(())
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
