//! Columns a user can name with `-o`: the [`Column`] trait a tool's column enum
//! implements, the `-o` list parser (`NS,TYPE`, or `+PNS` to add to the defaults), and
//! the column list for `--help`.

/// A column the user can name with `-o`.
pub trait Column: Copy + PartialEq + 'static {
    /// Every column, in the order `--help` lists them.
    const ALL: &'static [Self];
    /// The heading, in upper case: `NS`.
    fn name(self) -> &'static str;
    fn help(self) -> &'static str;
    /// Numbers are right-aligned.
    fn right(self) -> bool;
    /// The key in `--json`: the name in lower case.
    fn key(self) -> String {
        self.name().to_ascii_lowercase()
    }
}

/// A name in `-o` that is no column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown column '{name}' (known: {known})")]
pub struct UnknownColumn {
    pub name: String,
    /// The known names: `NS, TYPE, …`.
    pub known: String,
}

/// Parses `-o`: comma-separated names in any case; a list starting with `+` adds to
/// `defaults`. A column named twice is shown once.
pub fn parse_list<C: Column>(list: &str, defaults: &[C]) -> Result<Vec<C>, UnknownColumn> {
    let (mut columns, list) = match list.strip_prefix('+') {
        Some(rest) => (defaults.to_vec(), rest),
        None => (Vec::new(), list),
    };
    for name in list.split(',').map(str::trim) {
        let column = C::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownColumn {
                name: name.to_string(),
                known: C::ALL
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    Ok(columns)
}

/// The names of `columns`, comma-separated: `NS,TYPE`.
pub fn names<C: Column>(columns: &[C]) -> String {
    columns
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// The column list for `--help`: a line per column, its name and what it shows.
pub fn help<C: Column>() -> String {
    C::ALL
        .iter()
        .map(|c| format!("  {:>8}  {}", c.name(), c.help()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Columns for the tests of this crate.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Col {
        Ns,
        Type,
        Pns,
    }

    impl Column for Col {
        const ALL: &'static [Self] = &[Col::Ns, Col::Type, Col::Pns];
        fn name(self) -> &'static str {
            match self {
                Col::Ns => "NS",
                Col::Type => "TYPE",
                Col::Pns => "PNS",
            }
        }
        fn help(self) -> &'static str {
            "h"
        }
        fn right(self) -> bool {
            self != Col::Type
        }
    }

    const DEFAULT: &[Col] = &[Col::Ns, Col::Type];

    #[test]
    fn lists() {
        assert_eq!(
            parse_list("type, ns", DEFAULT).unwrap(),
            [Col::Type, Col::Ns]
        );
        assert_eq!(
            parse_list("+pns", DEFAULT).unwrap(),
            [Col::Ns, Col::Type, Col::Pns]
        );
        assert_eq!(parse_list("NS,NS", DEFAULT).unwrap(), [Col::Ns]);
        assert_eq!(names(DEFAULT), "NS,TYPE");
        assert_eq!(Col::Pns.key(), "pns");
    }

    #[test]
    fn unknown_names() {
        for bad in ["", "NS,", "BOGUS", "+", "NS;TYPE"] {
            assert!(parse_list(bad, DEFAULT).is_err(), "{bad}");
        }
        assert_eq!(
            parse_list("X", DEFAULT).unwrap_err().to_string(),
            "unknown column 'X' (known: NS, TYPE, PNS)"
        );
    }

    #[test]
    fn help_lines() {
        assert_eq!(help::<Col>().lines().count(), 3);
        assert!(help::<Col>().starts_with("        NS  h"));
    }
}

#[cfg(test)]
mod properties;
