//! Properties of the network configuration: no bytes and no JSON make the parser panic,
//! every refusal carries a CNI code the spec gives for it, and a valid configuration is
//! read as written.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;
use crate::cni::result::CODE_INVALID_CONFIG;

/// The keys netns-bridge reads or refuses, and a few it ignores.
const KEYS: &[&str] = &[
    "cniVersion",
    "name",
    "type",
    "bridge",
    "subnet",
    "ipam",
    "mtu",
    "ipMasq",
    "ipMasqBackend",
    "isGateway",
    "isDefaultGateway",
    "hairpinMode",
    "promiscMode",
    "args",
    "cni",
    "ips",
    "runtimeConfig",
    "portMappings",
    "hostPort",
    "containerPort",
    "protocol",
    "hostIP",
    "cni.dev/valid-attachments",
    "containerID",
    "ifname",
    "stateDir",
    "rangeStart",
    "rangeEnd",
    "gateway",
    "ranges",
    "routes",
    "dst",
    "gw",
    "vlan",
    "dataDir",
    "x",
];

/// Strings of the shapes the values take, and any string.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            &[
                "1.0.0",
                "0.3.1",
                "1.1.0",
                "9.9.9",
                "host-local",
                "dhcp",
                "tcp",
                "UDP",
                "sctp",
                "cni0",
                "br.x",
                "10.88.0.0/16",
                "10.88.0.0/31",
                "10.88.0.1",
                "10.88.255.254",
                "0.0.0.0/0",
                "::/0",
                "fd00::/64",
                "fd00::1",
                "fd00::/130",
                "1.2.3.4/33",
                "",
                "/",
                "nftables",
                "iptables",
            ][..]
        )
        .prop_map(str::to_string),
        any::<String>(),
    ]
}

/// Any JSON, with objects keyed mostly by the configuration's own keys.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![0u64..70_000, any::<u64>()].prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            4 => proptest::sample::select(KEYS).prop_map(str::to_string),
            1 => any::<String>(),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The codes the CNI spec gives for a configuration the plugin cannot use.
fn refusal(code: u32) -> bool {
    [CODE_INCOMPATIBLE_VERSION, CODE_DECODE, CODE_INVALID_CONFIG].contains(&code)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_bytes_make_the_parser_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Err(e) = parse_config(&bytes) {
            prop_assert!(refusal(e.code), "{e:?}");
        }
    }

    #[test]
    fn no_json_makes_the_parser_panic(value in json_value()) {
        let bytes = value.to_string().into_bytes();
        if let Err(e) = parse_config(&bytes) {
            prop_assert!(refusal(e.code), "{e:?}");
        }
    }

    #[test]
    fn a_valid_configuration_is_read_as_written(
        version in proptest::sample::select(&SUPPORTED_VERSIONS[..]),
        bridge in "[a-z][a-z0-9_.\\-]{0,14}",
        net in (any::<u32>(), 8u8..=30),
        mtu in proptest::option::of(68u32..=65535),
        nat in any::<bool>(),
        hairpin in any::<bool>(),
        ports in proptest::collection::vec((1u16.., 1u16.., any::<bool>()), 0..3),
        ips in proptest::collection::vec(any::<u32>().prop_map(Ipv4Addr::from), 0..2),
        state_dir in proptest::option::of("/[a-z]{1,8}"),
    ) {
        let prefix = net.1;
        let subnet = Subnet::new(Ipv4Addr::from(net.0 & (u32::MAX << (32 - prefix))), prefix)
            .expect("host bits are clear");
        let mappings: Vec<Value> = ports
            .iter()
            .map(|&(host, inside, udp)| json!({
                "hostPort": host, "containerPort": inside,
                "protocol": if udp { "udp" } else { "tcp" },
            }))
            .collect();
        let ip_texts: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
        let mut conf = json!({
            "cniVersion": version, "name": "net", "type": "netns-bridge", "bridge": bridge,
            "ipMasq": nat, "hairpinMode": hairpin, "isGateway": true,
            "ipam": {"type": "host-local", "subnet": subnet.to_string()},
            "runtimeConfig": {"portMappings": mappings, "ips": ip_texts},
        });
        if let Some(mtu) = mtu {
            conf["mtu"] = json!(mtu);
        }
        if let Some(dir) = &state_dir {
            conf["stateDir"] = json!(dir);
        }
        let settings = parse_config(conf.to_string().as_bytes());
        prop_assert!(settings.is_ok(), "{:?} from {}", settings, conf);
        let Ok(s) = settings else { return Ok(()) };
        prop_assert_eq!(&s.version, version);
        prop_assert_eq!(&s.bridge, &bridge);
        prop_assert_eq!(s.subnet, Some(subnet));
        prop_assert_eq!(s.mtu, mtu);
        prop_assert_eq!((s.nat, s.hairpin, s.gateway, s.default_route), (nat, hairpin, true, true));
        prop_assert_eq!(s.state_dir, state_dir.map(PathBuf::from));
        prop_assert!(s.ranges.is_empty() && s.routes.is_empty());
        let read: Vec<(u16, u16, bool)> =
            s.ports.iter().map(|p| (p.host_port, p.port, p.proto == crate::ports::Proto::Udp)).collect();
        prop_assert_eq!(read, ports);
        let read_ips: Vec<&str> = s.ips.iter().map(|(_, ip)| ip.as_str()).collect();
        prop_assert_eq!(read_ips, ip_texts.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
