//! Published ports: `HOSTPORT:PORT[/tcp|udp]` forwarded from the host namespace to an
//! attached namespace, by nftables DNAT in a table of netns-bridge's own per bridge
//! (`ip netns-bridge-ports-BRIDGE`). The table is made anew from the leases' records in
//! one transaction whenever they change, so it always says what the state says.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::lease::BridgeState;

/// TCP or UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// One published port of a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Port {
    pub host_port: u16,
    pub port: u16,
    pub proto: Proto,
    /// Only connections to this host address; `None`: any address of the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<Ipv4Addr>,
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ip) = self.host_ip {
            write!(f, "{ip}:")?;
        }
        write!(f, "{}:{}/{}", self.host_port, self.port, self.proto)
    }
}

fn port_number(text: &str, spec: &str) -> Result<u16, Error> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0 && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::invalid(format!("invalid port '{text}' in '{spec}' (1 to 65535)")))
}

/// `HOSTPORT:PORT[/tcp|udp]`, TCP by default.
impl FromStr for Port {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Port, Error> {
        let (ports, proto) = match spec.rsplit_once('/') {
            Some((p, "tcp")) => (p, Proto::Tcp),
            Some((p, "udp")) => (p, Proto::Udp),
            Some((_, other)) => {
                return Err(Error::invalid(format!(
                    "invalid protocol '{other}' in '{spec}' (tcp or udp)"
                )))
            }
            None => (spec, Proto::Tcp),
        };
        let (host, inside) = ports.split_once(':').ok_or_else(|| {
            Error::invalid(format!(
                "invalid port mapping '{spec}' (HOSTPORT:PORT[/tcp|udp])"
            ))
        })?;
        Ok(Port {
            host_port: port_number(host, spec)?,
            port: port_number(inside, spec)?,
            proto,
            host_ip: None,
        })
    }
}

/// Whether two mappings would take the same connections.
pub fn clash(a: &Port, b: &Port) -> bool {
    a.host_port == b.host_port
        && a.proto == b.proto
        && (a.host_ip.is_none() || b.host_ip.is_none() || a.host_ip == b.host_ip)
}

/// The table of a bridge's published ports.
pub fn table_name(bridge: &str) -> String {
    format!("netns-bridge-ports-{bridge}")
}

/// The nft script that makes the bridge's ports tables anew (`ip`, and `ip6` for the
/// IPv6 addresses of a dual-stack bridge), or removes them when no port is published:
/// DNAT of connections to the host (prerouting, and output for the host namespace's
/// own), and masquerading of connections from the subnet to a published port of the
/// subnet, so that a namespace reaches itself and its neighbours through the host
/// (hairpin). A mapping with a host address (IPv4) is IPv4 only.
pub fn ruleset(bridge: &str, state: &BridgeState) -> String {
    let table = table_name(bridge);
    let mut script = format!(
        "add table ip {table}\ndelete table ip {table}\n\
         add table ip6 {table}\ndelete table ip6 {table}\n"
    );
    let mapped = || {
        state
            .leases
            .iter()
            .flat_map(|l| l.ports.iter().map(move |p| (l, p)))
    };
    let dnat = |to: &str, p: &Port, address: String| {
        format!(
            "{to} {} dport {} dnat to {address}:{}",
            p.proto, p.host_port, p.port
        )
    };
    let rules4: Vec<String> = mapped()
        .map(|(l, p)| {
            let to = match p.host_ip {
                Some(ip) => format!("ip daddr {ip}"),
                None => "fib daddr type local".into(),
            };
            dnat(&to, p, l.address.to_string())
        })
        .collect();
    let rules6: Vec<String> = mapped()
        .filter(|(_, p)| p.host_ip.is_none())
        .filter_map(|(l, p)| {
            l.address6
                .map(|ip| dnat("fib daddr type local", p, format!("[{ip}]")))
        })
        .collect();
    if let Some(subnet) = state.subnet() {
        script.push_str(&family_table("ip", &table, &subnet.to_string(), &rules4));
    }
    if let Some(subnet6) = state.subnet6() {
        script.push_str(&family_table("ip6", &table, &subnet6.to_string(), &rules6));
    }
    script
}

/// One family's table; nothing without rules.
fn family_table(family: &str, table: &str, subnet: &str, rules: &[String]) -> String {
    if rules.is_empty() {
        return String::new();
    }
    // (nft takes the name `dstnat` in prerouting only: -100 is its value.)
    let chain = |name: &str| {
        let body: String = rules.iter().map(|r| format!("\t\t{r}\n")).collect();
        format!(
            "\tchain {name} {{\n\t\ttype nat hook {name} priority -100; policy accept;\n{body}\t}}\n"
        )
    };
    format!(
        "table {family} {table} {{\n{}{}\
         \tchain postrouting {{\n\
         \t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t\t{family} saddr {subnet} {family} daddr {subnet} ct status dnat masquerade\n\
         \t}}\n\
         }}\n",
        chain("prerouting"),
        chain("output"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipam::Subnet;
    use crate::lease::{BridgeRecord, Lease};

    #[test]
    fn specs_parse_and_print() {
        let p: Port = "8080:80".parse().expect("tcp by default");
        assert_eq!(
            (p.host_port, p.port, p.proto, p.host_ip),
            (8080, 80, Proto::Tcp, None)
        );
        assert_eq!(p.to_string(), "8080:80/tcp");
        let u: Port = "53:5353/udp".parse().expect("udp");
        assert_eq!(u.proto, Proto::Udp);
        for bad in [
            "",
            "80",
            "0:80",
            "80:0",
            "65536:80",
            "80:80/sctp",
            "a:b",
            "+80:80",
            "80:80/",
        ] {
            assert!(bad.parse::<Port>().is_err(), "{bad}");
        }
        let on = Port {
            host_ip: Some(Ipv4Addr::new(10, 0, 0, 1)),
            ..p
        };
        assert_eq!(on.to_string(), "10.0.0.1:8080:80/tcp");
        assert!(clash(&p, &on));
        assert!(!clash(&p, &u));
        assert!(!clash(
            &on,
            &Port {
                host_ip: Some(Ipv4Addr::new(10, 0, 0, 2)),
                ..p
            }
        ));
    }

    #[test]
    fn the_table_says_what_the_state_says() {
        let subnet: Subnet = "10.6.0.0/24".parse().expect("subnet");
        let mut state = BridgeState {
            bridge: Some(BridgeRecord {
                subnet: subnet.to_string(),
                gateway: None,
                subnet6: None,
                nat: false,
                mtu: None,
                created: true,
                gateway_added: false,
                pending: false,
                nat_pending: false,
                pending_by: Vec::new(),
            }),
            leases: Vec::new(),
        };
        let empty = ruleset("br0", &state);
        assert_eq!(
            empty,
            "add table ip netns-bridge-ports-br0\ndelete table ip netns-bridge-ports-br0\n\
             add table ip6 netns-bridge-ports-br0\ndelete table ip6 netns-bridge-ports-br0\n"
        );
        state.leases.push(Lease {
            netns: "4:1".into(),
            target: "/run/netns/a".into(),
            address: Ipv4Addr::new(10, 6, 0, 2),
            address6: None,
            host_veth: "nb0".into(),
            ifname: "eth0".into(),
            mac: "02:00:00:00:00:00".into(),
            cni: None,
            pending: false,
            ports: vec!["8080:80".parse().expect("port")],
        });
        let r = ruleset("br0", &state);
        assert!(
            r.contains("fib daddr type local tcp dport 8080 dnat to 10.6.0.2:80"),
            "{r}"
        );
        assert!(r.contains("type nat hook output priority -100"), "{r}");
        assert!(r.contains("ip saddr 10.6.0.0/24 ip daddr 10.6.0.0/24 ct status dnat masquerade"));
        assert!(!r.contains("table ip6 netns-bridge-ports-br0 {"));
        // Dual stack: the IPv6 address too.
        if let Some(record) = state.bridge.as_mut() {
            record.subnet6 = Some("fd06::/64".into());
        }
        state.leases[0].address6 = "fd06::2".parse().ok();
        let r = ruleset("br0", &state);
        assert!(
            r.contains("fib daddr type local tcp dport 8080 dnat to [fd06::2]:80"),
            "{r}"
        );
        assert!(r.contains("ip6 saddr fd06::/64 ip6 daddr fd06::/64 ct status dnat masquerade"));
    }
}

#[cfg(test)]
mod properties;
