//! CNI plugin mode: with `CNI_COMMAND` set, netns-bridge reads a network configuration
//! on stdin and the container's namespace from the environment, and answers with a CNI
//! result or error on stdout (CNI spec 0.3.0 to 1.0.0).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::attach::{self, Attachment, Request};
use crate::error::Error;
use crate::ipam::Subnet;
use crate::lease::{self, CniKey};
use crate::teardown::{self, Selector};

/// The versions of the CNI spec this plugin speaks.
pub const SUPPORTED_VERSIONS: [&str; 4] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"];
const DEFAULT_BRIDGE: &str = "cni0";

// CNI's well-known error codes.
const CODE_INCOMPATIBLE_VERSION: u32 = 1;
const CODE_INVALID_ENV: u32 = 4;
const CODE_IO: u32 = 5;
const CODE_DECODE: u32 = 6;
const CODE_INVALID_CONFIG: u32 = 7;
/// Plugin-specific: no address left, or the static one is taken.
const CODE_NO_ADDRESS: u32 = 100;
/// Plugin-specific: CHECK found the attachment missing or changed.
const CODE_CHECK_FAILED: u32 = 101;

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

/// A failure as CNI reports it.
#[derive(Debug)]
pub struct CniError {
    pub code: u32,
    pub msg: String,
    pub details: String,
}

impl CniError {
    fn new(code: u32, msg: impl Into<String>) -> Self {
        CniError {
            code,
            msg: msg.into(),
            details: String::new(),
        }
    }

    fn from_error(e: &Error) -> Self {
        let code = match e {
            Error::Invalid(_) => CODE_INVALID_CONFIG,
            Error::NoAddress(_) => CODE_NO_ADDRESS,
            Error::File { .. } | Error::State { .. } => CODE_IO,
            _ => CODE_IO,
        };
        CniError {
            code,
            msg: e.to_string(),
            details: String::new(),
        }
    }
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

/// The ADD result in the shape of the reference bridge plugin's.
pub fn add_result(version: &str, a: &Attachment) -> Value {
    let mut ip = json!({
        "interface": 2,
        "address": a.address,
        "gateway": a.gateway.to_string(),
    });
    if version != "1.0.0" {
        ip["version"] = json!("4");
    }
    let mut result = json!({
        "cniVersion": version,
        "interfaces": [
            {"name": a.bridge, "mac": a.bridge_mac},
            {"name": a.host_veth, "mac": a.host_veth_mac},
            {"name": a.interface, "mac": a.mac, "sandbox": a.netns_path},
        ],
        "ips": [ip],
        "dns": {},
    });
    // Like the reference plugin: no "routes" key when there are none.
    if a.default_route {
        result["routes"] = json!([{"dst": "0.0.0.0/0", "gw": a.gateway.to_string()}]);
    }
    result
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn need(name: &str) -> Result<String, CniError> {
    env(name).ok_or_else(|| CniError::new(CODE_INVALID_ENV, format!("{name} is not set")))
}

/// Runs one CNI command; returns what goes to stdout (if anything).
fn dispatch(command: &str, stdin: &[u8]) -> Result<Option<Value>, (String, CniError)> {
    let fallback = "1.0.0".to_string();
    if command == "VERSION" {
        return Ok(Some(json!({
            "cniVersion": "1.0.0",
            "supportedVersions": SUPPORTED_VERSIONS,
        })));
    }
    let settings = parse_config(stdin).map_err(|e| (fallback.clone(), e))?;
    let version = settings.version.clone();
    let fail = |e: CniError| (version.clone(), e);
    let root = lease::state_root(settings.state_dir.clone());
    let container_id = need("CNI_CONTAINERID").map_err(fail)?;
    let ifname = need("CNI_IFNAME").map_err(fail)?;
    crate::names::check_ifname(&ifname, "CNI_IFNAME")
        .map_err(|e| fail(CniError::new(CODE_INVALID_ENV, e.to_string())))?;
    match command {
        "ADD" => {
            let netns = need("CNI_NETNS").map_err(fail)?;
            let request = Request {
                target: netns,
                bridge: settings.bridge.clone(),
                subnet: settings.subnet,
                ip: None,
                ifname: ifname.clone(),
                mtu: settings.mtu,
                default_route: settings.default_route,
                nat: settings.nat,
                state_root: root,
                cni: Some(CniKey {
                    container_id,
                    ifname,
                }),
            };
            let a = attach::attach(&request).map_err(|e| fail(CniError::from_error(&e)))?;
            Ok(Some(add_result(&version, &a)))
        }
        "DEL" => {
            let mut selectors = vec![Selector::Cni {
                container_id,
                ifname,
            }];
            // The namespace may be gone already (or never given): that is fine.
            if let Some(netns) = env("CNI_NETNS") {
                if let Ok(Some(ns)) = crate::netns::open(&netns) {
                    selectors.push(Selector::Netns(ns.id));
                }
            }
            teardown::detach(&root, &settings.bridge, &selectors)
                .map_err(|e| fail(CniError::from_error(&e)))?;
            Ok(None)
        }
        "CHECK" => {
            let netns = need("CNI_NETNS").map_err(fail)?;
            check(&root, &settings, &netns, &container_id, &ifname).map_err(fail)?;
            Ok(None)
        }
        other => Err(fail(CniError::new(
            CODE_INVALID_ENV,
            format!("unknown CNI_COMMAND {other}"),
        ))),
    }
}

/// CHECK: the lease is there, its host veth is up on the bridge, and the interface in
/// the namespace carries the leased address.
fn check(
    root: &std::path::Path,
    settings: &Settings,
    netns: &str,
    container_id: &str,
    ifname: &str,
) -> Result<(), CniError> {
    let failed = |msg: String| CniError::new(CODE_CHECK_FAILED, msg);
    let entries = teardown::list(root, std::slice::from_ref(&settings.bridge))
        .map_err(|e| CniError::from_error(&e))?;
    let ns = crate::netns::open(netns)
        .map_err(|e| CniError::from_error(&e))?
        .ok_or_else(|| failed(format!("namespace {netns} does not exist")))?;
    let entry = entries
        .iter()
        .find(|e| e.netns == ns.id.to_string() && e.interface == ifname)
        .ok_or_else(|| {
            failed(format!(
                "container {container_id} has no attachment on {}",
                settings.bridge
            ))
        })?;
    if !entry.alive {
        return Err(failed(format!("host veth {} is missing", entry.host_veth)));
    }
    let mut inside =
        crate::netlink::Socket::open_in(ns.fd()).map_err(|e| CniError::from_error(&e))?;
    let link = crate::route::link_by_name(&mut inside, ifname)
        .map_err(|e| CniError::from_error(&e))?
        .ok_or_else(|| failed(format!("{ifname} is missing in {netns}")))?;
    let addresses =
        crate::route::addresses(&mut inside, link.index).map_err(|e| CniError::from_error(&e))?;
    let want = entry.address.clone();
    if !addresses.iter().any(|(ip, p)| format!("{ip}/{p}") == want) {
        return Err(failed(format!("{ifname} in {netns} does not have {want}")));
    }
    Ok(())
}

/// Runs the plugin: reads stdin, dispatches on CNI_COMMAND, writes the answer. Returns the
/// exit status.
pub fn run() -> i32 {
    let command = env("CNI_COMMAND").unwrap_or_default();
    let mut stdin = Vec::new();
    if command != "VERSION" {
        if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
            return emit_error(
                "1.0.0",
                &CniError::new(CODE_IO, format!("cannot read stdin: {e}")),
            );
        }
    }
    match dispatch(&command, &stdin) {
        Ok(Some(value)) => {
            println!("{value}");
            0
        }
        Ok(None) => 0,
        Err((version, e)) => emit_error(&version, &e),
    }
}

fn emit_error(version: &str, e: &CniError) -> i32 {
    let mut out = BTreeMap::new();
    out.insert("cniVersion", json!(version));
    out.insert("code", json!(e.code));
    out.insert("msg", json!(e.msg));
    if !e.details.is_empty() {
        out.insert("details", json!(e.details));
    }
    println!("{}", json!(out));
    eprintln!("netns-bridge: {}", e.msg);
    1
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
}
