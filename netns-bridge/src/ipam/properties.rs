//! Properties of IPv4 subnets and `--ip`: no text makes the parsers panic, a subnet reads
//! back as shown, and every address handed out is inside, neither the network, the
//! broadcast nor the gateway address, and reads back as a static address.

use proptest::prelude::*;

use super::*;

/// Text shaped like a CIDR: four numbers (some too large), a prefix, odd extras.
fn cidrish() -> impl Strategy<Value = String> {
    "[0-9]{1,4}(\\.[0-9]{1,4}){0,4}(/[0-9+\\-]{0,4})?[ x]?"
}

/// A subnet the parser takes: a network of /8 to /30, host bits clear.
fn subnet() -> impl Strategy<Value = Subnet> {
    (any::<u32>(), 8u8..=30).prop_map(|(ip, prefix)| {
        Subnet::new(Ipv4Addr::from(ip & mask(prefix)), prefix).expect("host bits are clear")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_text_makes_a_subnet_or_address_parser_panic(
        s in any::<String>(),
        c in cidrish(),
        net in subnet(),
    ) {
        for t in [&s, &c] {
            let _ = t.parse::<Subnet>();
            let _ = parse_ipv4(t);
            let _ = parse_static(t, &net);
        }
    }

    #[test]
    fn a_subnet_reads_back_as_shown(net in subnet()) {
        prop_assert_eq!(net.to_string().parse::<Subnet>().ok(), Some(net));
        prop_assert!(net.capacity() >= 1);
    }

    #[test]
    fn host_bits_or_a_prefix_out_of_range_are_refused(ip in any::<u32>(), prefix in 0u8..=40) {
        let text = format!("{}/{prefix}", Ipv4Addr::from(ip));
        let taken = text.parse::<Subnet>().is_ok();
        prop_assert_eq!(taken, (8..=30).contains(&prefix) && ip & !mask(prefix) == 0, "{}", text);
    }

    #[test]
    fn an_address_handed_out_is_a_host_of_the_subnet(
        net in subnet(),
        used in proptest::collection::btree_set(any::<u32>(), 0..8),
        gateway in any::<u32>(),
    ) {
        let net = match net.with_gateway(Ipv4Addr::from(u32::from(net.network()) | (gateway & !net.mask()))) {
            Ok(g) => g,
            Err(_) => net,
        };
        let used: BTreeSet<Ipv4Addr> = used
            .into_iter()
            .map(|u| Ipv4Addr::from(u32::from(net.network()) | (u & !net.mask())))
            .collect();
        if let Some(ip) = net.first_free(&used) {
            prop_assert!(net.is_assignable(ip) && !used.contains(&ip));
            prop_assert_ne!(ip, net.gateway());
            prop_assert_eq!(parse_static(&ip.to_string(), &net).ok(), Some(ip));
            let with_prefix = format!("{ip}/{}", net.prefix());
            prop_assert_eq!(parse_static(&with_prefix, &net).ok(), Some(ip));
        }
        let (first, last) = net.hosts();
        prop_assert!(net.contains(first) && net.contains(last) && first <= last);
    }
}
