//! Properties of the time offsets: an offset is taken exactly when the clock it moves
//! stays between 0 and the kernel's largest time, and no offset makes the check panic.

use proptest::prelude::*;

use super::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn an_offset_is_taken_exactly_when_the_clock_stays_in_range(
        offset in prop_oneof![any::<i64>(), -10_000_000i64..10_000_000],
        now in 0..=MAX_CLOCK_SECS,
    ) {
        let inside = i128::from(now) + i128::from(offset);
        let taken = check_offset("--boottime", "CLOCK_BOOTTIME", offset, now);
        prop_assert_eq!(taken.is_ok(), (0..=i128::from(MAX_CLOCK_SECS)).contains(&inside));
        if let Err(e) = taken {
            let start = format!("--boottime {offset} is out of range");
            prop_assert!(e.starts_with(&start), "{}", e);
        }
    }
}
