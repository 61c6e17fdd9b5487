//! Properties of the user-namespace maps: no text makes a range parser panic, a range
//! reads back as shown, a map is accepted exactly when the kernel would take it, and
//! whatever /etc/subuid holds, `auto` only builds ranges the kernel can take.

use proptest::prelude::*;

use super::*;

/// Text shaped like `INNER:OUTER:COUNT`, with signs, blanks and huge numbers.
fn rangeish() -> impl Strategy<Value = String> {
    "[ +\\-]?[0-9]{0,11}(:[ +\\-]?[0-9]{0,11}){0,3}|auto|AUTO"
}

/// A range the kernel takes: neither side reaches ID 4294967295.
fn valid_range() -> impl Strategy<Value = IdRange> {
    (0..u32::MAX, 0..u32::MAX).prop_flat_map(|(inner, outer)| {
        (1..=u32::MAX - inner.max(outer)).prop_map(move |count| IdRange {
            inner,
            outer,
            count,
        })
    })
}

/// Any ID, often one at either end.
fn edgy() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), 0u32..4, u32::MAX - 4..=u32::MAX]
}

/// The kernel's check: every pair apart inside and outside.
fn apart(ranges: &[IdRange]) -> bool {
    let overlap = |x: u32, xn: u32, y: u32, yn: u32| {
        let (x, xn, y, yn) = (u64::from(x), u64::from(xn), u64::from(y), u64::from(yn));
        x < y + yn && y < x + xn
    };
    ranges.iter().enumerate().all(|(i, a)| {
        ranges[i + 1..].iter().all(|b| {
            !overlap(a.inner, a.count, b.inner, b.count)
                && !overlap(a.outer, a.count, b.outer, b.count)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_text_makes_a_map_parser_panic(s in any::<String>(), r in rangeish()) {
        for t in [&s, &r] {
            let _ = t.parse::<MapArg>();
            if let Ok(range) = t.parse::<IdRange>() {
                prop_assert!(range.count >= 1);
                prop_assert!(u64::from(range.inner) + u64::from(range.count) <= u64::from(u32::MAX));
                prop_assert!(u64::from(range.outer) + u64::from(range.count) <= u64::from(u32::MAX));
            }
        }
    }

    #[test]
    fn a_range_reads_back_as_shown(range in valid_range()) {
        prop_assert_eq!(range.to_string().parse::<IdRange>(), Ok(range));
        prop_assert_eq!(range.to_string().parse::<MapArg>(), Ok(MapArg::Range(range)));
    }

    #[test]
    fn a_map_is_taken_exactly_when_its_ranges_are_apart(
        ranges in proptest::collection::vec(
            (0u32..64, 0u32..64, 1u32..16).prop_map(|(i, o, n)| IdRange { inner: i, outer: o, count: n }),
            0..6,
        ),
    ) {
        let map = IdMap::new(ranges.clone());
        prop_assert_eq!(map.is_ok(), apart(&ranges), "{:?}", ranges);
        if let Ok(map) = map {
            prop_assert_eq!(map.to_proc_text().lines().count(), ranges.len());
        }
    }

    #[test]
    fn subordinate_ranges_map_only_ids_the_kernel_takes(
        start in edgy(),
        count in edgy(),
        // (uid_t)-1 is no one's ID.
        uid in edgy().prop_map(|id| id.min(u32::MAX - 1)),
        gid in edgy().prop_map(|id| id.min(u32::MAX - 1)),
        privileged in any::<bool>(),
    ) {
        let line = format!("me:{start}:{count}\n");
        let Some(sub) = subid::first_range(&line, Some("me"), 1) else {
            return Ok(());
        };
        let caller = Caller { uid, gid, privileged, subuid: Some(sub), subgid: Some(sub) };
        let options = MapOptions { auto_users: true, auto_groups: true, ..Default::default() };
        if let Ok(maps) = options.build(&caller) {
            for range in maps.uid.ranges().iter().chain(maps.gid.ranges()) {
                prop_assert_eq!(range.to_string().parse::<IdRange>(), Ok(*range), "{}", line);
            }
        }
    }
}
