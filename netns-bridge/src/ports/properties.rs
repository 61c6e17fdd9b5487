//! Properties of published ports: no text makes `publish` or `unpublish`'s parsers
//! panic, and a mapping reads back as shown.

use proptest::prelude::*;

use super::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_text_makes_a_port_parser_panic(
        s in any::<String>(),
        p in "[0-9+\\-]{0,7}(:[0-9+\\-]{0,7}){0,2}(/[a-zA-Z]{0,4}){0,2}",
    ) {
        for t in [&s, &p] {
            if let Ok(port) = t.parse::<Port>() {
                prop_assert!(port.port > 0 && port.host_port > 0);
            }
            let _ = crate::publish::parse_host_port(t);
        }
    }

    #[test]
    fn a_mapping_reads_back_as_shown(host in 1u16.., inside in 1u16.., udp in any::<bool>()) {
        let proto = if udp { Proto::Udp } else { Proto::Tcp };
        let port = Port { host_port: host, port: inside, proto, host_ip: None };
        prop_assert_eq!(port.to_string().parse::<Port>().ok(), Some(port));
        let spec = format!("{host}/{proto}");
        prop_assert_eq!(crate::publish::parse_host_port(&spec).ok(), Some((host, proto)));
    }
}
