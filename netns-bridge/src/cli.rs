//! The command line: clap's definition of netns-bridge's options and commands, one
//! struct per subcommand, and their conversion into the operations' requests.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use nscli::format::OutputArgs;

use crate::attach::Request;
use crate::error::Error;
use crate::helptext::*;
use crate::ipam::Subnet;
use crate::ipam6::Subnet6;
use crate::ports::Port;
use crate::publish::{Publish, Unpublish};
use crate::teardown::{self, Detach, Down, Gc, List, Selector};
use crate::{lease, names};

const AFTER_HELP: &str = "\
TARGET is a PID (its /proc/PID/ns/net), a named namespace (NAME or /run/netns/NAME), or
any network namespace file. The namespace netns-bridge runs in plays the host: the
bridge, the host veths and the NAT table live there.

State (leases, the bridge's subnet) is kept per host namespace under
/run/netns-bridge/netns-DEV-INO/BRIDGE/; move it
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
    /// Connect namespaces to the bridge; prints their addresses (CIDR), one a line
    #[command(after_help = ATTACH_HELP)]
    Attach(AttachArgs),
    /// Disconnect namespaces and release their addresses
    #[command(after_help = DETACH_HELP)]
    Detach(DetachArgs),
    /// List attachments: namespace, host veth, address, MAC, alive or not
    #[command(after_help = ls_help())]
    Ls(LsArgs),
    /// Release what belongs to namespaces that no longer exist
    #[command(after_help = GC_HELP)]
    Gc(GcArgs),
    /// Remove the bridge and its NAT table when nothing is attached
    #[command(after_help = DOWN_HELP)]
    Down(DownArgs),
    /// Forward a port of the host to an attached namespace (nftables DNAT)
    #[command(after_help = PUBLISH_HELP)]
    Publish(PublishArgs),
    /// Stop forwarding a published port
    #[command(after_help = UNPUBLISH_HELP)]
    Unpublish(UnpublishArgs),
}

#[derive(Args, Debug)]
pub struct PublishArgs {
    /// An attached namespace, as for attach
    pub target: String,
    /// HOSTPORT:PORT[/tcp|udp], ports 1-65535 (8080:80, 5353:53/udp; tcp by default)
    #[arg(value_name = "HOSTPORT:PORT[/PROTO]")]
    pub mapping: String,
    /// Only connections to this IPv4 address of the host (192.0.2.10) [default: any of
    /// its addresses]
    #[arg(long, value_name = "ADDR")]
    pub host_ip: Option<String>,
    /// The bridge the namespace is attached to
    #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
    pub bridge: String,
}

#[derive(Args, Debug)]
pub struct UnpublishArgs {
    /// The namespace the port was published to, as for attach
    pub target: String,
    /// HOSTPORT[/tcp|udp], as published (8080, 5353/udp)
    #[arg(value_name = "HOSTPORT[/PROTO]")]
    pub port: String,
    /// The bridge the namespace is attached to
    #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
    pub bridge: String,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// PIDs, named namespaces (NAME or /run/netns/NAME), or namespace files
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// The bridge, created if missing
    #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
    pub bridge: String,
    /// The bridge's IPv4 subnet when it is created, /8 to /30 (10.88.0.0/24) [default: a
    /// free private /24]
    #[arg(long, value_name = "CIDR")]
    pub subnet: Option<String>,
    /// The bridge's IPv6 subnet when it is created, /64 to /120 (fd00:88::/64): each
    /// namespace then gets an address of both families
    #[arg(long, value_name = "CIDR")]
    pub subnet6: Option<String>,
    /// A static IPv4 address, inside the subnet and free (10.88.0.9)
    #[arg(long, value_name = "ADDR")]
    pub ip: Option<String>,
    /// A static IPv6 address, inside the IPv6 subnet and free (fd00:88::9)
    #[arg(long, value_name = "ADDR")]
    pub ip6: Option<String>,
    /// The interface name inside the namespace (at most 15 bytes)
    #[arg(short, long, default_value = "eth0", value_name = "NAME")]
    pub ifname: String,
    /// MTU of the veth pair (and of the bridge when it is created), e.g. 1400
    #[arg(long, value_name = "N")]
    pub mtu: Option<u32>,
    /// Add no default route inside
    #[arg(long)]
    pub no_default_route: bool,
    /// Masquerade the subnet's traffic to the outside (nftables) and forward
    #[arg(long)]
    pub nat: bool,
    /// Print the attachment as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct DetachArgs {
    /// Namespaces as for attach; several are detached in one kernel operation
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// The bridge they are attached to
    #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
    pub bridge: String,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only this bridge [default: all]
    #[arg(short, long, value_name = "NAME")]
    pub bridge: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct GcArgs {
    /// The bridge whose leases to check
    #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
    pub bridge: String,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// The bridge to remove
    #[arg(short, long, default_value = "nsbr0", value_name = "NAME")]
    pub bridge: String,
    /// Detach everything first
    #[arg(long)]
    pub force: bool,
}

/// What the command line asks for, as the operations take it.
#[derive(Debug)]
pub enum Action {
    /// `request` is for `targets[0]`; the others are attached the same way.
    Attach {
        request: Box<Request>,
        targets: Vec<String>,
        json: bool,
    },
    Detach(Detach),
    Ls {
        request: List,
        output: OutputArgs,
    },
    Gc(Gc),
    Down(Down),
    Publish(Publish),
    Unpublish(Unpublish),
}

impl Cli {
    /// The command line as a request; the state directory resolved, CIDRs parsed,
    /// detach's targets resolved to namespaces (or the paths they had).
    pub fn into_action(self) -> Result<Action, Error> {
        let state_root = lease::state_root(self.state_dir);
        Ok(match self.command {
            Command::Attach(args) => Action::Attach {
                json: args.json,
                targets: args.targets.clone(),
                request: Box::new(args.into_request(state_root)?),
            },
            Command::Detach(args) => Action::Detach(args.into_request(state_root)?),
            Command::Ls(args) => Action::Ls {
                output: args.output,
                request: List {
                    state_root,
                    bridge: args.bridge,
                },
            },
            Command::Gc(args) => Action::Gc(Gc {
                state_root,
                bridge: args.bridge,
            }),
            Command::Publish(args) => {
                let mut port: Port = args.mapping.parse()?;
                port.host_ip = args
                    .host_ip
                    .map(|ip| {
                        crate::ipam::parse_ipv4(&ip)
                            .ok_or_else(|| Error::invalid(format!("invalid address '{ip}'")))
                    })
                    .transpose()?;
                Action::Publish(Publish {
                    state_root,
                    bridge: args.bridge,
                    target: args.target,
                    port,
                })
            }
            Command::Unpublish(args) => {
                let (host_port, proto) = crate::publish::parse_host_port(&args.port)?;
                Action::Unpublish(Unpublish {
                    state_root,
                    bridge: args.bridge,
                    target: args.target,
                    host_port,
                    proto,
                })
            }
            Command::Down(args) => Action::Down(Down {
                state_root,
                bridge: args.bridge,
                force: args.force,
            }),
        })
    }
}

impl AttachArgs {
    pub fn into_request(self, state_root: PathBuf) -> Result<Request, Error> {
        Ok(Request {
            subnet: self.subnet.map(|s| s.parse::<Subnet>()).transpose()?,
            subnet6: self.subnet6.map(|s| s.parse::<Subnet6>()).transpose()?,
            target: self.targets.first().cloned().unwrap_or_default(),
            bridge: self.bridge,
            ip: self.ip,
            ip6: self
                .ip6
                .map(|ip| {
                    ip.parse::<std::net::Ipv6Addr>()
                        .map_err(|_| Error::invalid(format!("invalid IPv6 address '{ip}'")))
                })
                .transpose()?,
            ifname: self.ifname,
            mtu: self.mtu,
            default_route: !self.no_default_route,
            nat: self.nat,
            state_root,
            cni: None,
            ranges: Vec::new(),
            routes: Vec::new(),
            gateway: true,
            hairpin: false,
            promisc: false,
        })
    }
}

impl DetachArgs {
    pub fn into_request(self, state_root: PathBuf) -> Result<Detach, Error> {
        names::check_ifname(&self.bridge, "bridge name")?;
        let selectors = self
            .targets
            .iter()
            .map(|t| teardown::selector_for(t))
            .collect::<Result<Vec<Selector>, Error>>()?;
        Ok(Detach {
            state_root,
            bridge: self.bridge,
            selectors,
        })
    }
}

/// The command line as clap sees it: what the man page and the shell completions are
/// generated from (`cargo run -p xtask -- docs DIR`).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn action(args: &[&str]) -> Action {
        let cli = Cli::try_parse_from(std::iter::once("netns-bridge").chain(args.iter().copied()))
            .expect("valid command line");
        cli.into_action().expect("valid request")
    }

    #[test]
    fn attach_becomes_a_request() {
        let Action::Attach {
            request,
            json,
            targets,
        } = action(&[
            "--state-dir",
            "/tmp/s",
            "attach",
            "42",
            "-b",
            "br1",
            "--subnet",
            "10.9.0.0/24",
            "--subnet6",
            "fd09::/64",
            "--ip",
            "10.9.0.7",
            "-i",
            "eth1",
            "--mtu",
            "1400",
            "--no-default-route",
            "--nat",
            "--json",
        ])
        else {
            panic!("attach expected");
        };
        assert!(json);
        assert_eq!(request.target, "42");
        assert_eq!(targets, ["42"]);
        assert_eq!(request.bridge, "br1");
        assert_eq!(request.subnet, "10.9.0.0/24".parse().ok());
        assert_eq!(request.subnet6, "fd09::/64".parse().ok());
        assert_eq!(request.ip.as_deref(), Some("10.9.0.7"));
        assert_eq!(request.ifname, "eth1");
        assert_eq!(request.mtu, Some(1400));
        assert!(!request.default_route);
        assert!(request.nat);
        assert_eq!(request.state_root, PathBuf::from("/tmp/s"));
        assert!(request.cni.is_none());
    }

    #[test]
    fn attach_has_its_defaults() {
        let Action::Attach { request, json, .. } = action(&["attach", "x"]) else {
            panic!("attach expected");
        };
        assert!(!json);
        assert_eq!(
            (request.bridge.as_str(), request.ifname.as_str()),
            ("nsbr0", "eth0")
        );
        assert!(request.default_route && !request.nat);
        assert_eq!((request.subnet, request.mtu), (None, None));
    }

    #[test]
    fn attach_takes_several_targets_in_order() {
        let Action::Attach {
            request, targets, ..
        } = action(&["attach", "b", "a", "c", "--subnet", "10.9.0.0/16"])
        else {
            panic!("attach expected");
        };
        assert_eq!(targets, ["b", "a", "c"]);
        assert_eq!(request.target, "b");
        let none = Cli::try_parse_from(["netns-bridge", "attach"]);
        assert!(none.is_err(), "a TARGET is required");
    }

    #[test]
    fn a_bad_subnet_or_bridge_name_is_a_usage_error() {
        let bad = |args: &[&str]| {
            let cli =
                Cli::try_parse_from(std::iter::once("netns-bridge").chain(args.iter().copied()))
                    .expect("parses");
            cli.into_action().map(|_| ()).map_err(|e| e.exit_code())
        };
        assert_eq!(bad(&["attach", "x", "--subnet", "10.0.0.1/24"]), Err(2));
        assert_eq!(bad(&["attach", "x", "--subnet6", "fd00::1/64"]), Err(2));
        assert_eq!(bad(&["detach", "x", "-b", "a/b"]), Err(2));
    }

    #[test]
    fn detach_resolves_its_targets() {
        let Action::Detach(request) = action(&[
            "--state-dir",
            "/tmp/s",
            "detach",
            "/proc/self/ns/net",
            "/nonexistent/netns-bridge-test",
        ]) else {
            panic!("detach expected");
        };
        assert_eq!(request.bridge, "nsbr0");
        assert_eq!(request.state_root, PathBuf::from("/tmp/s"));
        let own = crate::netns::own_id().expect("own namespace");
        assert!(matches!(request.selectors[0], Selector::Netns(id) if id == own));
        assert!(matches!(&request.selectors[1],
            Selector::Target(p) if p == "/nonexistent/netns-bridge-test"));
    }

    #[test]
    fn ls_gc_and_down_carry_their_bridge() {
        let Action::Ls { request, output } = action(&["ls", "--json", "-o", "bridge,netns"]) else {
            panic!("ls expected");
        };
        assert!(output.json && request.bridge.is_none());
        assert_eq!(output.output.as_deref(), Some("bridge,netns"));
        let Action::Gc(gc) = action(&["gc", "-b", "br2"]) else {
            panic!("gc expected");
        };
        assert_eq!(gc.bridge, "br2");
        let Action::Down(down) = action(&["down", "--force"]) else {
            panic!("down expected");
        };
        assert!(down.force);
        assert_eq!(down.bridge, "nsbr0");
        let Action::Publish(p) = action(&["publish", "x", "8080:80/udp", "--host-ip", "10.0.0.1"])
        else {
            panic!("publish expected");
        };
        assert_eq!(p.port.to_string(), "10.0.0.1:8080:80/udp");
        let Action::Unpublish(u) = action(&["unpublish", "x", "8080"]) else {
            panic!("unpublish expected");
        };
        assert_eq!((u.host_port, u.proto), (8080, crate::ports::Proto::Tcp));
    }
}
