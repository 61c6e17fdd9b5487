//! Properties of the `ipam` block and the static addresses: no values make them panic,
//! a refusal is a configuration error, and what is read stays inside the subnet.

use proptest::prelude::*;

use super::*;

/// Address-like text: IPv4 and IPv6 addresses and CIDRs, good and bad.
fn addressish() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        "10\\.7\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,2})?",
        "fd00:[0-9a-f]{0,4}::[0-9a-f]{0,4}(/[0-9]{1,3})?",
        proptest::sample::select(&["0.0.0.0/0", "::/0", "10.7.0.0/24", "10.7.0.0/31", ""][..])
            .prop_map(str::to_string),
        any::<String>(),
    ])
}

fn range() -> impl Strategy<Value = Range> {
    (addressish(), addressish(), addressish(), addressish()).prop_map(|(s, a, b, g)| Range {
        subnet: s,
        range_start: a,
        range_end: b,
        gateway: g,
    })
}

fn ipam() -> impl Strategy<Value = Ipam> {
    (
        proptest::option::of(prop_oneof![Just("host-local".to_string()), any::<String>()]),
        (addressish(), addressish(), addressish(), addressish()),
        proptest::option::of(proptest::collection::vec(
            proptest::collection::vec(range(), 0..3),
            0..3,
        )),
        proptest::option::of(proptest::collection::vec(
            (addressish(), addressish()).prop_map(|(dst, gw)| RouteConf { dst, gw }),
            0..3,
        )),
    )
        .prop_map(
            |(kind, (subnet, start, end, gateway), ranges, routes)| Ipam {
                kind,
                subnet,
                range_start: start,
                range_end: end,
                gateway,
                ranges,
                routes,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_ipam_block_makes_addressing_panic(top in addressish(), ipam in proptest::option::of(ipam())) {
        match addressing(top.as_deref(), ipam.as_ref()) {
            Err(e) => prop_assert_eq!(e.code, CODE_INVALID_CONFIG),
            Ok(a) => {
                for &(first, last) in &a.ranges {
                    let subnet = a.subnet.expect("ranges come with a subnet");
                    prop_assert!(first <= last);
                    prop_assert!(subnet.is_assignable(first) && subnet.is_assignable(last));
                }
            }
        }
    }

    #[test]
    fn no_list_makes_the_static_addresses_panic(
        lists in proptest::collection::vec(addressish().prop_map(Option::unwrap_or_default), 0..4),
        args in any::<String>(),
    ) {
        let sources = lists.iter().map(|l| ("args.cni.ips", l.as_str()));
        if let Err(e) = static_ips(sources) {
            prop_assert_eq!(e.code, CODE_INVALID_CONFIG);
        }
        let _ = cni_args_ip(&args);
    }

    #[test]
    fn one_address_of_each_family_is_read_as_given(
        v4 in any::<u32>().prop_map(Ipv4Addr::from),
        v6 in any::<u128>().prop_map(std::net::Ipv6Addr::from),
        prefix in 0u8..=32,
    ) {
        let list = format!("{v4}/{prefix}, {v6}");
        let alone = v4.to_string();
        let got = static_ips([("runtimeConfig.ips", list.as_str()), ("IP", alone.as_str())]);
        prop_assert_eq!(got.ok(), Some(Static { v4: Some(v4), v6: Some(v6) }));
        let args = format!("K=V;IP={v4};X=1");
        prop_assert_eq!(cni_args_ip(&args), Some(alone.as_str()));
    }
}
