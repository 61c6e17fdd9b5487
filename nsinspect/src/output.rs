//! Turning results into cells, which nscli prints as a table (`--raw`, `-n`) or JSON.

use std::io::Write;

use nscli::cell::Cell;
use nscli::columns::Column;
use nscli::format::{self, Format};
use nscli::json;
use nscli::output::OutputError;
use nscli::table::{Heading, Table};
use serde_json::{json, Map, Value};

use crate::columns::{ListColumn, ShowColumn};
use crate::compare::Row;
use crate::listing::{Entry, Listing};
use crate::relations::tree_parent;
use crate::show::NsReport;
use crate::userns::IdMap;

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
            // No name for it: in a table the number says more than nothing; JSON has
            // no name (null), and the number in "uid".
            (None, Some(uid)) => Cell::Shown(uid.to_string(), Box::new(Cell::Empty)),
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

/// `--all`, as a list or (with `tree`) as a tree.
pub fn write_list(
    out: &mut impl Write,
    listing: &Listing,
    columns: &[ListColumn],
    format: Format,
    tree: bool,
) -> Result<(), OutputError> {
    let entries = &listing.entries;
    let cell = |e: &Entry, c| list_cell(e, c);
    if tree {
        let parents: Vec<Option<usize>> = entries
            .iter()
            .map(|e| tree_parent(e).and_then(|p| listing.index_of(p)))
            .collect();
        format::write_tree(out, format, "namespaces", columns, entries, &parents, cell)
    } else {
        format::write_rows(out, format, "namespaces", columns, entries, cell)
    }
}

/// One target.
pub fn write_show(
    out: &mut impl Write,
    label: &str,
    pid: Option<i32>,
    reports: &[NsReport],
    columns: &[ShowColumn],
    format: Format,
) -> Result<(), OutputError> {
    match format {
        Format::Json => {
            let namespaces: Vec<Value> = reports
                .iter()
                .map(|r| Value::Object(json::object(columns, |c| show_cell(r, c))))
                .collect();
            json::write(
                out,
                &json!({ "target": label, "pid": pid, "namespaces": namespaces }),
            )
        }
        Format::Table(style) => {
            let mut table = Table::for_columns(columns);
            for r in reports {
                table.push(columns.iter().map(|&c| show_cell(r, c).display()).collect());
            }
            Ok(table.write(out, style)?)
        }
    }
}

/// Two or more targets. In JSON each type's namespaces are keyed by target:
/// `{"type": "net", "ns": {"A": 4026531840, "B": null}, "shared": false}`.
pub fn write_compare(
    out: &mut impl Write,
    labels: &[String],
    rows: &[Row],
    format: Format,
) -> Result<(), OutputError> {
    match format {
        Format::Json => {
            let types: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let ns: Map<String, Value> = labels
                        .iter()
                        .zip(&r.ids)
                        .map(|(label, id)| (label.clone(), id_cell(*id).to_json()))
                        .collect();
                    json!({ "type": r.kind.proc_name(), "ns": ns, "shared": r.shared })
                })
                .collect();
            let shared = rows.iter().all(|r| r.shared);
            json::write(
                out,
                &json!({ "targets": labels, "shared": shared, "types": types }),
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
                row.push(Cell::Bool(r.shared).display());
                table.push(row);
            }
            Ok(table.write(out, style)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nscli::columns::Column;
    use nsproc::Kind;
    use nsproc::NsId;

    #[test]
    fn list_json_keeps_numbers_and_null_for_none() {
        let e = Entry {
            id: NsId {
                dev: 4,
                ino: 4026532385,
            },
            kind: Kind::Net,
            nprocs: 2,
            pid: Some(42),
            uid: Some(4242),
            ppid: None,
            command: Some("sleep 60".into()),
            user: None,
            nsfs: vec![],
            fds: vec![(42, 7)],
            parent: None,
            owner: Some(NsId {
                dev: 4,
                ino: 4026531837,
            }),
        };
        let row = json::object(ListColumn::ALL, |c| list_cell(&e, c));
        assert_eq!(
            Value::Object(row),
            json!({"ns": 4026532385u64, "type": "net", "path": "/proc/42/ns/net",
                   "nprocs": 2, "pid": 42, "ppid": null, "command": "sleep 60",
                   "uid": 4242, "user": null, "nsfs": [], "fds": [{"pid": 42, "fd": 7}],
                   "pns": null, "ons": 4026531837u64})
        );
        // A user without a name shows its uid in a table.
        assert_eq!(list_cell(&e, ListColumn::User).display(), "4242");
    }

    #[test]
    fn compare_json_is_keyed_by_target() {
        let rows = [Row {
            kind: Kind::Net,
            ids: vec![Some(NsId { dev: 4, ino: 7 }), None],
            shared: false,
        }];
        let labels = ["42".to_string(), "/run/netns/a".to_string()];
        let mut out = Vec::new();
        write_compare(&mut out, &labels, &rows, Format::Json).unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            doc,
            json!({"targets": ["42", "/run/netns/a"], "shared": false, "types": [
                {"type": "net", "ns": {"42": 7, "/run/netns/a": null}, "shared": false}
            ]})
        );
    }
}
