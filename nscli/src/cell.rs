//! One value of the output. The same [`Cell`] feeds the table (and `--raw`) and
//! `--json`, so the two always carry the same facts: numbers stay JSON numbers and
//! "none" is `null`.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Nothing: `-` in a table, `null` in JSON.
    Empty,
    /// "None" that has a word of its own (`max` for no limit): the word in a table,
    /// `null` in JSON.
    NoneAs(&'static str),
    Num(u64),
    Int(i64),
    /// `yes`/`no` in a table, `true`/`false` in JSON.
    Bool(bool),
    Text(String),
    /// Text for people, another cell in JSON (a size as `64M` and 67108864).
    Shown(String, Box<Cell>),
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
            Cell::NoneAs(word) => word.to_string(),
            Cell::Num(n) => n.to_string(),
            Cell::Int(n) => n.to_string(),
            Cell::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Cell::Text(s) | Cell::Shown(s, _) if s.is_empty() => "-".to_string(),
            Cell::Text(s) | Cell::Shown(s, _) => s.clone(),
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

    pub fn to_json(&self) -> Value {
        match self {
            Cell::Empty | Cell::NoneAs(_) => Value::Null,
            Cell::Num(n) => Value::from(*n),
            Cell::Int(n) => Value::from(*n),
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Text(s) => Value::from(s.as_str()),
            Cell::Shown(_, json) => json.to_json(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells() {
        assert_eq!(Cell::Empty.display(), "-");
        assert_eq!(Cell::text("").display(), "-");
        assert_eq!(
            Cell::List(vec![Cell::text("/a"), Cell::text("/b")]).display(),
            "/a,/b"
        );
        assert_eq!(Cell::opt_num(Some(7u32)).to_json(), json!(7));
        assert_eq!(Cell::opt_int(None::<i32>).to_json(), Value::Null);
        assert_eq!(Cell::Int(-1).display(), "-1");
    }

    #[test]
    fn words_for_none_and_yes_no() {
        assert_eq!(Cell::NoneAs("max").display(), "max");
        assert_eq!(Cell::NoneAs("max").to_json(), Value::Null);
        assert_eq!(Cell::Bool(true).display(), "yes");
        assert_eq!(Cell::Bool(false).to_json(), json!(false));
        let size = Cell::Shown("64M".into(), Box::new(Cell::Num(64 << 20)));
        assert_eq!(size.display(), "64M");
        assert_eq!(size.to_json(), json!(67108864));
    }

    #[test]
    fn records_keep_their_numbers_in_json() {
        let fd = Cell::Record(vec![("pid", Cell::Int(42)), ("fd", Cell::Int(7))]);
        assert_eq!(fd.display(), "42:7");
        assert_eq!(fd.to_json(), json!({"pid": 42, "fd": 7}));
        let none = Cell::ListOr(vec![], "none");
        assert_eq!(none.display(), "none");
        assert_eq!(none.to_json(), json!([]));
        let one = Cell::ListOr(vec![fd.clone()], "none");
        assert_eq!(one.display(), "42:7");
        assert_eq!(one.to_json(), json!([{"pid": 42, "fd": 7}]));
    }
}
