//! Properties of `cgctl limit`'s RESOURCE and VALUE: no text makes them panic, a refusal
//! is a usage error (exit 2), names read back as shown, and the v1 weight mappings stay
//! in the kernel's ranges for any number.

use proptest::prelude::*;

use super::*;
use crate::error::EXIT_USAGE;

const ALL: [Resource; 9] = [
    Resource::Mem,
    Resource::MemHigh,
    Resource::Swap,
    Resource::Cpu,
    Resource::CpuWeight,
    Resource::Cpuset,
    Resource::Mems,
    Resource::Pids,
    Resource::IoWeight,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_value_makes_a_limit_panic(
        res in proptest::sample::select(&ALL[..]),
        s in any::<String>(),
        v in "[ +\\-]?[0-9.,\\-]{0,30}[kKmMgG%]?|max|MAX|infinity|-1",
        period in any::<u64>(),
        physical in any::<u64>(),
    ) {
        for t in [&s, &v] {
            if let Err(e) = Limit::parse(res, t, period, physical) {
                prop_assert_eq!(e.exit_code(), EXIT_USAGE);
            }
            if let Ok(limit) = Limit::parse(res, t, period, physical) {
                prop_assert_eq!(limit.resource(), res);
            }
        }
    }

    #[test]
    fn no_text_makes_the_resource_parser_panic(s in any::<String>()) {
        if let Err(e) = s.parse::<Resource>() {
            prop_assert_eq!(e.exit_code(), EXIT_USAGE);
        }
    }

    #[test]
    fn a_resource_reads_back_as_shown(res in proptest::sample::select(&ALL[..]), upper in any::<bool>()) {
        let shown = res.to_string();
        let shown = if upper { shown.to_ascii_uppercase() } else { shown };
        prop_assert_eq!(shown.parse::<Resource>().ok(), Some(res));
    }

    #[test]
    fn the_v1_weight_mappings_stay_in_the_kernels_ranges(n in any::<u64>()) {
        prop_assert!((2..=262_144).contains(&weight_to_shares(n)));
        prop_assert!((1..=10_000).contains(&shares_to_weight(n)));
        prop_assert!((10..=1000).contains(&weight_to_blkio(n)));
        prop_assert!((1..=1000).contains(&weight_to_bfq(n)));
    }

    #[test]
    fn shares_read_back_as_the_weight_they_came_from(w in 1u64..=10_000) {
        prop_assert_eq!(shares_to_weight(weight_to_shares(w)), w);
    }
}
