//! Properties of nsrun's command line: no value of any option makes the parser panic,
//! and signals, capabilities and tmpfs sizes read back as written.

use proptest::prelude::*;

use super::*;
use crate::caps::{CapSet, NAMES};
use crate::fsplan::parse_size;
use crate::signals;

/// The options that take a value, in the form each takes it.
const VALUE_OPTIONS: &[&str] = &[
    "--map-users",
    "--map-groups",
    "--map-user",
    "--map-group",
    "--monotonic",
    "--boottime",
    "--cap-drop",
    "--cap-add",
    "--join",
    "--size",
    "--setgroups",
    "--propagation",
    "--hostname",
    "--kill-child=",
    "--uts=",
    "--mount-proc=",
];

fn argv(option: &str, value: &str) -> Vec<OsString> {
    let mut args = vec![OsString::from("nsrun")];
    match option.strip_suffix('=') {
        Some(flag) => args.push(format!("{flag}={value}").into()),
        None => args.extend([option.into(), value.into()]),
    }
    if option == "--size" {
        args.extend(["--tmpfs".into(), "/t".into()]);
    }
    args.push("true".into());
    args
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_value_makes_the_command_line_panic(
        option in proptest::sample::select(VALUE_OPTIONS),
        value in prop_oneof![
            any::<String>(),
            "[ +\\-]?[0-9]{0,25}[kmgKMG:,]?[0-9]{0,12}",
            "(cap_)?[a-z_]{1,16}(,[A-Z_]{1,12}){0,3}",
        ],
    ) {
        let args = argv(option, &value);
        let _ = Cli::parse_simple(&args);
        if let Ok(cli) = Cli::try_parse_from(&args) {
            let _ = cli.into_config();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_text_makes_a_value_parser_panic(s in any::<String>()) {
        let _ = signals::parse(&s);
        let _ = CapSet::parse(&s);
        let _ = parse_size(&s);
        let _ = s.parse::<crate::join::JoinSpec>();
    }

    #[test]
    fn a_signal_reads_back_by_name_and_number(
        signal in proptest::sample::select(nix::sys::signal::Signal::iterator().collect::<Vec<_>>()),
        lower in any::<bool>(),
    ) {
        let name = signal.as_str();
        let short = name.strip_prefix("SIG").unwrap_or(name);
        let short = if lower { short.to_ascii_lowercase() } else { short.to_string() };
        prop_assert_eq!(signals::parse(name), Ok(signal));
        prop_assert_eq!(signals::parse(&short), Ok(signal));
        prop_assert_eq!(signals::parse(&(signal as i32).to_string()), Ok(signal));
    }

    #[test]
    fn a_capability_list_reads_back_as_named(bits in any::<u64>(), prefixed in any::<bool>()) {
        let set = bits & ((1u64 << NAMES.len()) - 1);
        let list: Vec<String> = (0..NAMES.len() as u32)
            .filter(|cap| set & (1 << cap) != 0)
            .map(|cap| {
                let name = CapSet::name(cap);
                if prefixed { name } else { name.trim_start_matches("CAP_").to_ascii_lowercase() }
            })
            .collect();
        prop_assert_eq!(CapSet::parse(&list.join(",")), Ok(CapSet(set)));
    }

    #[test]
    fn a_tmpfs_size_is_that_many_bytes(n in 1u64..=u64::MAX, unit in 0usize..4) {
        let (suffix, shift) = [("", 0), ("k", 10), ("M", 20), ("g", 30)][unit];
        let bytes = u128::from(n) << shift;
        match parse_size(&format!("{n}{suffix}")) {
            Ok(b) => prop_assert_eq!(u128::from(b), bytes),
            Err(_) => prop_assert!(bytes > u128::from(u64::MAX)),
        }
    }
}
