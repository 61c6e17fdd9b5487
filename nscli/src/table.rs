//! The aligned table, as lsns prints it: numbers right-aligned, the last column not
//! padded; `--raw` (one space between cells, blanks escaped) and `--noheadings`.

use std::io::{self, Write};

use crate::columns::Column;

/// How a table is printed.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub no_headings: bool,
    /// One space between cells, no alignment, blanks escaped (`\x20`).
    pub raw: bool,
}

/// A column's heading and alignment.
#[derive(Clone, Debug)]
pub struct Heading {
    pub name: String,
    pub right: bool,
}

/// Rows of already displayed cells; the first column may carry a tree prefix.
pub struct Table {
    pub headings: Vec<Heading>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headings: Vec<Heading>) -> Self {
        Table {
            headings,
            rows: Vec::new(),
        }
    }

    /// A table under these columns' names and alignments.
    pub fn for_columns<C: Column>(columns: &[C]) -> Self {
        Table::new(headings(columns))
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn write(&self, out: &mut impl Write, style: Style) -> io::Result<()> {
        let headings: Vec<String> = self.headings.iter().map(|h| h.name.clone()).collect();
        let all = std::iter::once(&headings)
            .filter(|_| !style.no_headings)
            .chain(self.rows.iter());
        if style.raw {
            for row in all {
                let cells: Vec<String> = row.iter().map(|c| escape_raw(c)).collect();
                writeln!(out, "{}", cells.join(" "))?;
            }
            return Ok(());
        }
        let rows: Vec<&Vec<String>> = all.collect();
        let mut widths = vec![0; self.headings.len()];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let last = self.headings.len().saturating_sub(1);
        for row in rows {
            let mut line = String::new();
            for (i, (cell, heading)) in row.iter().zip(&self.headings).enumerate() {
                if i > 0 {
                    line.push(' ');
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                if heading.right {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if i != last {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// The headings of these columns.
pub fn headings<C: Column>(columns: &[C]) -> Vec<Heading> {
    columns
        .iter()
        .map(|c| Heading {
            name: c.name().to_string(),
            right: c.right(),
        })
        .collect()
}

/// In raw output a cell must stay one word: blanks, backslashes and control
/// characters become `\xHH`, as lsns does.
fn escape_raw(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    for c in cell.chars() {
        if c == ' ' || c == '\\' || c.is_control() {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::new(vec![
            Heading {
                name: "NS".into(),
                right: true,
            },
            Heading {
                name: "TYPE".into(),
                right: false,
            },
            Heading {
                name: "COMMAND".into(),
                right: false,
            },
        ]);
        t.push(vec!["4026531840".into(), "net".into(), "sleep 60".into()]);
        t.push(vec!["1".into(), "cgroup".into(), "-".into()]);
        t
    }

    fn render(t: &Table, style: Style) -> String {
        let mut out = Vec::new();
        t.write(&mut out, style).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn aligned() {
        assert_eq!(
            render(&table(), Style::default()),
            "        NS TYPE   COMMAND\n4026531840 net    sleep 60\n         1 cgroup -\n"
        );
    }

    #[test]
    fn raw_and_no_headings() {
        let style = Style {
            no_headings: true,
            raw: true,
        };
        assert_eq!(
            render(&table(), style),
            "4026531840 net sleep\\x2060\n1 cgroup -\n"
        );
    }

    #[test]
    fn last_column_unpadded_and_control_characters_escaped() {
        let mut t = Table::new(vec![
            Heading {
                name: "A".into(),
                right: false,
            },
            Heading {
                name: "B".into(),
                right: false,
            },
        ]);
        t.push(vec!["long value".into(), "x".into()]);
        t.push(vec!["a\\b\tc".into(), "".into()]);
        assert_eq!(
            render(&t, Style::default()),
            "A          B\nlong value x\na\\b\tc\n"
        );
        let raw = Style {
            raw: true,
            no_headings: true,
        };
        assert_eq!(render(&t, raw), "long\\x20value x\na\\x5cb\\x09c \n");
    }
}
