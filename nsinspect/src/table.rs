//! Output cells and the aligned table: one [`Cell`] type feeds both the table (and
//! `--raw`) and `--json`, so the two always carry the same facts.

use std::io::{self, Write};

/// One value of the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Num(u64),
    Int(i64),
    Text(String),
    /// Several values: joined by commas in a table, an array in JSON.
    List(Vec<Cell>),
    /// A list whose emptiness means something (an unmapped user namespace): shown as
    /// this word when empty, instead of `-`; an empty array in JSON.
    ListOr(Vec<Cell>, &'static str),
    /// Named parts of one value (`PID:FD`, `INSIDE:OUTSIDE:COUNT`): joined by colons in
    /// a table, an object with these keys in JSON, so its numbers stay numbers.
    Record(Vec<(&'static str, Cell)>),
}

impl Cell {
    pub fn opt_num(v: Option<impl Into<u64>>) -> Cell {
        v.map_or(Cell::Empty, |v| Cell::Num(v.into()))
    }

    pub fn opt_int(v: Option<impl Into<i64>>) -> Cell {
        v.map_or(Cell::Empty, |v| Cell::Int(v.into()))
    }

    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// How the cell reads in a table; `-` for nothing.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => "-".to_string(),
            Cell::Num(n) => n.to_string(),
            Cell::Int(n) => n.to_string(),
            Cell::Text(s) if s.is_empty() => "-".to_string(),
            Cell::Text(s) => s.clone(),
            Cell::List(items) if items.is_empty() => "-".to_string(),
            Cell::List(items) => items
                .iter()
                .map(Cell::display)
                .collect::<Vec<_>>()
                .join(","),
            Cell::ListOr(items, word) if items.is_empty() => word.to_string(),
            Cell::ListOr(items, _) => Cell::List(items.clone()).display(),
            Cell::Record(parts) => parts
                .iter()
                .map(|(_, c)| c.display())
                .collect::<Vec<_>>()
                .join(":"),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Cell::Empty => Value::Null,
            Cell::Num(n) => Value::from(*n),
            Cell::Int(n) => Value::from(*n),
            Cell::Text(s) => Value::from(s.as_str()),
            Cell::List(items) | Cell::ListOr(items, _) => {
                Value::Array(items.iter().map(Cell::to_json).collect())
            }
            Cell::Record(parts) => Value::Object(
                parts
                    .iter()
                    .map(|(k, c)| (k.to_string(), c.to_json()))
                    .collect(),
            ),
        }
    }
}

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
    fn cells() {
        assert_eq!(Cell::Empty.display(), "-");
        assert_eq!(Cell::text("").display(), "-");
        assert_eq!(
            Cell::List(vec![Cell::text("/a"), Cell::text("/b")]).display(),
            "/a,/b"
        );
        assert_eq!(Cell::opt_num(Some(7u32)).to_json(), serde_json::json!(7));
        assert_eq!(
            Cell::opt_int(None::<i32>).to_json(),
            serde_json::Value::Null
        );
        assert_eq!(Cell::Int(-1).display(), "-1");
    }

    #[test]
    fn records_keep_their_numbers_in_json() {
        let fd = Cell::Record(vec![("pid", Cell::Int(42)), ("fd", Cell::Int(7))]);
        assert_eq!(fd.display(), "42:7");
        assert_eq!(fd.to_json(), serde_json::json!({"pid": 42, "fd": 7}));
        let none = Cell::ListOr(vec![], "none");
        assert_eq!(none.display(), "none");
        assert_eq!(none.to_json(), serde_json::json!([]));
        let one = Cell::ListOr(vec![fd.clone()], "none");
        assert_eq!(one.display(), "42:7");
        assert_eq!(one.to_json(), serde_json::json!([{"pid": 42, "fd": 7}]));
    }
}
