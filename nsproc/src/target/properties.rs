//! Properties of TARGET: no bytes make the parser panic under either policy, a PID reads
//! back as shown, and a named namespace never leads outside /run/netns.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use proptest::prelude::*;

use super::*;

/// Words shaped like TARGETs: digits (some too large), names, paths, dots.
fn targetish() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[0-9]{1,12}",
        "self|\\.|\\.\\.|[a-z.\\-]{1,10}|/?([a-z.]{0,4}/){0,3}[a-z0-9]{0,4}|é+|a\\x00b",
    ]
    .prop_map(String::into_bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_bytes_make_the_target_parser_panic(
        bytes in prop_oneof![proptest::collection::vec(any::<u8>(), 0..40), targetish()],
    ) {
        let text = OsStr::from_bytes(&bytes);
        for policy in [Policy::PATHS, Policy::NAMED_NETNS] {
            if let Ok(target) = parse(text, policy) {
                let _ = target.ns_path(Kind::Net);
            }
        }
    }

    #[test]
    fn a_pid_reads_back_as_shown(pid in 1..=i32::MAX) {
        for policy in [Policy::PATHS, Policy::NAMED_NETNS] {
            prop_assert_eq!(parse(OsStr::new(&pid.to_string()), policy), Ok(Target::Pid(pid)));
        }
        prop_assert_eq!(parse_pid(&pid.to_string()), Ok(pid));
    }

    #[test]
    fn a_named_namespace_stays_in_run_netns(bytes in targetish()) {
        if let Ok(Target::Named(name)) = parse(OsStr::from_bytes(&bytes), Policy::NAMED_NETNS) {
            let path = Target::Named(name.clone()).ns_path(Kind::Net);
            prop_assert_eq!(path.parent(), Some(Path::new(NAMED_NETNS_DIR)), "{:?}", name);
            prop_assert_eq!(path.file_name().map(OsStr::as_bytes), Some(name.as_bytes()));
        }
    }
}
