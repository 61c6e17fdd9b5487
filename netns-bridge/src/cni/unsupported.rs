//! Keys of the reference `bridge` and `host-local` plugins' documented configuration
//! that netns-bridge does not implement. One that asks for something (any value but
//! null, false, 0, "" or an empty list or object) is a configuration error naming it
//! (CNI code 7), never silently dropped. Keys no plugin documents are ignored, as the
//! spec allows.

use serde_json::Value;

use super::result::{CniError, CODE_INVALID_CONFIG};

/// Top-level keys of the `bridge` plugin, and what netns-bridge would need to do them.
const BRIDGE_KEYS: &[(&str, &str)] = &[
    (
        "forceAddress",
        "replacing a bridge address is not supported",
    ),
    ("vlan", "VLANs are not supported"),
    ("vlanTrunk", "VLANs are not supported"),
    ("macspoofchk", "MAC spoof checking is not supported"),
    (
        "disableContainerInterface",
        "the container interface is always brought up",
    ),
    ("portIsolation", "port isolation is not supported"),
    ("enabledad", "IPv6 (and its DAD) is not supported yet"),
];

/// `ipam` keys of `host-local`.
const IPAM_KEYS: &[(&str, &str)] = &[
    ("dataDir", "leases are kept in netns-bridge's stateDir"),
    ("resolvConf", "DNS settings are not returned"),
];

/// Whether a value asks for nothing.
fn unset(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Refuses the first documented key that asks for what netns-bridge does not do.
pub fn check(conf: &Value) -> Result<(), CniError> {
    let refuse = |key: String, why: &str| {
        Err(CniError::new(
            CODE_INVALID_CONFIG,
            format!("{key} is not implemented by netns-bridge: {why}"),
        ))
    };
    for (key, why) in BRIDGE_KEYS {
        if conf.get(key).is_some_and(|v| !unset(v)) {
            return refuse(key.to_string(), why);
        }
    }
    // netns-bridge masquerades with nftables; iptables is not used.
    if let Some(backend) = conf.get("ipMasqBackend").and_then(Value::as_str) {
        if backend != "nftables" {
            return refuse(
                format!("ipMasqBackend {backend}"),
                "it masquerades with nftables",
            );
        }
    }
    if let Some(ipam) = conf.get("ipam") {
        for (key, why) in IPAM_KEYS {
            if ipam.get(key).is_some_and(|v| !unset(v)) {
                return refuse(format!("ipam.{key}"), why);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_str(json: &str) -> Result<(), CniError> {
        check(&serde_json::from_str(json).expect("json"))
    }

    #[test]
    fn keys_that_ask_for_something_are_named() {
        for (json, key) in [
            (r#"{"vlan":100}"#, "vlan"),
            (r#"{"vlanTrunk":[{"id":5}]}"#, "vlanTrunk"),
            (r#"{"macspoofchk":true}"#, "macspoofchk"),
            (r#"{"forceAddress":true}"#, "forceAddress"),
            (r#"{"ipMasqBackend":"iptables"}"#, "ipMasqBackend iptables"),
            (r#"{"ipam":{"dataDir":"/var/lib/x"}}"#, "ipam.dataDir"),
            (r#"{"ipam":{"resolvConf":"/etc/r"}}"#, "ipam.resolvConf"),
        ] {
            let e = check_str(json).expect_err(json);
            assert_eq!(e.code, CODE_INVALID_CONFIG);
            assert!(
                e.msg.starts_with(&format!("{key} is not implemented")),
                "{}",
                e.msg
            );
        }
    }

    #[test]
    fn defaults_and_unknown_keys_pass() {
        for json in [
            r#"{"vlan":0,"forceAddress":false,"macspoofchk":false,"vlanTrunk":[]}"#,
            r#"{"ipMasqBackend":"nftables","preserveDefaultVlan":true}"#,
            r#"{"somethingElse":{"x":1},"ipam":{"type":"host-local","dataDir":""}}"#,
        ] {
            assert!(check_str(json).is_ok(), "{json}");
        }
    }
}
