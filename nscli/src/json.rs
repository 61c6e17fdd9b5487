//! `--json`: one document per command, pretty-printed; a row is an object keyed by
//! its columns' names in lower case.

use std::io::Write;

use serde_json::{Map, Value};

use crate::cell::Cell;
use crate::columns::Column;
use crate::output::OutputError;

/// Writes `value` as one pretty-printed JSON document and a newline.
pub fn write<T: serde::Serialize + ?Sized>(
    out: &mut impl Write,
    value: &T,
) -> Result<(), OutputError> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A row as a JSON object: `{"ns": 4026531840, "type": "net", …}`.
pub fn object<C: Column>(columns: &[C], cell: impl Fn(C) -> Cell) -> Map<String, Value> {
    columns
        .iter()
        .map(|&c| (c.key(), cell(c).to_json()))
        .collect()
}

/// Nests objects given in tree order with their depths: each one's descendants go
/// into its `children` array (left out when it has none).
pub fn nest(objects: Vec<(usize, Map<String, Value>)>) -> Vec<Value> {
    // A stack of open nodes; closing one moves it into its parent's children.
    type Open = (usize, Map<String, Value>, Vec<Value>);
    let close = |stack: &mut Vec<Open>, roots: &mut Vec<Value>| {
        if let Some((_, mut obj, kids)) = stack.pop() {
            if !kids.is_empty() {
                obj.insert("children".into(), Value::Array(kids));
            }
            match stack.last_mut() {
                Some((_, _, siblings)) => siblings.push(Value::Object(obj)),
                None => roots.push(Value::Object(obj)),
            }
        }
    };
    let mut stack: Vec<Open> = Vec::new();
    let mut roots = Vec::new();
    for (depth, obj) in objects {
        while stack.last().is_some_and(|(d, _, _)| *d >= depth) {
            close(&mut stack, &mut roots);
        }
        stack.push((depth, obj, Vec::new()));
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots);
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::tests::Col;
    use serde_json::json;

    fn obj(name: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("ns".into(), json!(name));
        m
    }

    #[test]
    fn nesting() {
        let nested = nest(vec![
            (0, obj("a")),
            (1, obj("b")),
            (2, obj("c")),
            (1, obj("d")),
            (0, obj("e")),
        ]);
        assert_eq!(
            Value::Array(nested),
            json!([
                {"ns": "a", "children": [
                    {"ns": "b", "children": [{"ns": "c"}]},
                    {"ns": "d"}
                ]},
                {"ns": "e"}
            ])
        );
    }

    #[test]
    fn objects_and_documents() {
        let o = object(&[Col::Type, Col::Ns, Col::Pns], |c| match c {
            Col::Ns => Cell::Num(7),
            Col::Type => Cell::text("net"),
            Col::Pns => Cell::Empty,
        });
        let mut out = Vec::new();
        write(&mut out, &o).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("}\n"));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, json!({"type": "net", "ns": 7, "pns": null}));
        // Keys keep the columns' order.
        assert!(text.find("type").unwrap() < text.find("\"ns\"").unwrap());
    }
}
