//! Properties of nsinspect's `-o` columns: every column reads back by its name in any
//! case (no two share a name), and no list makes the parser panic.

use nscli::columns::{names, parse_list, Column};
use proptest::prelude::*;

use super::*;

fn reads_back<C: Column + std::fmt::Debug>(columns: &[C], defaults: &[C], lower: bool) -> bool {
    let text = names(columns);
    let text = if lower {
        text.to_ascii_lowercase()
    } else {
        text
    };
    let mut once: Vec<C> = Vec::new();
    for c in columns {
        if !once.contains(c) {
            once.push(*c);
        }
    }
    parse_list(&text, defaults).ok() == Some(once)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_column_list_reads_back_as_named(
        list in proptest::collection::vec(proptest::sample::select(ListColumn::ALL), 1..8),
        show in proptest::collection::vec(proptest::sample::select(ShowColumn::ALL), 1..8),
        lower in any::<bool>(),
    ) {
        prop_assert!(reads_back(&list, ListColumn::DEFAULT, lower));
        prop_assert!(reads_back(&show, ShowColumn::DEFAULT, lower));
    }

    #[test]
    fn no_list_makes_the_parser_panic(s in any::<String>(), l in "\\+?([a-zA-Z]{0,7},?){0,4}") {
        for t in [&s, &l] {
            let _ = parse_list(t, ListColumn::DEFAULT);
            let _ = parse_list(t, ShowColumn::DEFAULT);
        }
    }
}
