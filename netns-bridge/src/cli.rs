//! The command line: clap's definition of netns-bridge's options and commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
pub struct Cli {
    /// Keep state in DIR instead of /run/netns-bridge [env: NETNS_BRIDGE_STATE_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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

/// The command line as clap sees it: what the man page and the shell completions are
/// generated from (`cargo run -p xtask -- docs DIR`).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
