//! Properties of IPv6 subnets: no text makes the parser panic, a subnet reads back as
//! shown (in any spelling the address parser takes), and the address handed out is a
//! host of the subnet after the gateway.

use proptest::prelude::*;

use super::*;

fn subnet6() -> impl Strategy<Value = Subnet6> {
    (any::<u128>(), 64u8..=120).prop_map(|(ip, prefix)| {
        Subnet6::new(Ipv6Addr::from(ip & mask(prefix)), prefix).expect("host bits are clear")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_text_makes_the_subnet_parser_panic(
        s in any::<String>(),
        c in "[0-9a-fA-F:.]{0,40}(/[0-9+\\-]{0,5})?",
    ) {
        let _ = s.parse::<Subnet6>();
        let _ = c.parse::<Subnet6>();
    }

    #[test]
    fn a_subnet_reads_back_as_shown(net in subnet6()) {
        prop_assert_eq!(net.to_string().parse::<Subnet6>().ok(), Some(net));
        // The full, uncompressed spelling too.
        let full = Ipv6Addr::from(net.network)
            .segments()
            .map(|s| format!("{s:x}"))
            .join(":");
        let full = format!("{full}/{}", net.prefix());
        prop_assert_eq!(full.parse::<Subnet6>().ok(), Some(net));
    }

    #[test]
    fn the_address_handed_out_is_a_host_after_the_gateway(
        net in subnet6(),
        used in proptest::collection::vec(0u128..8, 0..6),
    ) {
        let used: BTreeSet<Ipv6Addr> = used
            .into_iter()
            .map(|u| Ipv6Addr::from(net.network + u))
            .collect();
        let ip = net.first_free(&used);
        prop_assert!(ip.is_some_and(|ip| net.is_assignable(ip) && !used.contains(&ip)));
        prop_assert!(net.contains(net.gateway()) && !net.is_assignable(net.gateway()));
    }
}
