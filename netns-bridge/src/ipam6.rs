//! Pure IPv6 address management: a bridge's IPv6 subnet, its gateway (the first host
//! address, as for IPv4) and the lowest free address.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

use crate::error::Error;

/// An IPv6 subnet with a prefix of /64 to /120.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subnet6 {
    network: u128,
    prefix: u8,
}

impl Subnet6 {
    pub fn new(network: Ipv6Addr, prefix: u8) -> Result<Subnet6, Error> {
        if !(64..=120).contains(&prefix) {
            return Err(Error::invalid(format!(
                "subnet {network}/{prefix}: the IPv6 prefix length must be between 64 and 120"
            )));
        }
        let subnet = Subnet6 {
            network: u128::from(network) & mask(prefix),
            prefix,
        };
        if subnet.network != u128::from(network) {
            return Err(Error::invalid(format!(
                "subnet {network}/{prefix} has host bits set (did you mean {subnet}?)"
            )));
        }
        Ok(subnet)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The first host address: the bridge's.
    pub fn gateway(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.network + 1)
    }

    fn last(&self) -> u128 {
        self.network | !mask(self.prefix)
    }

    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & mask(self.prefix) == self.network
    }

    /// Whether `ip` may be handed out: inside, not the network (subnet-router anycast)
    /// address and not the gateway.
    pub fn is_assignable(&self, ip: Ipv6Addr) -> bool {
        self.contains(ip) && u128::from(ip) > self.network + 1
    }

    /// The first address after the gateway that `taken` says is free, looking from
    /// `from` on first and then before it (see [`crate::ipam::Subnet::next_free`]).
    pub fn next_free<E>(
        &self,
        from: Option<Ipv6Addr>,
        mut taken: impl FnMut(Ipv6Addr) -> Result<bool, E>,
    ) -> Result<Option<Ipv6Addr>, E> {
        let (first, last) = (self.network + 2, self.last());
        let from = from.map_or(first, u128::from).clamp(first, last);
        for ip in (from..=last).chain(first..from) {
            if !taken(Ipv6Addr::from(ip))? {
                return Ok(Some(Ipv6Addr::from(ip)));
            }
        }
        Ok(None)
    }

    /// The lowest free address after the gateway.
    pub fn first_free(&self, used: &BTreeSet<Ipv6Addr>) -> Option<Ipv6Addr> {
        let taken = |ip: Ipv6Addr| Ok::<_, std::convert::Infallible>(used.contains(&ip));
        self.next_free(None, taken).unwrap_or(None)
    }
}

fn mask(prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => u128::MAX << (128 - u32::from(p.min(128))),
    }
}

impl fmt::Display for Subnet6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv6Addr::from(self.network), self.prefix)
    }
}

impl FromStr for Subnet6 {
    type Err = Error;

    fn from_str(s: &str) -> Result<Subnet6, Error> {
        let bad = || {
            Error::invalid(format!(
                "invalid IPv6 CIDR '{s}' (expected e.g. fd00:1::/64)"
            ))
        };
        let (ip, prefix) = s.split_once('/').ok_or_else(bad)?;
        let ip: Ipv6Addr = ip.parse().map_err(|_| bad())?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        Subnet6::new(ip, prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hands_out_the_lowest_free() {
        let s: Subnet6 = "fd42:1::/64".parse().expect("subnet");
        assert_eq!(s.to_string(), "fd42:1::/64");
        assert_eq!(s.gateway(), "fd42:1::1".parse::<Ipv6Addr>().expect("ip"));
        let used: BTreeSet<Ipv6Addr> = ["fd42:1::2".parse().expect("ip")].into();
        assert_eq!(s.first_free(&used), "fd42:1::3".parse().ok());
        assert!(s.is_assignable("fd42:1::2".parse().expect("ip")));
        assert!(!s.is_assignable(s.gateway()));
        assert!(!s.is_assignable("fd42:2::2".parse().expect("ip")));
        let tiny: Subnet6 = "fd42::/120".parse().expect("subnet");
        let all: BTreeSet<Ipv6Addr> = (2..=255u128)
            .map(|n| Ipv6Addr::from(tiny.network + n))
            .collect();
        assert_eq!(tiny.first_free(&all), None);
        let taken = |ip: Ipv6Addr| Ok::<_, ()>(used.contains(&ip));
        let hint = "fd42:1::9".parse().ok();
        assert_eq!(s.next_free(hint, taken), Ok(hint));
        assert_eq!(s.next_free(None, taken), Ok("fd42:1::3".parse().ok()));
        let full = |ip: Ipv6Addr| Ok::<_, ()>(all.contains(&ip));
        assert_eq!(
            tiny.next_free(Some(Ipv6Addr::from(tiny.network + 9)), full),
            Ok(None)
        );
    }

    #[test]
    fn rejects_bad_cidrs() {
        for bad in [
            "",
            "fd42::",
            "fd42::/",
            "fd42::/48",
            "fd42::/121",
            "fd42::1/64",
            "10.0.0.0/24",
            "fd42::/+64",
        ] {
            assert!(bad.parse::<Subnet6>().is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod properties;
