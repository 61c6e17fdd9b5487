//! Properties of the id map reader: no text of a map file makes it panic, and a map
//! reads back from the text the kernel writes for it.

use proptest::prelude::*;

use super::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn no_text_makes_the_map_reader_panic(
        s in any::<String>(),
        m in "(( *[0-9+\\-]{0,11}){0,4}\n){0,4}",
    ) {
        for t in [&s, &m] {
            if let Ok(map) = IdMap::parse(t) {
                let _ = map.to_string();
                let _ = map.is_identity();
            }
        }
    }

    #[test]
    fn a_map_reads_back_from_the_kernels_text(
        ranges in proptest::collection::vec(any::<(u32, u32, u32)>(), 0..5),
    ) {
        let ranges: Vec<IdRange> = ranges
            .into_iter()
            .map(|(inside, outside, count)| IdRange { inside, outside, count })
            .collect();
        // As the kernel writes the file: right-aligned in columns of ten.
        let text: String = ranges
            .iter()
            .map(|r| format!("{:>10} {:>10} {:>10}\n", r.inside, r.outside, r.count))
            .collect();
        prop_assert_eq!(IdMap::parse(&text), Ok(IdMap(ranges)));
    }
}
