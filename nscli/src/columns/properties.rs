//! Properties of `-o`: no list makes the parser panic, a list of known names reads back
//! as named (in any case, each column once), and `+LIST` keeps the defaults first.

use proptest::prelude::*;

use super::tests::Col;
use super::*;

const DEFAULT: &[Col] = &[Col::Ns, Col::Type];

/// Column names in any case, with blanks, and a few that are none.
fn list() -> impl Strategy<Value = String> {
    "\\+?( ?(ns|NS|Type|pNs|bogus|) ?,){0,4}( ?(ns|TYPE|pns|x)?)"
}

/// Columns named once each, in their first order.
fn once(columns: &[Col]) -> Vec<Col> {
    let mut out: Vec<Col> = Vec::new();
    for c in columns {
        if !out.contains(c) {
            out.push(*c);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_list_makes_the_parser_panic(s in any::<String>(), l in list()) {
        for t in [&s, &l] {
            if let Ok(columns) = parse_list::<Col>(t, DEFAULT) {
                prop_assert_eq!(once(&columns), columns.clone());
                if t.starts_with('+') {
                    prop_assert!(columns.starts_with(DEFAULT));
                }
            }
        }
    }

    #[test]
    fn a_list_reads_back_as_named(
        columns in proptest::collection::vec(proptest::sample::select(Col::ALL), 1..6),
        lower in any::<bool>(),
        plus in any::<bool>(),
    ) {
        let text = names(&columns);
        let text = if lower { text.to_ascii_lowercase() } else { text };
        let expected = if plus {
            once(&[DEFAULT, &columns].concat())
        } else {
            once(&columns)
        };
        let text = if plus { format!("+{text}") } else { text };
        prop_assert_eq!(parse_list::<Col>(&text, DEFAULT), Ok(expected));
    }
}
