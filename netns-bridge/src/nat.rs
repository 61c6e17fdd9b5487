//! `--nat`: IPv4 forwarding on, and masquerading for the bridge's subnet in an nftables
//! table of its own (`ip netns-bridge-BRIDGE`), fed to `nft -f -` as one transaction.

use std::io::Write;
use std::process::{Command, Stdio};

use nscli::errno::io_text;

use crate::error::Error;
use crate::ipam::Subnet;

const FORWARDING: &str = "/proc/sys/net/ipv4/ip_forward";

/// The nftables table of a bridge.
pub fn table_name(bridge: &str) -> String {
    format!("netns-bridge-{bridge}")
}

/// The nft script that (re)creates the bridge's table in one transaction.
pub fn ruleset(bridge: &str, subnet: &Subnet) -> String {
    let table = table_name(bridge);
    format!(
        "add table ip {table}\n\
         delete table ip {table}\n\
         table ip {table} {{\n\
         \tchain postrouting {{\n\
         \t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t\tip saddr {subnet} ip daddr != {subnet} masquerade\n\
         \t}}\n\
         \tchain forward {{\n\
         \t\ttype filter hook forward priority filter; policy accept;\n\
         \t\tiifname \"{bridge}\" accept\n\
         \t\toifname \"{bridge}\" ct state established,related accept\n\
         \t}}\n\
         }}\n"
    )
}

/// Turns forwarding on and installs the table (replacing an older one).
pub fn enable(bridge: &str, subnet: &Subnet) -> Result<(), Error> {
    std::fs::write(FORWARDING, "1").map_err(|e| Error::File {
        what: "cannot turn on IPv4 forwarding in",
        path: FORWARDING.into(),
        source: e,
    })?;
    nft(
        &ruleset(bridge, subnet),
        &format!("cannot install the NAT table for {bridge}"),
    )
}

/// Removes the table; a table that is not there is success. Forwarding stays on: other
/// users of the host may rely on it.
pub fn disable(bridge: &str) -> Result<(), Error> {
    let table = table_name(bridge);
    let script = format!("add table ip {table}\ndelete table ip {table}\n");
    nft(
        &script,
        &format!("cannot remove the NAT table for {bridge}"),
    )
}

fn nft(script: &str, what: &str) -> Result<(), Error> {
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
        let r = ruleset("br0", &subnet);
        assert!(r.starts_with("add table ip netns-bridge-br0\ndelete table ip netns-bridge-br0\n"));
        assert!(r.contains("ip saddr 10.5.0.0/24 ip daddr != 10.5.0.0/24 masquerade"));
        assert!(r.contains("iifname \"br0\" accept"));
    }
}
