//! Properties of names and tags: no text makes the name check or the tag readers panic,
//! an accepted interface name is one the kernel takes, and the names and tags
//! netns-bridge writes are accepted and read back.

use proptest::prelude::*;

use super::*;

/// A name netns-bridge takes: 1 to 15 bytes of letters, digits, '-', '_' and '.'.
fn ifname() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.\\-]{1,15}".prop_filter("not . or ..", |n| n != "." && n != "..")
}

fn ns_id() -> impl Strategy<Value = NsId> {
    (any::<u64>(), any::<u64>()).prop_map(|(dev, ino)| NsId { dev, ino })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_text_makes_a_name_check_or_tag_reader_panic(s in any::<String>()) {
        if check_ifname(&s, "bridge name").is_ok() {
            prop_assert!((1..=IFNAME_MAX).contains(&s.len()), "{:?}", s);
            prop_assert!(!s.contains(['/', ' ', ':', '\0']), "{:?}", s);
            prop_assert!(s != "." && s != "..");
        }
        let _ = parse_id(&s);
        let _ = parse_veth_tag(&s);
    }

    #[test]
    fn a_name_of_the_allowed_characters_is_taken(name in ifname()) {
        prop_assert!(check_ifname(&name, "bridge name").is_ok());
        let long = format!("{name}{}", "x".repeat(IFNAME_MAX + 1 - name.len()));
        prop_assert!(check_ifname(&long, "bridge name").is_err());
    }

    #[test]
    fn the_host_veths_name_and_tag_read_back(bridge in ifname(), netns in ns_id()) {
        let veth = host_veth_name(&bridge, netns);
        prop_assert!(check_ifname(&veth, "host veth").is_ok(), "{}", veth);
        prop_assert_eq!(parse_id(&id_text(netns)), Some(netns));
        prop_assert_eq!(parse_veth_tag(&veth_tag(&bridge, netns)), Some((bridge.clone(), netns)));
        prop_assert_eq!(parse_veth_tag(&bridge_tag(&bridge)), None);
    }
}
