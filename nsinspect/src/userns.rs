//! User namespace facts: the uid and gid maps of /proc/PID/uid_map and gid_map, parsed
//! and shown in short form (`INSIDE:OUTSIDE:COUNT`, comma-separated, as nsrun's
//! `--map-users` takes them).

use std::fmt;

/// One line of a uid_map or gid_map: `count` ids from `outside` (in the reader's user
/// namespace) appear as `inside` onwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// A whole map; empty when nothing is mapped yet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap(pub Vec<IdRange>);

/// A line of a map file that is not three numbers.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed id map line '{0}'")]
pub struct BadMapLine(pub String);

impl IdMap {
    /// Parses the text of a uid_map or gid_map file.
    pub fn parse(text: &str) -> Result<IdMap, BadMapLine> {
        let mut ranges = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let bad = || BadMapLine(line.trim().to_string());
            let mut fields = line.split_whitespace().map(str::parse::<u32>);
            let (Some(Ok(inside)), Some(Ok(outside)), Some(Ok(count)), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(bad());
            };
            ranges.push(IdRange {
                inside,
                outside,
                count,
            });
        }
        Ok(IdMap(ranges))
    }

    /// Whether every id maps to itself (the initial user namespace).
    pub fn is_identity(&self) -> bool {
        matches!(
            self.0.as_slice(),
            [IdRange {
                inside: 0,
                outside: 0,
                count: u32::MAX
            }]
        )
    }
}

/// `0:1000:1,1:100000:65536`; `none` for an empty map.
impl fmt::Display for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}:{}:{}", r.inside, r.outside, r.count)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_namespace() {
        let map = IdMap::parse("         0          0 4294967295\n").unwrap();
        assert!(map.is_identity());
        assert_eq!(map.to_string(), "0:0:4294967295");
    }

    #[test]
    fn several_ranges() {
        let map =
            IdMap::parse("         0       1000          1\n         1     100000      65536\n")
                .unwrap();
        assert!(!map.is_identity());
        assert_eq!(map.to_string(), "0:1000:1,1:100000:65536");
        assert_eq!(
            map.0[1],
            IdRange {
                inside: 1,
                outside: 100000,
                count: 65536
            }
        );
    }

    #[test]
    fn empty_map_is_none() {
        let map = IdMap::parse("").unwrap();
        assert_eq!(map, IdMap::default());
        assert_eq!(map.to_string(), "none");
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(IdMap::parse("0 0\n").is_err());
        assert!(IdMap::parse("0 0 1 2\n").is_err());
        assert!(IdMap::parse("0 x 1\n").is_err());
        assert!(IdMap::parse("0 0 4294967296\n").is_err());
        assert!(IdMap::parse("-1 0 1\n").is_err());
    }
}

#[cfg(test)]
mod properties;
