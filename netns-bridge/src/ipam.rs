//! Pure address management: IPv4 subnets, the gateway, the first free address, and the
//! choice of a default subnet that overlaps no route of the host.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::error::Error;

/// An IPv4 subnet with a prefix of /8 to /30: room for a gateway and at least one host.
/// The gateway (the bridge's address) is the first host address unless set otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subnet {
    network: Ipv4Addr,
    prefix: u8,
    /// The gateway's offset from the network address.
    gateway: u32,
}

impl Subnet {
    pub fn new(network: Ipv4Addr, prefix: u8) -> Result<Subnet, Error> {
        if !(8..=30).contains(&prefix) {
            return Err(Error::invalid(format!(
                "subnet {network}/{prefix}: the prefix length must be between 8 and 30"
            )));
        }
        let subnet = Subnet {
            network,
            prefix,
            gateway: 1,
        };
        if subnet.network_u32() != u32::from(network) {
            return Err(Error::invalid(format!(
                "subnet {network}/{prefix} has host bits set (did you mean {subnet}?)"
            )));
        }
        Ok(subnet)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network_u32())
    }

    fn mask(&self) -> u32 {
        mask(self.prefix)
    }

    fn network_u32(&self) -> u32 {
        u32::from(self.network) & self.mask()
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network_u32() | !self.mask())
    }

    /// The bridge's address: the first host address unless [`Subnet::with_gateway`].
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network_u32() + self.gateway)
    }

    /// The same subnet with `gateway` as the bridge's address: a host address in it.
    pub fn with_gateway(self, gateway: Ipv4Addr) -> Result<Subnet, Error> {
        if !self.contains(gateway) || gateway == self.network() || gateway == self.broadcast() {
            return Err(Error::invalid(format!(
                "gateway {gateway} is not a host address of subnet {self}"
            )));
        }
        Ok(Subnet {
            gateway: u32::from(gateway) - self.network_u32(),
            ..self
        })
    }

    /// The gateway when it is not the first host address.
    pub fn custom_gateway(&self) -> Option<Ipv4Addr> {
        (self.gateway != 1).then(|| self.gateway())
    }

    /// The first and last addresses that may be handed out, the gateway aside.
    pub fn hosts(&self) -> (Ipv4Addr, Ipv4Addr) {
        let first = if self.gateway == 1 { 2 } else { 1 };
        (
            Ipv4Addr::from(self.network_u32() + first),
            Ipv4Addr::from(u32::from(self.broadcast()) - 1),
        )
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == self.network_u32()
    }

    /// Whether `ip` may be handed to a namespace: inside, and neither the network, the
    /// broadcast nor the gateway address.
    pub fn is_assignable(&self, ip: Ipv4Addr) -> bool {
        self.contains(ip) && ip != self.network() && ip != self.broadcast() && ip != self.gateway()
    }

    /// Whether the two subnets share any address.
    pub fn overlaps(&self, network: Ipv4Addr, prefix: u8) -> bool {
        let common = mask(self.prefix.min(prefix));
        u32::from(network) & common == self.network_u32() & common
    }

    /// The lowest assignable address not in `used`.
    pub fn first_free(&self, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        let (first, last) = self.hosts();
        (u32::from(first)..=u32::from(last))
            .map(Ipv4Addr::from)
            .find(|ip| self.is_assignable(*ip) && !used.contains(ip))
    }

    /// The lowest free address within `ranges` (first, last; tried in order), or in the
    /// whole subnet when there are none. Ranges are clipped to the assignable addresses.
    pub fn first_free_in(
        &self,
        used: &BTreeSet<Ipv4Addr>,
        ranges: &[(Ipv4Addr, Ipv4Addr)],
    ) -> Option<Ipv4Addr> {
        if ranges.is_empty() {
            return self.first_free(used);
        }
        let (first, last) = self.hosts();
        ranges.iter().find_map(|&(start, end)| {
            (u32::from(start).max(u32::from(first))..=u32::from(end).min(u32::from(last)))
                .map(Ipv4Addr::from)
                .find(|ip| self.is_assignable(*ip) && !used.contains(ip))
        })
    }

    /// The first assignable address in `ranges` (as [`Subnet::first_free_in`]) that
    /// `taken` says is free, looking from `from` on first and then before it: when the
    /// caller keeps `from` at or below its lowest free address, the lowest free one,
    /// found without looking at the taken ones below.
    pub fn next_free<E>(
        &self,
        from: Option<Ipv4Addr>,
        ranges: &[(Ipv4Addr, Ipv4Addr)],
        mut taken: impl FnMut(Ipv4Addr) -> Result<bool, E>,
    ) -> Result<Option<Ipv4Addr>, E> {
        let (first, last) = self.hosts();
        let whole = [(first, last)];
        let ranges = if ranges.is_empty() {
            &whole[..]
        } else {
            ranges
        };
        let from = from.map_or(0, u32::from);
        for after in [true, false] {
            for &(start, end) in ranges {
                let (mut ip, end) = (
                    u32::from(start).max(u32::from(first)),
                    u32::from(end).min(u32::from(last)),
                );
                if after {
                    ip = ip.max(from);
                }
                while ip <= end && (after || ip < from) {
                    let candidate = Ipv4Addr::from(ip);
                    if self.is_assignable(candidate) && !taken(candidate)? {
                        return Ok(Some(candidate));
                    }
                    ip += 1;
                }
            }
        }
        Ok(None)
    }

    /// How many addresses the subnet can hand out.
    pub fn capacity(&self) -> u32 {
        (!self.mask()) - 2
    }
}

fn mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

impl FromStr for Subnet {
    type Err = Error;

    fn from_str(s: &str) -> Result<Subnet, Error> {
        let bad = || {
            Error::invalid(format!(
                "invalid subnet '{s}': expected an IPv4 CIDR such as 10.88.0.0/24"
            ))
        };
        let (ip, prefix) = s.split_once('/').ok_or_else(bad)?;
        let ip = parse_ipv4(ip).ok_or_else(bad)?;
        if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        Subnet::new(ip, prefix)
    }
}

/// Parses a dotted-quad IPv4 address, strictly (no leading zeros, no shorthand).
pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    Ipv4Addr::from_str(s).ok()
}

/// Parses `--ip`: an address, or an address with the subnet's own prefix length.
pub fn parse_static(s: &str, subnet: &Subnet) -> Result<Ipv4Addr, Error> {
    let (ip, prefix) = match s.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (s, None),
    };
    let ip = parse_ipv4(ip).ok_or_else(|| Error::invalid(format!("invalid address '{s}'")))?;
    if let Some(prefix) = prefix {
        if prefix.parse::<u8>().ok() != Some(subnet.prefix()) {
            return Err(Error::invalid(format!(
                "address {s} does not have the prefix length of subnet {subnet}"
            )));
        }
    }
    if !subnet.contains(ip) {
        return Err(Error::invalid(format!(
            "address {ip} is outside subnet {subnet}"
        )));
    }
    if !subnet.is_assignable(ip) {
        return Err(Error::invalid(format!(
            "address {ip} is the network, broadcast or gateway address of subnet {subnet}"
        )));
    }
    Ok(ip)
}

/// The subnets tried, in order, when none is given: 10.213.0.0/24 … 10.213.255.0/24,
/// then 172.29.0.0/24 … 172.29.255.0/24.
pub fn default_candidates() -> impl Iterator<Item = Subnet> {
    let a = (0..=255u8).map(|i| Ipv4Addr::new(10, 213, i, 0));
    let b = (0..=255u8).map(|i| Ipv4Addr::new(172, 29, i, 0));
    a.chain(b).filter_map(|n| Subnet::new(n, 24).ok())
}

/// The first candidate that overlaps none of `taken` (route destinations and subnets of
/// other bridges, as (network, prefix)).
pub fn pick_default(taken: &[(Ipv4Addr, u8)]) -> Option<Subnet> {
    default_candidates().find(|c| !taken.iter().any(|(n, p)| c.overlaps(*n, *p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_free_looks_from_the_hint_then_before_it() {
        let subnet: Subnet = "10.1.0.0/29".parse().expect("subnet");
        let ip = |last: u8| Ipv4Addr::new(10, 1, 0, last);
        let used: BTreeSet<Ipv4Addr> = [ip(2), ip(3)].into();
        let free = |from, ranges: &[(Ipv4Addr, Ipv4Addr)], used: &BTreeSet<Ipv4Addr>| {
            let mut asked = 0;
            let found = subnet.next_free(from, ranges, |a| {
                asked += 1;
                Ok::<_, ()>(used.contains(&a))
            });
            (found.ok().flatten(), asked)
        };
        assert_eq!(free(None, &[], &used), (Some(ip(4)), 3));
        // From the hint on: the taken ones below it are not asked about.
        assert_eq!(free(Some(ip(4)), &[], &used), (Some(ip(4)), 1));
        // A hint past the free ones: found before it.
        assert_eq!(free(Some(ip(6)), &[], &[ip(6)].into()).0, Some(ip(2)));
        let full: BTreeSet<Ipv4Addr> = (2..=6).map(ip).collect();
        assert_eq!(free(Some(ip(3)), &[], &full).0, None);
        // Within ranges, as first_free_in.
        assert_eq!(free(Some(ip(2)), &[(ip(5), ip(9))], &used).0, Some(ip(5)));
        assert_eq!(
            free(None, &[(ip(5), ip(9))], &used).0,
            subnet.first_free_in(&used, &[(ip(5), ip(9))])
        );
    }

    fn s(text: &str) -> Subnet {
        text.parse().expect("valid subnet")
    }

    #[test]
    fn a_gateway_other_than_the_first_address_is_skipped_and_frees_the_first() {
        let s: Subnet = "10.7.0.0/24".parse().expect("subnet");
        let g = s
            .with_gateway(Ipv4Addr::new(10, 7, 0, 254))
            .expect("gateway");
        assert_eq!(g.gateway(), Ipv4Addr::new(10, 7, 0, 254));
        assert_eq!(g.to_string(), "10.7.0.0/24");
        assert_ne!(g, s);
        assert_eq!(g.custom_gateway(), Some(Ipv4Addr::new(10, 7, 0, 254)));
        assert_eq!(s.custom_gateway(), None);
        assert!(g.is_assignable(Ipv4Addr::new(10, 7, 0, 1)));
        assert!(!g.is_assignable(Ipv4Addr::new(10, 7, 0, 254)));
        assert_eq!(
            g.first_free(&BTreeSet::new()),
            Some(Ipv4Addr::new(10, 7, 0, 1))
        );
        let upper = [(Ipv4Addr::new(10, 7, 0, 253), Ipv4Addr::new(10, 7, 0, 254))];
        let used = [Ipv4Addr::new(10, 7, 0, 253)].into_iter().collect();
        assert_eq!(g.first_free_in(&used, &upper), None);
        assert_eq!(g.capacity(), s.capacity());
        for bad in [[10, 7, 0, 0], [10, 7, 0, 255], [10, 8, 0, 1]] {
            assert!(s.with_gateway(Ipv4Addr::from(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_and_describes_a_subnet() {
        let n = s("10.88.0.0/24");
        assert_eq!(n.gateway(), Ipv4Addr::new(10, 88, 0, 1));
        assert_eq!(n.broadcast(), Ipv4Addr::new(10, 88, 0, 255));
        assert_eq!(n.capacity(), 253);
        assert_eq!(n.to_string(), "10.88.0.0/24");
        assert_eq!(s("192.168.4.0/30").capacity(), 1);
    }

    #[test]
    fn rejects_bad_cidrs() {
        for bad in [
            "",
            "10.0.0.0",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0.0/31",
            "10.0.0.0/7",
            "10.0.0.1/24",
            "10.0.0/24",
            "10.0.0.0/+4",
            "a.b.c.d/24",
            "10.0.0.0/024",
            "10.0.0.0/24/1",
            "::1/64",
            "10.0.0.256/24",
            "010.0.0.0/24",
        ] {
            assert!(bad.parse::<Subnet>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn allocates_the_lowest_free_address() {
        let n = s("10.1.0.0/29");
        let mut used = BTreeSet::new();
        assert_eq!(n.first_free(&used), Some(Ipv4Addr::new(10, 1, 0, 2)));
        used.insert(Ipv4Addr::new(10, 1, 0, 2));
        used.insert(Ipv4Addr::new(10, 1, 0, 4));
        assert_eq!(n.first_free(&used), Some(Ipv4Addr::new(10, 1, 0, 3)));
        for i in 2..=6 {
            used.insert(Ipv4Addr::new(10, 1, 0, i));
        }
        assert_eq!(n.first_free(&used), None);
    }

    #[test]
    fn ranges_bound_what_is_handed_out() {
        let s: Subnet = "10.5.0.0/24".parse().expect("subnet");
        let ip = |d: u8| Ipv4Addr::new(10, 5, 0, d);
        let used: BTreeSet<Ipv4Addr> = [ip(10), ip(11)].into();
        assert_eq!(s.first_free_in(&used, &[]), Some(ip(2)));
        assert_eq!(s.first_free_in(&used, &[(ip(10), ip(20))]), Some(ip(12)));
        assert_eq!(s.first_free_in(&used, &[(ip(10), ip(11))]), None);
        assert_eq!(
            s.first_free_in(&used, &[(ip(10), ip(11)), (ip(50), ip(60))]),
            Some(ip(50))
        );
        // Clipped: never the network, the gateway or the broadcast address.
        assert_eq!(
            s.first_free_in(&BTreeSet::new(), &[(ip(0), ip(255))]),
            Some(ip(2))
        );
    }

    #[test]
    fn a_slash_30_holds_one_namespace() {
        let n = s("10.9.9.0/30");
        let mut used = BTreeSet::new();
        let first = n.first_free(&used).expect("one address");
        assert_eq!(first, Ipv4Addr::new(10, 9, 9, 2));
        used.insert(first);
        assert_eq!(n.first_free(&used), None);
    }

    #[test]
    fn checks_static_addresses() {
        let n = s("10.1.0.0/24");
        assert_eq!(
            parse_static("10.1.0.7", &n).ok(),
            Some(Ipv4Addr::new(10, 1, 0, 7))
        );
        assert!(parse_static("10.1.0.7/24", &n).is_ok());
        assert!(parse_static("10.1.0.7/16", &n).is_err());
        assert!(parse_static("10.2.0.7", &n).is_err());
        assert!(parse_static("10.1.0.1", &n).is_err());
        assert!(parse_static("10.1.0.255", &n).is_err());
        assert!(parse_static("10.1.0.0", &n).is_err());
        assert!(parse_static("nonsense", &n).is_err());
    }

    #[test]
    fn default_subnet_avoids_routes() {
        assert_eq!(pick_default(&[]), Some(s("10.213.0.0/24")));
        let taken = [
            (Ipv4Addr::new(10, 213, 0, 0), 23),
            (Ipv4Addr::new(10, 213, 2, 5), 32),
        ];
        assert_eq!(pick_default(&taken), Some(s("10.213.3.0/24")));
        let everything = [
            (Ipv4Addr::new(10, 0, 0, 0), 8),
            (Ipv4Addr::new(172, 16, 0, 0), 12),
        ];
        assert_eq!(pick_default(&everything), None);
    }

    #[test]
    fn overlap_is_symmetric_in_prefix() {
        let n = s("10.1.2.0/24");
        assert!(n.overlaps(Ipv4Addr::new(10, 0, 0, 0), 8));
        assert!(n.overlaps(Ipv4Addr::new(10, 1, 2, 128), 25));
        assert!(!n.overlaps(Ipv4Addr::new(10, 1, 3, 0), 24));
    }
}

#[cfg(test)]
mod properties;
