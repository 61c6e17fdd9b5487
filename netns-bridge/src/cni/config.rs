//! What the runtime hands the plugin: the network configuration on stdin and the
//! `CNI_*` environment, parsed and checked before anything is touched.

use std::path::PathBuf;

use serde::Deserialize;

use super::result::{
    CniError, CODE_DECODE, CODE_INCOMPATIBLE_VERSION, CODE_INVALID_CONFIG, CODE_INVALID_ENV,
};
use super::SUPPORTED_VERSIONS;
use crate::ipam::Subnet;

const DEFAULT_BRIDGE: &str = "cni0";

/// The network configuration fields netns-bridge reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetConf {
    #[serde(default)]
    pub cni_version: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bridge: Option<String>,
    #[serde(default)]
    pub subnet: Option<String>,
    #[serde(default)]
    pub ipam: Option<Ipam>,
    #[serde(default)]
    pub mtu: Option<u32>,
    #[serde(default)]
    pub ip_masq: Option<bool>,
    #[serde(default)]
    pub is_gateway: Option<bool>,
    #[serde(default)]
    pub is_default_gateway: Option<bool>,
    /// netns-bridge's own: where the leases live (else NETNS_BRIDGE_STATE_DIR, else
    /// /run/netns-bridge).
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Ipam {
    #[serde(default)]
    pub subnet: Option<String>,
    #[serde(default)]
    pub ranges: Option<Vec<Vec<Range>>>,
    #[serde(default)]
    pub routes: Option<Vec<RouteConf>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Range {
    #[serde(default)]
    pub subnet: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RouteConf {
    #[serde(default)]
    pub dst: Option<String>,
}

/// The parsed, checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub version: String,
    pub bridge: String,
    pub subnet: Option<Subnet>,
    pub mtu: Option<u32>,
    pub nat: bool,
    pub default_route: bool,
    pub state_dir: Option<PathBuf>,
}

/// Parses the configuration from stdin's bytes.
pub fn parse_config(bytes: &[u8]) -> Result<Settings, CniError> {
    let conf: NetConf = serde_json::from_slice(bytes).map_err(|e| {
        CniError::new(
            CODE_DECODE,
            format!("cannot parse the network configuration: {e}"),
        )
        .with_details(e)
    })?;
    let version = conf.cni_version.clone().unwrap_or_else(|| "1.0.0".into());
    if !SUPPORTED_VERSIONS.contains(&version.as_str()) {
        return Err(CniError::new(
            CODE_INCOMPATIBLE_VERSION,
            format!(
                "unsupported CNI version {version} (supported: {})",
                SUPPORTED_VERSIONS.join(", ")
            ),
        ));
    }
    let bridge = conf.bridge.clone().unwrap_or_else(|| DEFAULT_BRIDGE.into());
    crate::names::check_ifname(&bridge, "bridge name")
        .map_err(|e| CniError::new(CODE_INVALID_CONFIG, e.to_string()))?;
    let ipam = conf.ipam.as_ref();
    let subnet_text = conf
        .subnet
        .clone()
        .or_else(|| ipam.and_then(|i| i.subnet.clone()))
        .or_else(|| {
            ipam.and_then(|i| i.ranges.as_ref())
                .and_then(|r| r.first())
                .and_then(|set| set.first())
                .and_then(|range| range.subnet.clone())
        });
    let subnet = subnet_text
        .map(|s| s.parse::<Subnet>())
        .transpose()
        .map_err(|e| CniError::new(CODE_INVALID_CONFIG, e.to_string()))?;
    let ipam_default = ipam
        .and_then(|i| i.routes.as_ref())
        .is_some_and(|routes| routes.iter().any(|r| r.dst.as_deref() == Some("0.0.0.0/0")));
    let default_route =
        conf.is_default_gateway == Some(true) || ipam_default || conf.is_gateway != Some(false);
    if let Some(mtu) = conf.mtu {
        if !(68..=65535).contains(&mtu) {
            return Err(CniError::new(
                CODE_INVALID_CONFIG,
                format!("invalid mtu {mtu}"),
            ));
        }
    }
    Ok(Settings {
        version,
        bridge,
        subnet,
        mtu: conf.mtu,
        nat: conf.ip_masq.unwrap_or(false),
        default_route,
        state_dir: conf.state_dir,
    })
}

/// The container's side of a command, from the `CNI_*` environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub container_id: String,
    pub ifname: String,
    /// The namespace file; needed by ADD and CHECK, optional for DEL.
    pub netns: Option<String>,
}

impl Invocation {
    /// Reads `CNI_CONTAINERID`, `CNI_IFNAME` and `CNI_NETNS` through `env` (which
    /// returns a variable's value when it is set and not empty).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Invocation, CniError> {
        let need = |name: &str| {
            env(name).ok_or_else(|| CniError::new(CODE_INVALID_ENV, format!("{name} is not set")))
        };
        let container_id = need("CNI_CONTAINERID")?;
        let ifname = need("CNI_IFNAME")?;
        crate::names::check_ifname(&ifname, "CNI_IFNAME")
            .map_err(|e| CniError::new(CODE_INVALID_ENV, e.to_string()))?;
        Ok(Invocation {
            container_id,
            ifname,
            netns: env("CNI_NETNS"),
        })
    }

    /// The namespace, for a command that cannot do without it.
    pub fn need_netns(&self) -> Result<&str, CniError> {
        self.netns
            .as_deref()
            .ok_or_else(|| CniError::new(CODE_INVALID_ENV, "CNI_NETNS is not set"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_minimal_config() {
        let s = parse_config(br#"{"cniVersion":"1.0.0","name":"n","type":"netns-bridge"}"#)
            .expect("valid");
        assert_eq!(s.bridge, "cni0");
        assert_eq!(s.subnet, None);
        assert!(s.default_route);
        assert!(!s.nat);
    }

    #[test]
    fn reads_subnets_from_every_place() {
        let top = parse_config(br#"{"cniVersion":"0.4.0","bridge":"b1","subnet":"10.1.0.0/24"}"#)
            .expect("top");
        assert_eq!(top.subnet, "10.1.0.0/24".parse().ok());
        let ipam = parse_config(br#"{"ipam":{"type":"host-local","subnet":"10.2.0.0/24"}}"#)
            .expect("ipam");
        assert_eq!(ipam.subnet, "10.2.0.0/24".parse().ok());
        let ranges = parse_config(
            br#"{"ipMasq":true,"mtu":1400,"ipam":{"ranges":[[{"subnet":"10.3.0.0/16"}]]}}"#,
        )
        .expect("ranges");
        assert_eq!(ranges.subnet, "10.3.0.0/16".parse().ok());
        assert!(ranges.nat);
        assert_eq!(ranges.mtu, Some(1400));
    }

    #[test]
    fn gateway_flags_decide_the_default_route() {
        let off = parse_config(br#"{"isGateway":false}"#).expect("valid");
        assert!(!off.default_route);
        let on = parse_config(br#"{"isGateway":false,"isDefaultGateway":true}"#).expect("valid");
        assert!(on.default_route);
    }

    #[test]
    fn rejects_bad_configs_with_cni_codes() {
        assert_eq!(
            parse_config(b"not json").map_err(|e| e.code).err(),
            Some(CODE_DECODE)
        );
        assert_eq!(
            parse_config(br#"{"cniVersion":"9.9.9"}"#)
                .map_err(|e| e.code)
                .err(),
            Some(CODE_INCOMPATIBLE_VERSION)
        );
        for bad in [
            &br#"{"subnet":"10.0.0.1/24"}"#[..],
            br#"{"bridge":"a-very-long-bridge-name"}"#,
            br#"{"mtu":5}"#,
            br#"{"subnet":"nonsense"}"#,
        ] {
            assert_eq!(
                parse_config(bad).map_err(|e| e.code).err(),
                Some(CODE_INVALID_CONFIG)
            );
        }
        assert!(parse_config(br#"{"mtu":"big"}"#).is_err());
    }

    #[test]
    fn a_decoding_error_has_the_parsers_words_in_details() {
        let e = parse_config(b"{").expect_err("invalid");
        assert!(e
            .msg
            .starts_with("cannot parse the network configuration: "));
        assert!(e.details.is_some_and(|d| e.msg.ends_with(&d)));
    }

    #[test]
    fn reads_the_state_dir_and_keeps_the_version() {
        let s = parse_config(br#"{"cniVersion":"0.3.1","stateDir":"/tmp/x","bridge":"b"}"#)
            .expect("valid");
        assert_eq!(s.version, "0.3.1");
        assert_eq!(s.state_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(s.bridge, "b");
    }

    fn vars<'a>(set: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            set.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn reads_the_environment() {
        let full = [
            ("CNI_CONTAINERID", "c1"),
            ("CNI_IFNAME", "eth1"),
            ("CNI_NETNS", "/run/netns/c1"),
        ];
        let inv = Invocation::from_env(vars(&full)).expect("valid");
        assert_eq!(
            inv,
            Invocation {
                container_id: "c1".into(),
                ifname: "eth1".into(),
                netns: Some("/run/netns/c1".into()),
            }
        );
        assert_eq!(inv.need_netns().ok(), Some("/run/netns/c1"));
        let no_netns = Invocation::from_env(vars(&full[..2])).expect("valid for DEL");
        assert_eq!(
            no_netns.need_netns().map_err(|e| e.code),
            Err(CODE_INVALID_ENV)
        );
    }

    #[test]
    fn a_missing_or_bad_variable_is_a_bad_environment() {
        for set in [
            &[("CNI_IFNAME", "eth0")][..],
            &[("CNI_CONTAINERID", "c1")],
            &[("CNI_CONTAINERID", "c1"), ("CNI_IFNAME", "a/b")],
            &[
                ("CNI_CONTAINERID", "c1"),
                ("CNI_IFNAME", "much-too-long-a-name"),
            ],
        ] {
            let e = Invocation::from_env(vars(set)).expect_err("invalid");
            assert_eq!(e.code, CODE_INVALID_ENV, "{set:?}");
        }
    }
}
