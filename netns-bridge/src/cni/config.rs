//! What the runtime hands the plugin: the network configuration on stdin and the
//! `CNI_*` environment, parsed and checked before anything is touched.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use serde::Deserialize;

use super::ipamconf::{self, Ipam};
use super::result::{
    CniError, CODE_DECODE, CODE_INCOMPATIBLE_VERSION, CODE_INVALID_CONFIG, CODE_INVALID_ENV,
};
use super::SUPPORTED_VERSIONS;
use crate::attach::Route;
use crate::ipam::Subnet;
use crate::ipam6::Subnet6;
use crate::lease::CniKey;
use crate::ports::Port;

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
    #[serde(default)]
    pub hairpin_mode: Option<bool>,
    #[serde(default)]
    pub promisc_mode: Option<bool>,
    /// `args.cni.ips`: static addresses (the conventions of CNI's `args`).
    #[serde(default)]
    pub args: Option<Args>,
    /// `runtimeConfig.ips`: static addresses (the `ips` capability).
    #[serde(default)]
    pub runtime_config: Option<RuntimeConfig>,
    /// CNI 1.1 GC: the attachments still in use.
    #[serde(default, rename = "cni.dev/valid-attachments")]
    pub valid_attachments: Option<Vec<ValidAttachment>>,
    /// netns-bridge's own: where the leases live (else NETNS_BRIDGE_STATE_DIR, else
    /// /run/netns-bridge).
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Args {
    #[serde(default)]
    pub cni: Option<CniArgs>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CniArgs {
    #[serde(default)]
    pub ips: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeConfig {
    #[serde(default)]
    pub ips: Vec<String>,
    /// The `portMappings` capability.
    #[serde(default)]
    pub port_mappings: Vec<PortMapping>,
}

/// One entry of `runtimeConfig.portMappings`, as the `portmap` plugin reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMapping {
    pub host_port: u16,
    pub container_port: u16,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default, rename = "hostIP")]
    pub host_ip: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ValidAttachment {
    #[serde(rename = "containerID")]
    pub container_id: String,
    pub ifname: String,
}

/// The parsed, checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub version: String,
    pub bridge: String,
    pub subnet: Option<Subnet>,
    pub subnet6: Option<Subnet6>,
    pub mtu: Option<u32>,
    pub nat: bool,
    pub default_route: bool,
    pub state_dir: Option<PathBuf>,
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    pub routes: Vec<Route>,
    /// The gateway address on the bridge: `isGateway` (or `isDefaultGateway`).
    pub gateway: bool,
    pub hairpin: bool,
    pub promisc: bool,
    /// `args.cni.ips` and `runtimeConfig.ips`, with the key each came from.
    pub ips: Vec<(&'static str, String)>,
    /// GC's `cni.dev/valid-attachments` (container ID, interface name).
    pub valid_attachments: Option<Vec<CniKey>>,
    /// `runtimeConfig.portMappings`: published with the attachment.
    pub ports: Vec<Port>,
}

/// Parses the configuration from stdin's bytes.
pub fn parse_config(bytes: &[u8]) -> Result<Settings, CniError> {
    let decode = |e: serde_json::Error| {
        CniError::new(
            CODE_DECODE,
            format!("cannot parse the network configuration: {e}"),
        )
        .with_details(e)
    };
    let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(decode)?;
    let conf: NetConf = serde_json::from_value(raw.clone()).map_err(decode)?;
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
    super::unsupported::check(&raw)?;
    let addressing = ipamconf::addressing(conf.subnet.as_deref(), conf.ipam.as_ref())?;
    let default_route = conf.is_default_gateway == Some(true)
        || addressing.default_route
        || conf.is_gateway != Some(false);
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
        subnet: addressing.subnet,
        subnet6: addressing.subnet6,
        mtu: conf.mtu,
        nat: conf.ip_masq.unwrap_or(false),
        default_route,
        state_dir: conf.state_dir,
        ranges: addressing.ranges,
        routes: addressing.routes,
        gateway: conf.is_gateway != Some(false) || conf.is_default_gateway == Some(true),
        hairpin: conf.hairpin_mode.unwrap_or(false),
        promisc: conf.promisc_mode.unwrap_or(false),
        ports: port_mappings(
            conf.runtime_config
                .as_ref()
                .map(|r| r.port_mappings.as_slice())
                .unwrap_or_default(),
        )?,
        ips: conf
            .args
            .and_then(|a| a.cni)
            .map(|c| c.ips)
            .unwrap_or_default()
            .into_iter()
            .map(|ip| ("args.cni.ips", ip))
            .chain(
                conf.runtime_config
                    .map(|r| r.ips)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|ip| ("runtimeConfig.ips", ip)),
            )
            .collect(),
        valid_attachments: conf.valid_attachments.map(|list| {
            list.into_iter()
                .map(|v| CniKey {
                    container_id: v.container_id,
                    ifname: v.ifname,
                })
                .collect()
        }),
    })
}

/// `runtimeConfig.portMappings` as published ports (IPv4 only).
fn port_mappings(list: &[PortMapping]) -> Result<Vec<Port>, CniError> {
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let key = format!("runtimeConfig.portMappings[{i}]");
            let proto = m.protocol.as_deref().unwrap_or("tcp").to_ascii_lowercase();
            let mut port: Port = format!("{}:{}/{proto}", m.host_port, m.container_port)
                .parse()
                .map_err(|e: crate::Error| {
                    CniError::new(CODE_INVALID_CONFIG, format!("{key}: {e}"))
                })?;
            port.host_ip = match m.host_ip.as_deref().filter(|ip| !ip.is_empty()) {
                None | Some("0.0.0.0") => None,
                Some(ip) => Some(crate::ipam::parse_ipv4(ip).ok_or_else(|| {
                    CniError::new(
                        CODE_INVALID_CONFIG,
                        format!("{key}.hostIP {ip}: an IPv4 address of the host is needed"),
                    )
                })?),
            };
            Ok(port)
        })
        .collect()
}

/// The container's side of a command, from the `CNI_*` environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub container_id: String,
    pub ifname: String,
    /// The namespace file; needed by ADD and CHECK, optional for DEL.
    pub netns: Option<String>,
    /// `CNI_ARGS`, as given.
    pub args: Option<String>,
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
            args: env("CNI_ARGS"),
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
        assert!(!off.default_route && !off.gateway);
        let on = parse_config(br#"{"isGateway":false,"isDefaultGateway":true}"#).expect("valid");
        assert!(on.default_route && on.gateway);
        assert!(parse_config(b"{}").expect("valid").gateway);
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
                args: None,
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

#[cfg(test)]
mod properties;
