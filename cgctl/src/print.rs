//! What cgctl prints: each command's result as text or, with `--json`, as JSON. The
//! tables (`mode`, `ls`, `which`, `tree`) go through nscli, with `-o`, `-r`, `-n` and
//! `--json`; stdout is an [`Output`], so a failed write is an error and a closed pipe
//! ends quietly. Notes on stderr never panic, whatever stderr is.

use std::io::Write;
use std::path::{Path, PathBuf};

use nscli::cell::Cell;
use nscli::columns::Column;
use nscli::format::{self, Format, OutputArgs};
use nscli::output::Output;
use serde_json::{Map, Value};

use crate::apply::Applied;
use crate::columns::{self, CgroupColumn, ModeColumn, TreeColumn};
use crate::error::{Error, Result};
use crate::layout::{Layout, Version};
use crate::ops::Which;
use crate::show::Report;
use crate::tree;

/// One line on stderr; a closed or full stderr is ignored.
pub fn note(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `v` as one JSON document if asked for, else nothing (commands that say nothing on
/// success).
pub fn json_only<T: serde::Serialize + ?Sized>(
    out: &mut Output,
    v: &T,
    as_json: bool,
) -> Result<()> {
    if as_json {
        out.json(v)?;
    }
    Ok(())
}

/// The columns to print: `-o`, else all of them for JSON (a script gets every fact),
/// else `defaults`.
fn columns_for<C: Column>(args: &OutputArgs, defaults: &[C]) -> Result<Vec<C>> {
    let defaults = if args.json && args.output.is_none() {
        C::ALL
    } else {
        defaults
    };
    args.columns(defaults)
        .map_err(|e| Error::Usage(e.to_string()))
}

fn path_cell(p: &Path) -> Cell {
    Cell::Text(p.to_string_lossy().into_owned())
}

fn text_list(items: &[String]) -> Cell {
    Cell::List(items.iter().map(|c| Cell::text(c.as_str())).collect())
}

/// `cgctl mode`: the mode on the first line, then a row per hierarchy mount. JSON:
/// `{"mode": "...", "hierarchies": [rows]}`.
pub fn mode(
    out: &mut Output,
    layout: &Layout,
    systemd: Option<&crate::systemd::Status>,
    args: &OutputArgs,
) -> Result<()> {
    let cols = columns_for(args, columns::MODE_DEFAULT)?;
    let mut rows = Vec::new();
    for h in &layout.hierarchies {
        for m in &h.mounts {
            rows.push((h, m));
        }
    }
    let cell =
        |(h, m): &(&crate::layout::Hierarchy, &crate::layout::MountPoint), c: ModeColumn| match c {
            ModeColumn::Hierarchy => Cell::Text(h.label()),
            ModeColumn::Version => Cell::text(match h.version {
                Version::V1 => "v1",
                Version::V2 => "v2",
            }),
            ModeColumn::Mount => path_cell(&m.mount_point),
            ModeColumn::Root => Cell::text(m.root.as_str()),
            ModeColumn::Controllers => text_list(&h.controllers),
        };
    match args.format() {
        Format::Json => {
            let hierarchies = rows
                .iter()
                .map(|r| Value::Object(nscli::json::object(&cols, |c| cell(r, c))))
                .collect();
            let doc: Map<String, Value> = [
                ("mode".to_string(), Value::from(layout.mode.to_string())),
                ("hierarchies".to_string(), Value::Array(hierarchies)),
                (
                    "systemd".to_string(),
                    serde_json::to_value(systemd).unwrap_or(Value::Null),
                ),
            ]
            .into_iter()
            .collect();
            out.json(&doc)?;
        }
        format @ Format::Table(_) => {
            out.line(layout.mode)?;
            format::write_rows(out, format, "hierarchies", &cols, &rows, cell)?;
            if let Some(s) = systemd {
                out.line(crate::systemd::describe(s))?;
            }
        }
    }
    Ok(())
}

/// `cgctl limit`: the cgroups on stdout, what the kernel made of the value on stderr.
/// JSON: an array of what was applied.
pub fn limit(out: &mut Output, applied: &[Applied], as_json: bool) -> Result<()> {
    if as_json {
        out.json(applied)?;
        return Ok(());
    }
    for a in applied {
        out.line(a.cgroup.display())?;
        note(a.describe());
    }
    Ok(())
}

/// What `exec` made and applied, printed before COMMAND runs.
#[derive(serde::Serialize)]
pub struct ExecReport<'a> {
    pub cgroups: Vec<&'a Path>,
    pub applied: &'a [Applied],
}

/// `cgctl exec`, before COMMAND runs: what was set, on stderr; with `--json`, the
/// report on stdout (flushed before exec, so it comes before COMMAND's output).
pub fn exec(out: &mut Output, report: &ExecReport, as_json: bool) -> Result<()> {
    if as_json {
        out.json(report)?;
    } else {
        for a in report.applied {
            note(format!("cgctl: {}", a.describe()));
        }
    }
    out.flush()?;
    Ok(())
}

/// `cgctl show`: the report, or it as JSON.
pub fn show(out: &mut Output, report: &Report, as_json: bool) -> Result<()> {
    if as_json {
        out.json(report)?;
    } else {
        write!(out, "{}", report.render()).map_err(nscli::output::OutputError::from)?;
    }
    Ok(())
}

fn cgroup_cell(hierarchy: &str, path: &str, dir: Option<&Path>, c: CgroupColumn) -> Cell {
    match c {
        CgroupColumn::Hierarchy => Cell::text(hierarchy),
        CgroupColumn::Path => Cell::text(path),
        CgroupColumn::Dir => dir.map_or(Cell::Empty, path_cell),
    }
}

/// `cgctl ls`: a row per cgroup. JSON: `{"cgroups": [rows]}`.
pub fn ls(out: &mut Output, entries: &[tree::Entry], args: &OutputArgs) -> Result<()> {
    let cols = columns_for(args, columns::LS_DEFAULT)?;
    format::write_rows(out, args.format(), "cgroups", &cols, entries, |e, c| {
        cgroup_cell(&e.hierarchy, &e.path, Some(&e.dir), c)
    })?;
    Ok(())
}

/// `cgctl which`: a row per hierarchy. JSON: `{"cgroups": [rows]}`.
pub fn which(out: &mut Output, lines: &[Which], args: &OutputArgs) -> Result<()> {
    let cols = columns_for(args, columns::WHICH_DEFAULT)?;
    format::write_rows(out, args.format(), "cgroups", &cols, lines, |w, c| {
        cgroup_cell(&w.hierarchy, &w.path, w.dir.as_deref(), c)
    })?;
    Ok(())
}

/// A row of `tree`: a cgroup, or a process in the cgroup above it.
enum TreeRow<'a> {
    Cgroup { node: &'a tree::Node, top: bool },
    Process(&'a tree::Process),
}

fn flatten<'a>(
    node: &'a tree::Node,
    parent: Option<usize>,
    rows: &mut Vec<TreeRow<'a>>,
    parents: &mut Vec<Option<usize>>,
) {
    let me = rows.len();
    rows.push(TreeRow::Cgroup {
        node,
        top: parent.is_none(),
    });
    parents.push(parent);
    for p in &node.processes {
        rows.push(TreeRow::Process(p));
        parents.push(Some(me));
    }
    for c in &node.children {
        flatten(c, Some(me), rows, parents);
    }
}

fn tree_cell(row: &TreeRow, c: TreeColumn) -> Cell {
    match row {
        TreeRow::Cgroup { node, top } => match c {
            TreeColumn::Name if *top => Cell::Shown(
                format!("{}:{}", node.hierarchy, node.path),
                Box::new(Cell::text(node.path.as_str())),
            ),
            TreeColumn::Name => Cell::text(node.path.rsplit('/').next().unwrap_or("")),
            TreeColumn::Pid => Cell::Empty,
            TreeColumn::Hierarchy => Cell::text(node.hierarchy.as_str()),
            TreeColumn::Path => Cell::text(node.path.as_str()),
            TreeColumn::Dir => path_cell(&node.dir),
        },
        TreeRow::Process(p) => match c {
            TreeColumn::Name => Cell::Shown(
                format!("{} {}", p.pid, p.command),
                Box::new(Cell::text(p.command.as_str())),
            ),
            TreeColumn::Pid => Cell::Int(p.pid.into()),
            _ => Cell::Empty,
        },
    }
}

/// `cgctl tree`: the cgroups with their processes, drawn like systemd-cgls. JSON:
/// `{"cgroups": [rows with "children"]}`.
pub fn tree(out: &mut Output, trees: &[tree::Node], args: &OutputArgs) -> Result<()> {
    let cols = columns_for(args, columns::TREE_DEFAULT)?;
    let (mut rows, mut parents) = (Vec::new(), Vec::new());
    for t in trees {
        flatten(t, None, &mut rows, &mut parents);
    }
    format::write_tree(
        out,
        args.format(),
        "cgroups",
        &cols,
        &rows,
        &parents,
        tree_cell,
    )?;
    Ok(())
}

/// `cgctl mount`: JSON `{"dir": "...", "version": "v1"|"v2"}`.
pub fn mount(out: &mut Output, dir: &Path, v2: bool, as_json: bool) -> Result<()> {
    let version = if v2 { "v2" } else { "v1" };
    json_only(
        out,
        &serde_json::json!({ "dir": dir, "version": version }),
        as_json,
    )
}

/// `cgctl umount`: a note when the hierarchy lives on. JSON: `{"dir": "...",
/// "hidden_cgroups": N}`.
pub fn umount(out: &mut Output, dir: &Path, children: usize, as_json: bool) -> Result<()> {
    if children > 0 {
        note(format!("cgctl: note: the hierarchy still has {children} cgroup(s) and lives on, hidden, until they are removed"));
    }
    json_only(
        out,
        &serde_json::json!({ "dir": dir, "hidden_cgroups": children }),
        as_json,
    )
}

/// Directories, for `create`, `add`, `rm`, `freeze` and `thaw`: a JSON array.
pub fn dirs(out: &mut Output, dirs: &[PathBuf], as_json: bool) -> Result<()> {
    json_only(out, dirs, as_json)
}
