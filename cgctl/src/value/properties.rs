//! Properties of the value parsers: no input makes them panic, every refusal is a usage
//! error (exit 2), and a value written the way cgctl shows it reads back the same.

use proptest::prelude::*;

use super::*;
use crate::error::EXIT_USAGE;

const PHYS: u64 = 8 << 30;

/// Text shaped like a value, to reach past the first check: digits, dots, signs,
/// blanks, units, `%`, and the odd non-ASCII letter.
fn valueish() -> impl Strategy<Value = String> {
    "[ +\\-]?[0-9.]{0,40}[ ]?[kKmMgGtTpPeEbBiI%xµ€]{0,4}[ ]?"
}

fn usage_or_ok<T>(r: Result<T>) -> bool {
    r.err().is_none_or(|e| e.exit_code() == EXIT_USAGE)
}

/// `n` with a unit of `shift` bits, in one of the spellings cgctl takes.
fn with_unit(n: u64, shift: u32, spelling: usize) -> String {
    let letter = ["", "K", "M", "G", "T", "P", "E"][(shift / 10) as usize];
    let suffix = match (letter, spelling % 4) {
        ("", 0) => String::new(),
        ("", _) => "B".to_string(),
        (l, 0) => l.to_string(),
        (l, 1) => l.to_ascii_lowercase(),
        (l, 2) => format!("{l}iB"),
        (l, _) => format!(" {l}b"),
    };
    format!("{n}{suffix}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_text_makes_a_parser_panic(s in any::<String>(), v in valueish(), period in any::<u64>()) {
        for t in [&s, &v] {
            prop_assert!(usage_or_ok(parse_size(t, PHYS)));
            prop_assert!(usage_or_ok(parse_size(t, u64::MAX)));
            prop_assert!(usage_or_ok(parse_count(t)));
            prop_assert!(usage_or_ok(parse_weight(t)));
            prop_assert!(usage_or_ok(parse_cpus(t, period)));
            prop_assert!(usage_or_ok(parse_cpus(t, DEFAULT_PERIOD_US)));
            prop_assert!(usage_or_ok(parse_list(t, "CPU list")));
            let _ = parse_kernel_limit(t);
        }
    }

    #[test]
    fn a_size_reads_back_as_shown(bytes in 0..=MAX_BYTES) {
        let shown = OrMax::Value(bytes).to_string();
        prop_assert_eq!(parse_size(&shown, PHYS).ok(), Some(OrMax::Value(bytes)));
        prop_assert_eq!(parse_size("max", PHYS).ok(), Some(OrMax::Max));
    }

    #[test]
    fn a_size_with_a_unit_is_that_many_bytes(
        shift in (0u32..=6).prop_map(|u| u * 10),
        n in any::<u64>(),
        spelling in 0usize..4,
    ) {
        let text = with_unit(n, shift, spelling);
        let bytes = u128::from(n) << shift;
        match parse_size(&text, PHYS) {
            Ok(v) => prop_assert_eq!(v, OrMax::Value(bytes as u64)),
            Err(e) => {
                prop_assert!(bytes > u128::from(MAX_BYTES), "{text}: {e}");
                prop_assert!(e.to_string().contains("too large"), "{text}: {e}");
            }
        }
    }

    #[test]
    fn a_percentage_is_at_most_all_memory(
        tenths in 1u32..=1000,
        physical in any::<u64>(),
    ) {
        let text = format!("{}.{}%", tenths / 10, tenths % 10);
        match parse_size(&text, physical) {
            Ok(OrMax::Value(b)) => prop_assert!(b <= physical, "{text} of {physical} is {b}"),
            other => prop_assert!(false, "{text} of {physical}: {other:?}"),
        }
    }

    #[test]
    fn a_count_or_weight_reads_back_as_shown(n in 0..=MAX_BYTES, w in 1u64..=10000) {
        prop_assert_eq!(parse_count(&n.to_string()).ok(), Some(OrMax::Value(n)));
        prop_assert_eq!(parse_weight(&w.to_string()).ok(), Some(w));
    }

    #[test]
    fn cpus_in_thousandths_are_the_quota_they_say(
        millis in 1u64..=100_000_000,
        period in PERIOD_RANGE,
    ) {
        let text = format!("{}.{:03}", millis / 1000, millis % 1000);
        let quota = (u128::from(millis) * u128::from(period) + 500) / 1000;
        match parse_cpus(&text, period) {
            Ok(q) => {
                prop_assert_eq!(q.period_us, period);
                prop_assert_eq!(q.quota_us, OrMax::Value(quota as u64));
            }
            Err(e) => prop_assert!(quota < u128::from(MIN_QUOTA_US), "{text}/{period}: {e}"),
        }
    }

    #[test]
    fn a_cpu_list_reads_back_as_the_kernel_writes_it(
        ranges in proptest::collection::vec((any::<u32>(), 0u32..64), 1..12),
    ) {
        let ranges: Vec<(u32, u32)> =
            ranges.into_iter().map(|(a, len)| (a, a.saturating_add(len))).collect();
        let parsed = parse_list(&format_list(&ranges), "CPU list");
        prop_assert!(parsed.is_ok(), "{:?}", parsed);
        let parsed = parsed.unwrap_or_default();
        // Merged and sorted: the same members, each range apart from the next.
        prop_assert!(parsed.windows(2).all(|w| w[0].1.saturating_add(1) < w[1].0));
        let member = |x: u32, of: &[(u32, u32)]| of.iter().any(|&(a, b)| a <= x && x <= b);
        prop_assert!(list_within(&ranges, &parsed));
        prop_assert!(parsed.iter().all(|&(a, b)| member(a, &ranges) && member(b, &ranges)));
        // The canonical form is stable.
        prop_assert_eq!(parse_list(&format_list(&parsed), "CPU list").ok(), Some(parsed));
    }
}
