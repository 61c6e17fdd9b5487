//! The `ipam` block as the reference `host-local` plugin reads it, and the static
//! addresses a runtime asks for: turned into the subnet, the ranges addresses come
//! from, the routes inside, and the one static address. Pure; every refusal is a CNI
//! configuration error (code 7) naming the key.

use std::net::{IpAddr, Ipv4Addr};

use serde::Deserialize;

use super::result::{CniError, CODE_INVALID_CONFIG};
use crate::attach::Route;
use crate::ipam::Subnet;
use crate::ipam6::Subnet6;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ipam {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub subnet: Option<String>,
    #[serde(default)]
    pub range_start: Option<String>,
    #[serde(default)]
    pub range_end: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub ranges: Option<Vec<Vec<Range>>>,
    #[serde(default)]
    pub routes: Option<Vec<RouteConf>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Range {
    #[serde(default)]
    pub subnet: Option<String>,
    #[serde(default)]
    pub range_start: Option<String>,
    #[serde(default)]
    pub range_end: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RouteConf {
    #[serde(default)]
    pub dst: Option<String>,
    #[serde(default)]
    pub gw: Option<String>,
}

/// Range sets with their places in `ipam.ranges`.
type Sets<'a> = Vec<(usize, &'a Vec<Range>)>;

/// What the configuration says about addresses and routes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Addressing {
    pub subnet: Option<Subnet>,
    /// The IPv6 subnet of an IPv6 range set: dual stack.
    pub subnet6: Option<Subnet6>,
    /// (first, last) of each range, in order; empty: the whole subnet.
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Routes besides a default route via the bridge's gateway.
    pub routes: Vec<Route>,
    /// `ipam.routes` holds `0.0.0.0/0` via the bridge's gateway.
    pub default_route: bool,
}

fn invalid(msg: String) -> CniError {
    CniError::new(CODE_INVALID_CONFIG, msg)
}

fn ipv4(text: &str, key: &str) -> Result<Ipv4Addr, CniError> {
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => Ok(ip),
        Ok(IpAddr::V6(_)) => Err(invalid(format!(
            "{key} {text}: IPv6 is not supported by netns-bridge yet"
        ))),
        Err(_) => Err(invalid(format!("{key}: invalid address '{text}'"))),
    }
}

fn subnet(text: &str, key: &str) -> Result<Subnet, CniError> {
    if text.contains(':') {
        return Err(invalid(format!(
            "{key} {text}: IPv6 is not supported by netns-bridge yet"
        )));
    }
    text.parse::<Subnet>()
        .map_err(|e| invalid(format!("{key}: {e}")))
}

/// One range: its subnet and bounds, the gateway checked against the bridge's.
fn range(r: &Range, key: &str) -> Result<(Subnet, (Ipv4Addr, Ipv4Addr)), CniError> {
    let text = r
        .subnet
        .as_deref()
        .ok_or_else(|| invalid(format!("{key}.subnet is missing")))?;
    let net = gatewayed(subnet(text, &format!("{key}.subnet"))?, &r.gateway, key)?;
    bounds(&net, &r.range_start, &r.range_end, key).map(|b| (net, b))
}

/// One IPv6 range: its subnet, the gateway checked against the bridge's. Addresses are
/// handed out from the lowest up: bounds are not supported.
fn range6(r: &Range, key: &str) -> Result<Subnet6, CniError> {
    let text = r
        .subnet
        .as_deref()
        .ok_or_else(|| invalid(format!("{key}.subnet is missing")))?;
    let net: Subnet6 = text
        .parse()
        .map_err(|e| invalid(format!("{key}.subnet: {e}")))?;
    if r.range_start.is_some() || r.range_end.is_some() {
        return Err(invalid(format!(
            "{key}: rangeStart and rangeEnd are not supported in IPv6 ranges"
        )));
    }
    if let Some(gw) = &r.gateway {
        let ok = gw.parse::<std::net::Ipv6Addr>().ok() == Some(net.gateway());
        if !ok {
            return Err(invalid(format!(
                "{key}.gateway {gw}: netns-bridge's gateway is the subnet's first address, {}",
                net.gateway()
            )));
        }
    }
    Ok(net)
}

/// The subnet with its `gateway`, when one is given: a host address of the subnet.
fn gatewayed(net: Subnet, gateway: &Option<String>, key: &str) -> Result<Subnet, CniError> {
    let Some(gw) = gateway else {
        return Ok(net);
    };
    let gw = ipv4(gw, &format!("{key}.gateway"))?;
    net.with_gateway(gw)
        .map_err(|_| invalid(format!("{key}.gateway {gw} is not a host address of {net}")))
}

fn bounds(
    net: &Subnet,
    start: &Option<String>,
    end: &Option<String>,
    key: &str,
) -> Result<(Ipv4Addr, Ipv4Addr), CniError> {
    let bound = |text: &Option<String>, name: &str, default: Ipv4Addr| match text {
        None => Ok(default),
        Some(t) => {
            let ip = ipv4(t, &format!("{key}.{name}"))?;
            if net.is_assignable(ip) {
                Ok(ip)
            } else {
                Err(invalid(format!(
                    "{key}.{name} {ip} is not an address to hand out in {net}"
                )))
            }
        }
    };
    let (first, last) = net.hosts();
    let (start, end) = (
        bound(start, "rangeStart", first)?,
        bound(end, "rangeEnd", last)?,
    );
    if start > end {
        return Err(invalid(format!(
            "{key}: rangeStart {start} is after rangeEnd {end}"
        )));
    }
    Ok((start, end))
}

/// Reads the subnet (top-level `subnet`, `ipam.subnet` or `ipam.ranges`), the ranges
/// and the routes. One IPv4 range set: its ranges share a subnet (netns-bridge keeps one
/// per bridge) and are tried in order.
pub fn addressing(top_subnet: Option<&str>, ipam: Option<&Ipam>) -> Result<Addressing, CniError> {
    let mut out = Addressing::default();
    if let Some(text) = top_subnet {
        out.subnet = Some(subnet(text, "subnet")?);
    }
    let Some(ipam) = ipam else {
        return Ok(out);
    };
    if let Some(kind) = ipam.kind.as_deref().filter(|k| *k != "host-local") {
        return Err(invalid(format!(
            "ipam.type {kind}: netns-bridge keeps its own leases, as host-local does; no other IPAM plugin is called"
        )));
    }
    let mut found: Vec<(Subnet, (Ipv4Addr, Ipv4Addr))> = Vec::new();
    if let Some(text) = &ipam.subnet {
        let net = gatewayed(subnet(text, "ipam.subnet")?, &ipam.gateway, "ipam")?;
        let b = bounds(&net, &ipam.range_start, &ipam.range_end, "ipam")?;
        found.push((net, b));
    }
    let sets = ipam.ranges.as_deref().unwrap_or_default();
    let is_v6 = |set: &[Range]| {
        set.first()
            .and_then(|r| r.subnet.as_deref())
            .is_some_and(|s| s.contains(':'))
    };
    let (v6, v4): (Sets, Sets) = sets.iter().enumerate().partition(|(_, set)| is_v6(set));
    if v4.len() > 1 || v6.len() > 1 {
        return Err(invalid(format!(
            "ipam.ranges: {} range sets; netns-bridge gives one address of each family per attachment",
            sets.len()
        )));
    }
    for (i, set) in v4 {
        for (j, r) in set.iter().enumerate() {
            found.push(range(r, &format!("ipam.ranges[{i}][{j}]"))?);
        }
    }
    for (i, set) in v6 {
        for (j, r) in set.iter().enumerate() {
            let s6 = range6(r, &format!("ipam.ranges[{i}][{j}]"))?;
            match out.subnet6 {
                Some(known) if known != s6 => {
                    return Err(invalid(format!(
                        "ipam.ranges[{i}][{j}]: subnet {s6} besides {known}; netns-bridge keeps one IPv6 subnet per bridge"
                    )))
                }
                _ => out.subnet6 = Some(s6),
            }
        }
    }
    for (net, bounds) in found {
        match out.subnet {
            Some(s) if s != net => {
                return Err(invalid(format!(
                    "ipam: subnet {net} besides {s}; netns-bridge keeps one subnet per bridge"
                )))
            }
            _ => out.subnet = Some(net),
        }
        out.ranges.push(bounds);
    }
    // Ranges that are the whole subnet restrict nothing.
    if let Some(s) = out.subnet {
        if out.ranges.contains(&s.hosts()) {
            out.ranges.clear();
        }
    }
    for (i, r) in ipam.routes.iter().flatten().enumerate() {
        let key = format!("ipam.routes[{i}]");
        let dst = r
            .dst
            .as_deref()
            .ok_or_else(|| invalid(format!("{key}.dst is missing")))?;
        if dst == "::/0" && r.gw.is_none() {
            // The IPv6 default route via the bridge: added with the IPv4 one.
            out.default_route = true;
            continue;
        }
        let (ip, prefix) = destination(dst, &key)?;
        let gateway =
            r.gw.as_deref()
                .map(|g| ipv4(g, &format!("{key}.gw")))
                .transpose()?;
        if prefix == 0 && gateway.is_none() {
            out.default_route = true;
        } else {
            out.routes.push(Route {
                dst: ip,
                prefix,
                gateway,
            });
        }
    }
    Ok(out)
}

/// A route destination: an IPv4 network, `A.B.C.D/N` with no host bits.
fn destination(text: &str, key: &str) -> Result<(Ipv4Addr, u8), CniError> {
    let (ip, prefix) = text
        .split_once('/')
        .ok_or_else(|| invalid(format!("{key}.dst '{text}' is no CIDR")))?;
    let ip = ipv4(ip, &format!("{key}.dst"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or_else(|| invalid(format!("{key}.dst '{text}': bad prefix length")))?;
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    if u32::from(ip) & !mask != 0 {
        return Err(invalid(format!("{key}.dst '{text}' has host bits set")));
    }
    Ok((ip, prefix))
}

/// The static addresses asked for, at most one per family.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Static {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<std::net::Ipv6Addr>,
}

/// The static addresses asked for: `IP=` in `CNI_ARGS` (comma-separated),
/// `args.cni.ips`, `runtimeConfig.ips` (a prefix length, if given, is dropped). The same
/// address named in several places counts once; two of one family are refused.
pub fn static_ips<'a>(
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Static, CniError> {
    let mut chosen = Static::default();
    for (key, list) in sources {
        for text in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let bare = text.split_once('/').map_or(text, |(a, _)| a);
            let clash = |ip: &dyn std::fmt::Display, other: &dyn std::fmt::Display| {
                invalid(format!(
                    "{key} {ip} besides {other}: netns-bridge gives one address of each family per attachment"
                ))
            };
            match bare.parse::<IpAddr>() {
                Ok(IpAddr::V4(ip)) => match chosen.v4 {
                    Some(other) if other != ip => return Err(clash(&ip, &other)),
                    _ => chosen.v4 = Some(ip),
                },
                Ok(IpAddr::V6(ip)) => match chosen.v6 {
                    Some(other) if other != ip => return Err(clash(&ip, &other)),
                    _ => chosen.v6 = Some(ip),
                },
                Err(_) => return Err(invalid(format!("{key}: invalid address '{text}'"))),
            }
        }
    }
    Ok(chosen)
}

/// `IP=…` of `CNI_ARGS` (`K=V;K=V`), if there.
pub fn cni_args_ip(args: &str) -> Option<&str> {
    args.split(';')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "IP")
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipam(json: &str) -> Ipam {
        serde_json::from_str(json).expect("ipam json")
    }

    fn ip(d: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 7, 0, d)
    }

    #[test]
    fn ranges_bound_the_subnet_and_routes_are_read() {
        let a = addressing(
            None,
            Some(&ipam(
                r#"{"type":"host-local","ranges":[[{"subnet":"10.7.0.0/24","gateway":"10.7.0.1",
                "rangeStart":"10.7.0.10","rangeEnd":"10.7.0.20"},{"subnet":"10.7.0.0/24",
                "rangeStart":"10.7.0.100"}]],"routes":[{"dst":"0.0.0.0/0"},
                {"dst":"192.168.5.0/24"},{"dst":"172.16.0.0/12","gw":"10.7.0.254"}]}"#,
            )),
        )
        .expect("valid");
        assert_eq!(a.subnet, "10.7.0.0/24".parse().ok());
        assert_eq!(a.ranges, [(ip(10), ip(20)), (ip(100), ip(254))]);
        assert!(a.default_route);
        assert_eq!(
            a.routes,
            [
                Route {
                    dst: Ipv4Addr::new(192, 168, 5, 0),
                    prefix: 24,
                    gateway: None
                },
                Route {
                    dst: Ipv4Addr::new(172, 16, 0, 0),
                    prefix: 12,
                    gateway: Some(ip(254))
                }
            ]
        );
        // Dual stack: an IPv6 range set and its default route.
        let both = addressing(
            None,
            Some(&ipam(
                r#"{"ranges":[[{"subnet":"10.7.0.0/24"}],[{"subnet":"fd07::/64","gateway":"fd07::1"}]],
                "routes":[{"dst":"::/0"}]}"#,
            )),
        )
        .expect("dual stack");
        assert_eq!(both.subnet6, "fd07::/64".parse().ok());
        assert!(both.default_route);
        // The whole subnet restricts nothing.
        let whole = addressing(None, Some(&ipam(r#"{"subnet":"10.7.0.0/24"}"#))).expect("ok");
        assert!(whole.ranges.is_empty());
    }

    #[test]
    fn a_gateway_may_be_any_host_address() {
        let a = addressing(
            None,
            Some(&ipam(
                r#"{"ranges":[[{"subnet":"10.7.0.0/24","gateway":"10.7.0.254"}]]}"#,
            )),
        )
        .expect("ok");
        let s = a.subnet.expect("subnet");
        assert_eq!(s.gateway(), Ipv4Addr::new(10, 7, 0, 254));
        assert!(a.ranges.is_empty(), "the whole subnet: {:?}", a.ranges);
        let top = addressing(
            None,
            Some(&ipam(r#"{"subnet":"10.7.0.0/24","gateway":"10.7.0.9"}"#)),
        )
        .expect("ok");
        assert_eq!(
            top.subnet.map(|s| s.gateway()),
            Some(Ipv4Addr::new(10, 7, 0, 9))
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_named() {
        for (json, key) in [
            (r#"{"type":"dhcp"}"#, "ipam.type"),
            (
                r#"{"ranges":[[{"subnet":"10.7.0.0/24","gateway":"10.7.0.255"}]]}"#,
                "ipam.ranges[0][0].gateway",
            ),
            (
                r#"{"ranges":[[{"subnet":"10.7.0.0/24","rangeStart":"10.8.0.5"}]]}"#,
                "ipam.ranges[0][0].rangeStart",
            ),
            (
                r#"{"ranges":[[{"subnet":"10.7.0.0/24","rangeStart":"10.7.0.9","rangeEnd":"10.7.0.5"}]]}"#,
                "rangeStart 10.7.0.9 is after",
            ),
            (
                r#"{"ranges":[[{"subnet":"10.7.0.0/24"}],[{"subnet":"10.9.0.0/24"}]]}"#,
                "range sets",
            ),
            (
                r#"{"ranges":[[{"subnet":"fd00::/64","rangeStart":"fd00::5"}]]}"#,
                "not supported in IPv6 ranges",
            ),
            (
                r#"{"ranges":[[{"subnet":"fd00::/64","gateway":"fd00::9"}]]}"#,
                "ipam.ranges[0][0].gateway",
            ),
            (
                r#"{"ranges":[[{"subnet":"10.7.0.0/24"},{"subnet":"10.9.0.0/24"}]]}"#,
                "one subnet per bridge",
            ),
            (r#"{"routes":[{"dst":"10.1.2.3/8"}]}"#, "host bits"),
            (r#"{"routes":[{"dst":"fd01::/64"}]}"#, "ipam.routes[0].dst"),
        ] {
            let e = addressing(None, Some(&ipam(json))).expect_err(json);
            assert_eq!(e.code, CODE_INVALID_CONFIG, "{json}");
            assert!(e.msg.contains(key), "{json}: {}", e.msg);
        }
    }

    #[test]
    fn one_static_address_from_any_place() {
        assert_eq!(static_ips([]).expect("none"), Static::default());
        assert_eq!(
            static_ips([
                ("CNI_ARGS IP", "10.7.0.50"),
                ("runtimeConfig.ips", "10.7.0.50/24")
            ])
            .expect("same")
            .v4,
            Some(ip(50))
        );
        assert!(static_ips([
            ("args.cni.ips", "10.7.0.50"),
            ("runtimeConfig.ips", "10.7.0.51")
        ])
        .is_err());
        let both = static_ips([("CNI_ARGS IP", "10.7.0.50,fd00::5")]).expect("both");
        assert_eq!(both.v6, "fd00::5".parse().ok());
        assert!(static_ips([("args.cni.ips", "fd00::5,fd00::6")]).is_err());
        assert!(static_ips([("args.cni.ips", "nonsense")]).is_err());
        assert_eq!(
            cni_args_ip("IgnoreUnknown=1;IP=10.7.0.50;K8S_POD_NAME=x"),
            Some("10.7.0.50")
        );
        assert_eq!(cni_args_ip("IgnoreUnknown=1"), None);
    }
}

#[cfg(test)]
mod properties;
