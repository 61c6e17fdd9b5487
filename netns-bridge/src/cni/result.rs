//! What the plugin answers on stdout: the ADD result in the shape of the reference
//! `bridge` plugin's, the VERSION result, and CNI's error object with its codes.

use serde::Serialize;

use crate::attach::Attachment;
use nscli::errno::io_text;

use crate::error::Error;

// CNI's well-known error codes.
pub const CODE_INCOMPATIBLE_VERSION: u32 = 1;
pub const CODE_INVALID_ENV: u32 = 4;
pub const CODE_IO: u32 = 5;
pub const CODE_DECODE: u32 = 6;
pub const CODE_INVALID_CONFIG: u32 = 7;
/// CNI 1.1 STATUS: the plugin cannot serve ADD now.
pub const CODE_NOT_AVAILABLE: u32 = 50;
/// Plugin-specific: no address left, or the static one is taken.
pub const CODE_NO_ADDRESS: u32 = 100;
/// Plugin-specific: CHECK found the attachment missing or changed.
pub const CODE_CHECK_FAILED: u32 = 101;

/// A failure as CNI reports it: `msg` says what failed, `details` (when there is one)
/// the underlying cause: the kernel's errno text, nft's message, the JSON parser's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniError {
    pub code: u32,
    pub msg: String,
    pub details: Option<String>,
}

impl CniError {
    pub fn new(code: u32, msg: impl Into<String>) -> Self {
        CniError {
            code,
            msg: msg.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: impl ToString) -> Self {
        self.details = Some(details.to_string());
        self
    }

    /// An operation's error, with the code CNI expects for its kind.
    pub fn from_error(e: &Error) -> Self {
        let code = match e {
            Error::Invalid(_) => CODE_INVALID_CONFIG,
            Error::NoAddress(_) => CODE_NO_ADDRESS,
            _ => CODE_IO,
        };
        CniError {
            code,
            msg: e.to_string(),
            details: cause(e),
        }
    }
}

/// The cause inside an error, when it carries one apart from its message.
fn cause(e: &Error) -> Option<String> {
    match e {
        Error::Netlink { source, .. } | Error::Sys { source, .. } => Some(source.desc().into()),
        Error::File { source, .. } => Some(io_text(source).to_string()),
        Error::Protocol { why, .. } | Error::State { why, .. } | Error::Nft { why, .. } => {
            Some(why.clone())
        }
        Error::Many(errors) => {
            let causes: Vec<String> = errors.iter().filter_map(cause).collect();
            (!causes.is_empty()).then(|| causes.join("; "))
        }
        Error::Process(e) => e.errno().map(|errno| errno.desc().into()),
        Error::Output(e) | Error::Undelivered(e) => Some(e.to_string()),
        Error::Invalid(_) | Error::NoAddress(_) | Error::Vanished(_) | Error::Busy(_) => None,
    }
}

/// The error object on stdout.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResult<'a> {
    pub cni_version: &'a str,
    pub code: u32,
    pub msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<&'a str>,
}

impl<'a> ErrorResult<'a> {
    pub fn new(version: &'a str, e: &'a CniError) -> Self {
        ErrorResult {
            cni_version: version,
            code: e.code,
            msg: &e.msg,
            details: e.details.as_deref(),
        }
    }

    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// The answer to VERSION.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionResult {
    pub cni_version: &'static str,
    pub supported_versions: &'static [&'static str],
}

/// The answer to ADD.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddResult {
    pub cni_version: String,
    pub interfaces: Vec<Interface>,
    pub ips: Vec<IpConfig>,
    /// Like the reference plugin: no "routes" key when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<Route>>,
    pub dns: Dns,
}

#[derive(Debug, Serialize)]
pub struct Interface {
    pub name: String,
    pub mac: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct IpConfig {
    /// "4", for the spec versions before 1.0.0 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
    /// The index into `interfaces` (the container's interface).
    pub interface: usize,
    pub address: String,
    pub gateway: String,
}

#[derive(Debug, Serialize)]
pub struct Route {
    pub dst: String,
    pub gw: String,
}

/// No DNS settings: an empty object.
#[derive(Debug, Serialize)]
pub struct Dns {}

impl AddResult {
    /// The result of an attach: the bridge, the host veth and the container's interface.
    pub fn new(version: &str, a: &Attachment) -> Self {
        let gateway = a.gateway.to_string();
        AddResult {
            cni_version: version.to_string(),
            interfaces: vec![
                Interface {
                    name: a.bridge.clone(),
                    mac: a.bridge_mac.clone(),
                    sandbox: None,
                },
                Interface {
                    name: a.host_veth.clone(),
                    mac: a.host_veth_mac.clone(),
                    sandbox: None,
                },
                Interface {
                    name: a.interface.clone(),
                    mac: a.mac.clone(),
                    sandbox: Some(a.netns_path.clone()),
                },
            ],
            ips: std::iter::once(IpConfig {
                version: version.starts_with("0.").then_some("4"),
                interface: 2,
                address: a.address.clone(),
                gateway: gateway.clone(),
            })
            .chain(
                a.address6
                    .iter()
                    .zip(a.gateway6)
                    .map(|(address, gw)| IpConfig {
                        version: version.starts_with("0.").then_some("6"),
                        interface: 2,
                        address: address.clone(),
                        gateway: gw.to_string(),
                    }),
            )
            .collect(),
            routes: {
                let default = a.default_route.then(|| Route {
                    dst: "0.0.0.0/0".into(),
                    gw: gateway.clone(),
                });
                let default6 = a.gateway6.filter(|_| a.default_route).map(|gw| Route {
                    dst: "::/0".into(),
                    gw: gw.to_string(),
                });
                let others = a.routes.iter().map(|r| Route {
                    dst: format!("{}/{}", r.dst, r.prefix),
                    gw: r.gateway.unwrap_or(a.gateway).to_string(),
                });
                let all: Vec<Route> = default.into_iter().chain(default6).chain(others).collect();
                (!all.is_empty()).then_some(all)
            },
            dns: Dns {},
        }
    }
}

/// Serializes a result; these types hold only strings and numbers, so it cannot fail
/// (and would print an empty object if it did).
pub fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use nix::errno::Errno;
    use serde_json::{json, Value};

    use super::*;

    fn attachment(default_route: bool) -> Attachment {
        Attachment {
            bridge: "cni0".into(),
            bridge_mac: "02:00:00:00:00:01".into(),
            host_veth: "nb0123".into(),
            host_veth_mac: "02:00:00:00:00:02".into(),
            interface: "eth0".into(),
            mac: "02:00:00:00:00:03".into(),
            address: "10.1.0.2/24".into(),
            gateway: Ipv4Addr::new(10, 1, 0, 1),
            address6: None,
            gateway6: None,
            netns: nsproc::NsId { dev: 4, ino: 1 },
            netns_path: "/run/netns/x".into(),
            default_route,
            routes: Vec::new(),
        }
    }

    fn parsed(value: &impl Serialize) -> Value {
        serde_json::from_str(&to_json(value)).expect("valid JSON")
    }

    #[test]
    fn add_result_has_the_reference_shape() {
        let r = parsed(&AddResult::new("1.0.0", &attachment(true)));
        assert_eq!(
            r,
            json!({
                "cniVersion": "1.0.0",
                "interfaces": [
                    {"name": "cni0", "mac": "02:00:00:00:00:01"},
                    {"name": "nb0123", "mac": "02:00:00:00:00:02"},
                    {"name": "eth0", "mac": "02:00:00:00:00:03", "sandbox": "/run/netns/x"},
                ],
                "ips": [{"interface": 2, "address": "10.1.0.2/24", "gateway": "10.1.0.1"}],
                "routes": [{"dst": "0.0.0.0/0", "gw": "10.1.0.1"}],
                "dns": {},
            })
        );
    }

    #[test]
    fn old_versions_carry_the_ip_version_and_no_route_means_no_key() {
        let r = parsed(&AddResult::new("0.4.0", &attachment(false)));
        assert_eq!(r["ips"][0]["version"], "4");
        assert!(r.get("routes").is_none());
        // 1.1.0 is shaped as 1.0.0; extra routes follow the default one.
        let mut a = attachment(true);
        a.routes.push(crate::attach::Route {
            dst: Ipv4Addr::new(192, 168, 0, 0),
            prefix: 16,
            gateway: None,
        });
        let r = parsed(&AddResult::new("1.1.0", &a));
        assert!(r["ips"][0].get("version").is_none());
        assert_eq!(
            r["routes"],
            json!([{"dst": "0.0.0.0/0", "gw": "10.1.0.1"},
                   {"dst": "192.168.0.0/16", "gw": "10.1.0.1"}])
        );
    }

    #[test]
    fn errors_carry_their_cause_in_details() {
        let e = Error::Netlink {
            what: "cannot create veth pair a/b".into(),
            source: Errno::EEXIST,
        };
        let cni = CniError::from_error(&e);
        assert_eq!(cni.code, CODE_IO);
        assert_eq!(cni.msg, "cannot create veth pair a/b: File exists");
        assert_eq!(cni.details.as_deref(), Some("File exists"));
        let r = parsed(&ErrorResult::new("0.4.0", &cni));
        assert_eq!(
            r,
            json!({"cniVersion": "0.4.0", "code": 5,
                   "msg": "cannot create veth pair a/b: File exists", "details": "File exists"})
        );
        let none = CniError::from_error(&Error::NoAddress("full".into()));
        assert_eq!(none.code, CODE_NO_ADDRESS);
        assert!(parsed(&ErrorResult::new("1.0.0", &none))
            .get("details")
            .is_none());
    }
}
