//! `--nat`: IPv4 forwarding on, and masquerading for the bridge's subnet in an nftables
//! table of its own (`ip netns-bridge-BRIDGE`), fed to `nft -f -` as one transaction.

use std::io::Write;
use std::process::{Command, Stdio};

use nscli::errno::io_text;

use crate::error::Error;
use crate::ipam::Subnet;
use crate::ipam6::Subnet6;

const FORWARDING: &str = "/proc/sys/net/ipv4/ip_forward";
const FORWARDING6: &str = "/proc/sys/net/ipv6/conf/all/forwarding";

/// The nftables table of a bridge.
pub fn table_name(bridge: &str) -> String {
    format!("netns-bridge-{bridge}")
}

/// The nft script that (re)creates the bridge's tables in one transaction: `ip`, and
/// `ip6` for a bridge with an IPv6 subnet.
pub fn ruleset(bridge: &str, subnet: &Subnet, subnet6: Option<Subnet6>) -> String {
    let mut script = table("ip", bridge, &subnet.to_string());
    if let Some(s6) = subnet6 {
        script.push_str(&table("ip6", bridge, &s6.to_string()));
    }
    script
}

fn table(family: &str, bridge: &str, subnet: &str) -> String {
    let table = table_name(bridge);
    format!(
        "add table {family} {table}\n\
         delete table {family} {table}\n\
         table {family} {table} {{\n\
         \tchain postrouting {{\n\
         \t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t\t{family} saddr {subnet} {family} daddr != {subnet} masquerade\n\
         \t}}\n\
         \tchain forward {{\n\
         \t\ttype filter hook forward priority filter; policy accept;\n\
         \t\tiifname \"{bridge}\" accept\n\
         \t\toifname \"{bridge}\" ct state established,related accept\n\
         \t}}\n\
         }}\n"
    )
}

/// Turns forwarding on (IPv6 too for a bridge with an IPv6 subnet) and installs the
/// tables (replacing older ones).
pub fn enable(bridge: &str, subnet: &Subnet, subnet6: Option<Subnet6>) -> Result<(), Error> {
    let mut knobs = vec![FORWARDING];
    if subnet6.is_some() {
        knobs.push(FORWARDING6);
    }
    for knob in knobs {
        std::fs::write(knob, "1").map_err(|e| Error::File {
            what: "cannot turn on forwarding in",
            path: knob.into(),
            source: e,
        })?;
    }
    nft(
        &ruleset(bridge, subnet, subnet6),
        &format!("cannot install the NAT table for {bridge}"),
    )
}

/// Removes the table; a table that is not there is success. Forwarding stays on: other
/// users of the host may rely on it.
pub fn disable(bridge: &str) -> Result<(), Error> {
    let table = table_name(bridge);
    let script = format!(
        "add table ip {table}\ndelete table ip {table}\n\
         add table ip6 {table}\ndelete table ip6 {table}\n"
    );
    nft(
        &script,
        &format!("cannot remove the NAT table for {bridge}"),
    )
}

/// Feeds `script` to `nft -f -` as one transaction; `what` says what it was for.
pub(crate) fn nft(script: &str, what: &str) -> Result<(), Error> {
    let fail = |why: String| Error::Nft {
        what: what.to_string(),
        why,
    };
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(format!(
                "cannot run nft: {} (install nftables)",
                io_text(&e)
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| fail(format!("cannot write to nft: {}", io_text(&e))))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot wait for nft: {}", io_text(&e))))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("nft failed")
        .trim()
        .to_string();
    Err(fail(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruleset_masquerades_the_subnet_only() {
        let subnet: Subnet = "10.5.0.0/24".parse().expect("subnet");
        let r = ruleset("br0", &subnet, None);
        assert!(r.starts_with("add table ip netns-bridge-br0\ndelete table ip netns-bridge-br0\n"));
        assert!(r.contains("ip saddr 10.5.0.0/24 ip daddr != 10.5.0.0/24 masquerade"));
        assert!(r.contains("iifname \"br0\" accept"));
        assert!(!r.contains("ip6"));
        let both = ruleset("br0", &subnet, "fd05::/64".parse().ok());
        assert!(both.contains("table ip6 netns-bridge-br0 {"));
        assert!(both.contains("ip6 saddr fd05::/64 ip6 daddr != fd05::/64 masquerade"));
    }
}
