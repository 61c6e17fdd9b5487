//! Turning results into cells, and cells into a table (`--raw`, `-n`) or JSON.

use std::io::Write;

use crate::columns::{Column, ListColumn, ShowColumn};
use crate::compare::Row;
use crate::listing::{Entry, Listing};
use crate::relations::tree_parent;
use crate::show::NsReport;
use crate::table::{Cell, Heading, Style, Table};
use crate::tree;
use crate::userns::IdMap;

/// How to print.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    Table(Style),
    Json,
}

fn id_cell(id: Option<nsproc::NsId>) -> Cell {
    Cell::opt_num(id.map(|i| i.ino))
}

/// One cell of `--all`.
pub fn list_cell(e: &Entry, column: ListColumn) -> Cell {
    match column {
        ListColumn::Ns => Cell::Num(e.id.ino),
        ListColumn::Type => Cell::text(e.kind.proc_name()),
        ListColumn::Path => e.path().map_or(Cell::Empty, |p| {
            Cell::Text(p.to_string_lossy().into_owned())
        }),
        ListColumn::Nprocs => Cell::Num(e.nprocs.into()),
        ListColumn::Pid => Cell::opt_int(e.pid),
        ListColumn::Ppid => Cell::opt_int(e.ppid),
        ListColumn::Command => e.command.clone().map_or(Cell::Empty, Cell::Text),
        ListColumn::Uid => Cell::opt_num(e.uid),
        ListColumn::User => match (&e.user, e.uid) {
            (Some(name), _) => Cell::text(name.as_str()),
            // No name for it: the number says more than nothing.
            (None, Some(uid)) => Cell::Text(uid.to_string()),
            (None, None) => Cell::Empty,
        },
        ListColumn::Nsfs => Cell::List(
            e.nsfs
                .iter()
                .map(|p| Cell::Text(p.to_string_lossy().into_owned()))
                .collect(),
        ),
        ListColumn::Fds => Cell::List(
            e.fds
                .iter()
                .map(|&(pid, fd)| {
                    Cell::Record(vec![
                        ("pid", Cell::Int(pid.into())),
                        ("fd", Cell::Int(fd.into())),
                    ])
                })
                .collect(),
        ),
        ListColumn::Pns => id_cell(e.parent),
        ListColumn::Ons => id_cell(e.owner),
    }
}

/// A uid or gid map: `INSIDE:OUTSIDE:COUNT,...` (`none` when empty) in a table, an
/// array of `{"inside", "outside", "count"}` objects in JSON.
fn map_cell(map: &IdMap) -> Cell {
    let ranges = map
        .0
        .iter()
        .map(|r| {
            Cell::Record(vec![
                ("inside", Cell::Num(r.inside.into())),
                ("outside", Cell::Num(r.outside.into())),
                ("count", Cell::Num(r.count.into())),
            ])
        })
        .collect();
    Cell::ListOr(ranges, "none")
}

/// One cell of the one-target view.
pub fn show_cell(r: &NsReport, column: ShowColumn) -> Cell {
    let pids = |p: &Vec<i32>| Cell::List(p.iter().map(|&n| Cell::Int(n.into())).collect());
    match column {
        ShowColumn::Type => Cell::text(r.kind.proc_name()),
        ShowColumn::Ns => Cell::Num(r.id.ino),
        ShowColumn::Pns => id_cell(r.parent),
        ShowColumn::Ons => id_cell(r.owner),
        ShowColumn::Nspid => r.nspid.as_ref().map_or(Cell::Empty, pids),
        ShowColumn::Children => id_cell(r.for_children),
        ShowColumn::Depth => Cell::opt_num(r.depth),
        ShowColumn::Uid => Cell::opt_num(r.owner_uid),
        ShowColumn::Uidmap => r.uid_map.as_ref().map_or(Cell::Empty, map_cell),
        ShowColumn::Gidmap => r.gid_map.as_ref().map_or(Cell::Empty, map_cell),
        ShowColumn::Details => {
            let parts: Vec<String> = ShowColumn::DETAIL_PARTS
                .iter()
                .copied()
                .filter_map(|c| match show_cell(r, c) {
                    Cell::Empty => None,
                    cell => Some(format!("{}={}", c.key(), cell.display())),
                })
                .collect();
            Cell::Text(parts.join(" "))
        }
    }
}

fn headings<C: Column>(columns: &[C]) -> Vec<Heading> {
    columns
        .iter()
        .map(|c| Heading {
            name: c.name().to_string(),
            right: c.right(),
        })
        .collect()
}

fn json_object<C: Column>(
    columns: &[C],
    cell: impl Fn(C) -> Cell,
) -> serde_json::Map<String, serde_json::Value> {
    columns
        .iter()
        .map(|&c| (c.key(), cell(c).to_json()))
        .collect()
}

fn write_json(out: &mut impl Write, value: &serde_json::Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// `--all`, as a list or (with `tree`) as a tree.
pub fn write_list(
    out: &mut impl Write,
    listing: &Listing,
    columns: &[ListColumn],
    format: Format,
    tree: bool,
) -> std::io::Result<()> {
    let entries = &listing.entries;
    let placed = if tree {
        let parents: Vec<Option<usize>> = entries
            .iter()
            .map(|e| tree_parent(e).and_then(|p| listing.index_of(p)))
            .collect();
        tree::layout(&parents)
    } else {
        (0..entries.len())
            .map(|index| tree::Placed {
                index,
                depth: 0,
                prefix: String::new(),
            })
            .collect()
    };
    match format {
        Format::Json => {
            let objects: Vec<(usize, serde_json::Map<_, _>)> = placed
                .iter()
                .map(|p| {
                    (
                        p.depth,
                        json_object(columns, |c| list_cell(&entries[p.index], c)),
                    )
                })
                .collect();
            let namespaces = if tree {
                nest(objects)
            } else {
                objects
                    .into_iter()
                    .map(|(_, o)| serde_json::Value::Object(o))
                    .collect()
            };
            write_json(out, &serde_json::json!({ "namespaces": namespaces }))
        }
        Format::Table(style) => {
            let mut heads = headings(columns);
            if tree {
                // The tree is drawn in the first column, which then reads left to right.
                if let Some(first) = heads.first_mut() {
                    first.right = false;
                }
            }
            let mut table = Table::new(heads);
            for p in &placed {
                let mut row: Vec<String> = columns
                    .iter()
                    .map(|&c| list_cell(&entries[p.index], c).display())
                    .collect();
                if let Some(first) = row.first_mut() {
                    first.insert_str(0, &p.prefix);
                }
                table.push(row);
            }
            table.write(out, style)
        }
    }
}

/// Builds nested `children` arrays from objects in tree order with their depths.
fn nest(
    objects: Vec<(usize, serde_json::Map<String, serde_json::Value>)>,
) -> Vec<serde_json::Value> {
    use serde_json::{Map, Value};
    // A stack of open nodes; closing one moves it into its parent's children.
    let mut stack: Vec<(usize, Map<String, Value>, Vec<Value>)> = Vec::new();
    let mut roots = Vec::new();
    let close = |stack: &mut Vec<(usize, Map<String, Value>, Vec<Value>)>,
                 roots: &mut Vec<Value>| {
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

/// One target.
pub fn write_show(
    out: &mut impl Write,
    label: &str,
    pid: Option<i32>,
    reports: &[NsReport],
    columns: &[ShowColumn],
    format: Format,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let namespaces: Vec<serde_json::Value> = reports
                .iter()
                .map(|r| serde_json::Value::Object(json_object(columns, |c| show_cell(r, c))))
                .collect();
            write_json(
                out,
                &serde_json::json!({ "target": label, "pid": pid, "namespaces": namespaces }),
            )
        }
        Format::Table(style) => {
            let mut table = Table::new(headings(columns));
            for r in reports {
                table.push(columns.iter().map(|&c| show_cell(r, c).display()).collect());
            }
            table.write(out, style)
        }
    }
}

/// Two or more targets.
pub fn write_compare(
    out: &mut impl Write,
    labels: &[String],
    rows: &[Row],
    format: Format,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let types: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "type": r.kind.proc_name(),
                        "ns": r.ids.iter().map(|id| id_cell(*id).to_json()).collect::<Vec<_>>(),
                        "shared": r.shared,
                    })
                })
                .collect();
            let shared = rows.iter().all(|r| r.shared);
            write_json(
                out,
                &serde_json::json!({ "targets": labels, "shared": shared, "types": types }),
            )
        }
        Format::Table(style) => {
            let mut heads = vec![Heading {
                name: "TYPE".into(),
                right: false,
            }];
            heads.extend(labels.iter().map(|l| Heading {
                name: l.clone(),
                right: true,
            }));
            heads.push(Heading {
                name: "SHARED".into(),
                right: false,
            });
            let mut table = Table::new(heads);
            for r in rows {
                let mut row = vec![r.kind.proc_name().to_string()];
                row.extend(r.ids.iter().map(|id| id_cell(*id).display()));
                row.push(if r.shared { "yes" } else { "no" }.to_string());
                table.push(row);
            }
            table.write(out, style)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(name: &str) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
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
            serde_json::Value::Array(nested),
            json!([
                {"ns": "a", "children": [
                    {"ns": "b", "children": [{"ns": "c"}]},
                    {"ns": "d"}
                ]},
                {"ns": "e"}
            ])
        );
    }
}
