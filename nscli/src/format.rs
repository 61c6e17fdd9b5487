//! How a tool prints a table: the `-o`, `-n`, `-r` and `--json` options every table
//! command takes ([`OutputArgs`]), and writing rows as a table, a tree or JSON.

use std::io::Write;

use serde_json::{Map, Value};

use crate::cell::Cell;
use crate::columns::{self, Column, UnknownColumn};
use crate::json;
use crate::output::OutputError;
use crate::table::{Style, Table};
use crate::tree;

/// Table or JSON.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    Table(Style),
    Json,
}

/// The output options of a command that prints a table; `#[command(flatten)]` it.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct OutputArgs {
    /// Columns to print (comma-separated; +LIST adds to the default ones)
    #[arg(short = 'o', long, value_name = "LIST")]
    pub output: Option<String>,
    /// Do not print the heading line
    #[arg(short = 'n', long)]
    pub noheadings: bool,
    /// Raw output: one space between columns, blanks escaped as \x20
    #[arg(short = 'r', long, conflicts_with = "json")]
    pub raw: bool,
    /// JSON output, with raw numbers and stable field names
    #[arg(short = 'J', long)]
    pub json: bool,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            Format::Table(Style {
                no_headings: self.noheadings,
                raw: self.raw,
            })
        }
    }

    /// The columns `-o` names, or `defaults` without it.
    pub fn columns<C: Column>(&self, defaults: &[C]) -> Result<Vec<C>, UnknownColumn> {
        match &self.output {
            Some(list) => columns::parse_list(list, defaults),
            None => Ok(defaults.to_vec()),
        }
    }
}

/// Writes `rows` under `columns`: a table, or in JSON `{"KEY": [{row}, …]}`.
pub fn write_rows<C: Column, R>(
    out: &mut impl Write,
    format: Format,
    key: &str,
    columns: &[C],
    rows: &[R],
    cell: impl Fn(&R, C) -> Cell,
) -> Result<(), OutputError> {
    let parents = vec![None; rows.len()];
    write_placed(
        out,
        format,
        key,
        columns,
        rows,
        &tree::layout(&parents),
        cell,
    )
}

/// Writes `rows` as a forest (`parents[i]` is row i's parent, see [`tree::layout`]):
/// in a table the first column draws the tree and is left-aligned; in JSON each row
/// holds its children in a `children` array.
pub fn write_tree<C: Column, R>(
    out: &mut impl Write,
    format: Format,
    key: &str,
    columns: &[C],
    rows: &[R],
    parents: &[Option<usize>],
    cell: impl Fn(&R, C) -> Cell,
) -> Result<(), OutputError> {
    let placed = tree::layout(parents);
    match format {
        Format::Json => {
            let objects = placed
                .iter()
                .map(|p| (p.depth, json::object(columns, |c| cell(&rows[p.index], c))))
                .collect();
            let doc: Map<String, Value> = [(key.to_string(), Value::Array(json::nest(objects)))]
                .into_iter()
                .collect();
            json::write(out, &doc)
        }
        Format::Table(style) => {
            let mut table = Table::for_columns(columns);
            // The tree is drawn in the first column, which then reads left to right.
            if let Some(first) = table.headings.first_mut() {
                first.right = false;
            }
            fill(&mut table, columns, rows, &placed, &cell);
            table.write(out, style)?;
            Ok(())
        }
    }
}

fn write_placed<C: Column, R>(
    out: &mut impl Write,
    format: Format,
    key: &str,
    columns: &[C],
    rows: &[R],
    placed: &[tree::Placed],
    cell: impl Fn(&R, C) -> Cell,
) -> Result<(), OutputError> {
    match format {
        Format::Json => {
            let objects: Vec<Value> = placed
                .iter()
                .map(|p| Value::Object(json::object(columns, |c| cell(&rows[p.index], c))))
                .collect();
            let doc: Map<String, Value> = [(key.to_string(), Value::Array(objects))]
                .into_iter()
                .collect();
            json::write(out, &doc)
        }
        Format::Table(style) => {
            let mut table = Table::for_columns(columns);
            fill(&mut table, columns, rows, placed, &cell);
            table.write(out, style)?;
            Ok(())
        }
    }
}

fn fill<C: Column, R>(
    table: &mut Table,
    columns: &[C],
    rows: &[R],
    placed: &[tree::Placed],
    cell: &impl Fn(&R, C) -> Cell,
) {
    for p in placed {
        let mut row: Vec<String> = columns
            .iter()
            .map(|&c| cell(&rows[p.index], c).display())
            .collect();
        if let Some(first) = row.first_mut() {
            first.insert_str(0, &p.prefix);
        }
        table.push(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::tests::Col;
    use clap::Parser;
    use serde_json::json;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        out: OutputArgs,
    }

    fn args(a: &[&str]) -> Result<OutputArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("t").chain(a.iter().copied())).map(|c| c.out)
    }

    struct Ns {
        ino: u64,
        kind: &'static str,
    }

    fn cell(n: &Ns, c: Col) -> Cell {
        match c {
            Col::Ns => Cell::Num(n.ino),
            Col::Type => Cell::text(n.kind),
            Col::Pns => Cell::Empty,
        }
    }

    fn rows() -> Vec<Ns> {
        vec![
            Ns {
                ino: 10,
                kind: "user",
            },
            Ns {
                ino: 2000,
                kind: "net",
            },
        ]
    }

    fn render(a: &[&str], parents: Option<&[Option<usize>]>) -> String {
        let o = args(a).unwrap();
        let columns = o.columns(&[Col::Ns, Col::Type]).unwrap();
        let mut out = Vec::new();
        match parents {
            None => write_rows(&mut out, o.format(), "namespaces", &columns, &rows(), cell),
            Some(p) => write_tree(
                &mut out,
                o.format(),
                "namespaces",
                &columns,
                &rows(),
                p,
                cell,
            ),
        }
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_four_options() {
        assert_eq!(render(&[], None), "  NS TYPE\n  10 user\n2000 net\n");
        assert_eq!(render(&["-n"], None), "  10 user\n2000 net\n");
        assert_eq!(render(&["-r", "-o", "type"], None), "TYPE\nuser\nnet\n");
        assert_eq!(
            render(&["--output", "+pns"], None),
            "  NS TYPE PNS\n  10 user   -\n2000 net    -\n"
        );
        let doc: serde_json::Value = serde_json::from_str(&render(&["--json"], None)).unwrap();
        assert_eq!(
            doc,
            json!({"namespaces": [{"ns": 10, "type": "user"}, {"ns": 2000, "type": "net"}]})
        );
        assert!(args(&["-r", "-J"]).is_err());
        assert!(args(&["-o", "bogus"]).unwrap().columns(&[Col::Ns]).is_err());
    }

    #[test]
    fn trees() {
        let parents = [None, Some(0)];
        assert_eq!(
            render(&[], Some(&parents)),
            "NS     TYPE\n10     user\n└─2000 net\n"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&render(&["-J"], Some(&parents))).unwrap();
        assert_eq!(
            doc,
            json!({"namespaces": [{"ns": 10, "type": "user",
                                   "children": [{"ns": 2000, "type": "net"}]}]})
        );
    }
}
