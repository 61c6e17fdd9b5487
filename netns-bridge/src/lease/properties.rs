//! Properties of the state (the bridge's record and leases, as files and as the whole
//! `state.json` of earlier versions): no tampered bytes or JSON make reading or checking it
//! panic, and a state netns-bridge writes reads back the same and passes the check.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::ipam::Subnet;

/// State-shaped JSON: the real keys with values of any type, and odd values.
fn tampered() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        proptest::sample::select(
            &[
                "10.5.0.0/24",
                "10.5.0.0/33",
                "fd00::/64",
                "1:2",
                "x:y",
                "nb0123456789ab",
                "eth0",
                "10.5.0.7",
                "10.6.0.7",
                "",
            ][..]
        )
        .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    let lease = (
        text.clone(),
        text.clone(),
        text.clone(),
        text.clone(),
        text.clone(),
    )
        .prop_map(|(netns, address, host_veth, ifname, mac)| {
            json!({"netns": netns, "target": "/x", "address": address, "host_veth": host_veth,
                   "ifname": ifname, "mac": mac})
        });
    (text.clone(), text, proptest::collection::vec(lease, 0..4)).prop_map(
        |(subnet, subnet6, leases)| {
            json!({"bridge": {"subnet": subnet, "subnet6": subnet6}, "leases": leases})
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_tampered_state_makes_reading_it_panic(
        value in tampered(),
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        for text in [value.to_string().into_bytes(), bytes] {
            if let Ok(state) = serde_json::from_slice::<BridgeState>(&text) {
                let _ = state.check();
                let _ = (state.subnet(), state.subnet6());
            }
        }
    }

    #[test]
    fn a_state_reads_back_the_same_and_passes_the_check(
        net in (any::<u32>(), 8u8..=28),
        hosts in proptest::collection::btree_set(2u32..14, 0..6),
        inos in proptest::collection::btree_set(any::<u64>(), 6),
    ) {
        let (bits, prefix) = net;
        let subnet = Subnet::new(Ipv4Addr::from(bits & (u32::MAX << (32 - prefix))), prefix)
            .expect("host bits are clear");
        let leases = hosts
            .iter()
            .zip(&inos)
            .map(|(&host, &ino)| {
                let netns = NsId { dev: 4, ino };
                Lease {
                    netns: crate::names::id_text(netns),
                    target: format!("/proc/{host}/ns/net"),
                    address: Ipv4Addr::from(u32::from(subnet.network()) + host),
                    address6: None,
                    host_veth: crate::names::host_veth_name("nsbr0", netns),
                    ifname: "eth0".into(),
                    mac: "02:00:00:00:00:01".into(),
                    cni: None,
                    pending: false,
                    ports: Vec::new(),
                }
            })
            .collect();
        let state = BridgeState {
            bridge: Some(BridgeRecord {
                subnet: subnet.to_string(),
                gateway: None,
                subnet6: None,
                nat: false,
                mtu: None,
                created: true,
                gateway_added: false,
                pending: false,
                nat_pending: false,
                pending_by: Vec::new(),
            }),
            leases,
        };
        prop_assert_eq!(state.check(), Ok(()));
        let text = serde_json::to_vec(&state).expect("serialise");
        prop_assert_eq!(serde_json::from_slice::<BridgeState>(&text).ok(), Some(state));
    }
}
