//! Names and tags: interface-name rules, the host veth's deterministic name, the alias
//! that marks host veths as ours, and stable MAC addresses.

use std::net::Ipv4Addr;

use nsproc::NsId;

use crate::error::Error;

/// Longest interface name the kernel takes (IFNAMSIZ - 1).
pub const IFNAME_MAX: usize = 15;
/// The prefix of every host veth's name.
pub const HOST_VETH_PREFIX: &str = "nb";
/// The start of the alias every host veth carries.
const TAG: &str = "netns-bridge";

/// Checks an interface name: 1 to 15 bytes of letters, digits, '-', '_' and '.', and not
/// "." or "..". `what` says which option it came from.
pub fn check_ifname(name: &str, what: &str) -> Result<(), Error> {
    let fail = |why: &str| Err(Error::invalid(format!("invalid {what} '{name}': {why}")));
    if name.is_empty() {
        return fail("empty");
    }
    if name.len() > IFNAME_MAX {
        return fail("longer than 15 bytes");
    }
    if name == "." || name == ".." {
        return fail("not a legal interface name");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(Error::invalid(format!(
            "invalid {what} '{}': character {c:?} is not allowed (use letters, digits, '-', '_', '.')",
            name.escape_debug()
        )));
    }
    Ok(())
}

/// A namespace's identity as the state files and tags write it: "dev:ino".
pub fn id_text(id: NsId) -> String {
    format!("{}:{}", id.dev, id.ino)
}

/// Reads [`id_text`]'s form back.
pub fn parse_id(text: &str) -> Option<NsId> {
    let (dev, ino) = text.split_once(':')?;
    Some(NsId {
        dev: dev.parse().ok()?,
        ino: ino.parse().ok()?,
    })
}

/// FNV-1a, 64 bits: small, stable across builds and platforms.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(std::iter::once(&0u8)) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The host end's name for the attachment of `netns` to `bridge`: "nb" and 12 hex digits
/// of a hash of both, 14 bytes. The same pair always gets the same name.
pub fn host_veth_name(bridge: &str, netns: NsId) -> String {
    let hash = fnv1a(&[
        bridge.as_bytes(),
        &netns.dev.to_le_bytes(),
        &netns.ino.to_le_bytes(),
    ]);
    format!("{HOST_VETH_PREFIX}{:012x}", hash & 0xffff_ffff_ffff)
}

/// The alias tag of a host veth: says it is ours, for which bridge and namespace.
pub fn veth_tag(bridge: &str, netns: NsId) -> String {
    format!("{TAG} bridge={bridge} netns={}", id_text(netns))
}

/// The alias tag of a bridge netns-bridge made (a veth's tag has the namespace too).
pub fn bridge_tag(bridge: &str) -> String {
    format!("{TAG} bridge={bridge}")
}

/// Reads a tag written by [`veth_tag`]: (bridge, namespace).
pub fn parse_veth_tag(alias: &str) -> Option<(String, NsId)> {
    let rest = alias.strip_prefix(TAG)?.strip_prefix(" bridge=")?;
    let (bridge, netns) = rest.split_once(" netns=")?;
    Some((bridge.to_string(), parse_id(netns)?))
}

/// A stable, locally administered unicast MAC for a bridge, from its name.
pub fn bridge_mac(bridge: &str) -> [u8; 6] {
    let h = fnv1a(&[b"bridge", bridge.as_bytes()]).to_be_bytes();
    [0x02, h[0], h[1], h[2], h[3], h[4]]
}

/// The MAC of a namespace's interface, from its address (as Docker does): 02:6e:a:b:c:d.
pub fn interface_mac(address: Ipv4Addr) -> [u8; 6] {
    let o = address.octets();
    [0x02, 0x6e, o[0], o[1], o[2], o[3]]
}

/// A MAC as text, aa:bb:cc:dd:ee:ff.
pub fn mac_string(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_good_names() {
        for ok in ["eth0", "nsbr0", "a", "br-test_1.2", "123456789012345"] {
            assert!(check_ifname(ok, "name").is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "",
            ".",
            "..",
            "1234567890123456",
            "a/b",
            "a:b",
            "a b",
            "eth\n",
            "é",
            "a\0b",
            "x*",
        ] {
            let e = check_ifname(bad, "--ifname").expect_err(bad);
            assert!(!e.to_string().contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn host_veth_names_are_short_stable_and_distinct() {
        let a = NsId {
            dev: 4,
            ino: 4026532000,
        };
        let b = NsId {
            dev: 4,
            ino: 4026532001,
        };
        let name = host_veth_name("nsbr0", a);
        assert!(name.len() <= IFNAME_MAX);
        assert!(check_ifname(&name, "name").is_ok());
        assert_eq!(name, host_veth_name("nsbr0", a));
        assert_ne!(name, host_veth_name("nsbr0", b));
        assert_ne!(name, host_veth_name("nsbr1", a));
    }

    #[test]
    fn ids_read_as_written() {
        let id = NsId {
            dev: 4,
            ino: 4026532527,
        };
        assert_eq!(id_text(id), "4:4026532527");
        assert_eq!(parse_id("4:4026532527"), Some(id));
        for bad in ["", "4", "4:", ":4", "a:b", "4:5:6"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn tags_round_trip() {
        let id = NsId { dev: 4, ino: 99 };
        let tag = veth_tag("br-x", id);
        assert_eq!(parse_veth_tag(&tag), Some(("br-x".to_string(), id)));
        assert_eq!(parse_veth_tag("something else"), None);
        assert_eq!(parse_veth_tag(&bridge_tag("br-x")), None);
        assert_eq!(parse_veth_tag("netns-bridge bridge=b netns=zz"), None);
    }

    #[test]
    fn macs_are_local_unicast() {
        for mac in [
            bridge_mac("nsbr0"),
            interface_mac(Ipv4Addr::new(10, 0, 0, 2)),
        ] {
            assert_eq!(mac[0] & 0x03, 0x02);
        }
        assert_eq!(
            mac_string(&interface_mac(Ipv4Addr::new(10, 0, 0, 2))),
            "02:6e:0a:00:00:02"
        );
    }
}

#[cfg(test)]
mod properties;
