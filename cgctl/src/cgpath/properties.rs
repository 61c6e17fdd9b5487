//! Properties of cgroup names and limit TARGETs: no text makes the parsers panic, a
//! refusal is a bad name or value (exit 2), and a name or PID reads back as shown.

use proptest::prelude::*;

use super::*;
use crate::error::EXIT_USAGE;

/// Path-like text: components of name characters, dots and reserved words, with
/// slashes between, and the odd control or non-ASCII character.
fn pathish() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        4 => "[a-z0-9_.-]{0,8}",
        1 => proptest::sample::select(&["", ".", "..", "cgroup.procs", "tasks", "memory.max", "é", "a\n", "\t"][..])
            .prop_map(str::to_string),
    ];
    (
        any::<bool>(),
        proptest::collection::vec(part, 0..6),
        any::<bool>(),
    )
        .prop_map(|(absolute, parts, trailing)| {
            let joined = parts.join("/");
            let lead = if absolute { "/" } else { "" };
            let tail = if trailing { "/" } else { "" };
            format!("{lead}{joined}{tail}")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_text_makes_the_name_parser_panic(s in any::<String>(), p in pathish()) {
        for t in [&s, &p] {
            if let Err(e) = Name::parse(t) {
                prop_assert_eq!(e.exit_code(), EXIT_USAGE);
            }
            if let Err(e) = Root::parse(Some(t)) {
                prop_assert_eq!(e.exit_code(), EXIT_USAGE);
            }
            // A limit TARGET: a PID when it is digits, else a cgroup name.
            if let Err(e) = crate::ops::Target::parse(t) {
                prop_assert_eq!(e.exit_code(), EXIT_USAGE);
            }
        }
    }

    #[test]
    fn a_pid_reads_back_as_shown(pid in 1..=i32::MAX, blanks in " {0,2}") {
        let text = format!("{blanks}{pid}{blanks}");
        prop_assert_eq!(crate::procs::parse_pid(&text).ok(), Some(pid));
        let digits = pid.to_string();
        prop_assert!(matches!(crate::ops::Target::parse(&digits), Ok(crate::ops::Target::Pid(p)) if p == pid));
    }

    #[test]
    fn a_name_reads_back_as_shown(p in pathish()) {
        if let Ok(name) = Name::parse(&p) {
            let shown = name.display();
            prop_assert_eq!(Name::parse(&shown).ok(), Some(name));
        }
    }

    #[test]
    fn an_accepted_relative_name_stays_in_its_hierarchy(p in pathish()) {
        if let Ok(Name::Relative(r)) = Name::parse(&p) {
            prop_assert!(!r.starts_with('/') && !r.ends_with('/'), "{r}");
            for part in r.split('/') {
                prop_assert!(!part.is_empty() && part != "." && part != "..", "{r}");
                prop_assert!(reserved(part).is_none(), "{r}");
                prop_assert!(!part.chars().any(char::is_control), "{r:?}");
            }
        }
    }
}
