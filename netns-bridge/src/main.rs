use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

use netns_bridge::attach::{self, Request};
use netns_bridge::error::EXIT_USAGE;
use netns_bridge::ipam::Subnet;
use netns_bridge::lease::{self, Store};
use netns_bridge::teardown::{self, Selector};
use netns_bridge::Error;

const AFTER_HELP: &str = "\
TARGET is a PID (its /proc/PID/ns/net), a named namespace (NAME or /run/netns/NAME), or
any network namespace file. The namespace netns-bridge runs in plays the host: the
bridge, the host veths and the NAT table live there.

State (leases, the bridge's subnet) is kept under /run/netns-bridge/BRIDGE/; move it
with --state-dir or NETNS_BRIDGE_STATE_DIR. With CNI_COMMAND set in the environment,
netns-bridge acts as a CNI plugin instead (see the README).

Exit status:
  0   success (for detach, gc and down also: nothing was there)
  1   the operation failed; whatever it had made is undone
  2   usage error: bad option, name, CIDR, address, or a TARGET that is no network
      namespace; nothing was touched
  3   no address: the subnet is full, or the static address is taken";

/// Connect network namespaces to a host bridge with veth pairs.
#[derive(Parser, Debug)]
#[command(name = "netns-bridge", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    /// Keep state in DIR instead of /run/netns-bridge [env: NETNS_BRIDGE_STATE_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Connect a namespace to the bridge; prints its address (CIDR)
    Attach {
        /// A PID, a named namespace (NAME or /run/netns/NAME), or a namespace file
        target: String,
        /// The bridge, created if missing
        #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
        bridge: String,
        /// The bridge's subnet when it is created [default: a free private /24]
        #[arg(long, value_name = "CIDR")]
        subnet: Option<String>,
        /// A static address (must be inside the subnet and free)
        #[arg(long, value_name = "ADDR")]
        ip: Option<String>,
        /// The interface name inside the namespace
        #[arg(short, long, default_value = "eth0", value_name = "NAME")]
        ifname: String,
        /// MTU of the veth pair (and of the bridge when it is created)
        #[arg(long, value_name = "N")]
        mtu: Option<u32>,
        /// Add no default route inside
        #[arg(long)]
        no_default_route: bool,
        /// Masquerade the subnet's traffic to the outside (nftables) and forward
        #[arg(long)]
        nat: bool,
        /// Print the attachment as JSON
        #[arg(long)]
        json: bool,
    },
    /// Disconnect namespaces and release their addresses
    Detach {
        /// Namespaces as for attach; several are detached in one kernel operation
        #[arg(required = true, value_name = "TARGET")]
        targets: Vec<String>,
        #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
        bridge: String,
    },
    /// List attachments: namespace, host veth, address, MAC, alive or not
    Ls {
        /// Only this bridge [default: all]
        #[arg(short, long, value_name = "NAME")]
        bridge: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Release what belongs to namespaces that no longer exist
    Gc {
        #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
        bridge: String,
    },
    /// Remove the bridge and its NAT table when nothing is attached
    Down {
        #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
        bridge: String,
        /// Detach everything first
        #[arg(long)]
        force: bool,
    },
}

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
