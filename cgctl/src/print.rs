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

/// A row of `tree`: a cgroup, or a process in the cgroup above it, at its depth.
enum TreeRow<'a> {
    Cgroup { node: &'a tree::Node, top: bool },
    Process(&'a tree::Process, usize),
}

fn flatten<'a>(
    node: &'a tree::Node,
    parent: Option<usize>,
    depth: usize,
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
        rows.push(TreeRow::Process(p, depth + 1));
        parents.push(Some(me));
    }
    for c in &node.children {
        flatten(c, Some(me), depth + 1, rows, parents);
    }
}

/// A process's PID and command as NAME shows it, the command cut so that the line,
/// drawn at `depth` (two columns a level), fits in `width`.
fn process_name(p: &tree::Process, depth: usize, width: Option<usize>) -> String {
    let pid = p.pid.to_string();
    let command = match width {
        Some(w) => {
            let room = w.saturating_sub(2 * depth + pid.len() + 1).max(1);
            nscli::term::cut(&p.command, room)
        }
        None => p.command.clone(),
    };
    format!("{pid} {command}")
}

fn tree_cell(row: &TreeRow, c: TreeColumn, width: Option<usize>) -> Cell {
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
            TreeColumn::Unit => {
                crate::systemd::detect::unit_of(&node.path).map_or(Cell::Empty, Cell::text)
            }
        },
        TreeRow::Process(p, depth) => match c {
            TreeColumn::Name => Cell::Shown(
                process_name(p, *depth, width),
                Box::new(Cell::text(p.command.as_str())),
            ),
            TreeColumn::Pid => Cell::Int(p.pid.into()),
            _ => Cell::Empty,
        },
    }
}

/// `cgctl tree`: the cgroups with their processes, drawn like systemd-cgls; with a
/// `width`, every line is cut to it (command lines first). JSON: `{"cgroups": [rows
/// with "children"]}`, commands whole.
pub fn tree(
    out: &mut Output,
    trees: &[tree::Node],
    args: &OutputArgs,
    width: Option<usize>,
) -> Result<()> {
    let cols = columns_for(args, columns::TREE_DEFAULT)?;
    let (mut rows, mut parents) = (Vec::new(), Vec::new());
    for t in trees {
        flatten(t, None, 0, &mut rows, &mut parents);
    }
    let cell = |r: &TreeRow, c| tree_cell(r, c, width);
    let format = args.format();
    let Some(width) = width.filter(|_| !matches!(format, Format::Json)) else {
        format::write_tree(out, format, "cgroups", &cols, &rows, &parents, cell)?;
        return Ok(());
    };
    let mut text = Vec::new();
    format::write_tree(&mut text, format, "cgroups", &cols, &rows, &parents, cell)?;
    for line in String::from_utf8_lossy(&text).lines() {
        out.line(nscli::term::cut(line, width))?;
    }
    Ok(())
}

/// One event of `events --follow`, flushed at once: `TIME CGROUP KIND COUNT`, or one
/// JSON object on one line.
pub fn event(out: &mut Output, ev: &crate::watch::Event, as_json: bool) -> Result<()> {
    if as_json {
        let line = serde_json::to_string(ev).map_err(nscli::output::OutputError::from)?;
        out.line(line)?;
    } else {
        out.line(format!(
            "{} {} {} {}",
            ev.time_text,
            ev.cgroup.display(),
            ev.event,
            ev.count
        ))?;
    }
    out.flush()?;
    Ok(())
}

/// `events` without `--follow`: a line per cgroup with its counters (`-` for none).
/// JSON: `{"cgroups": [{"cgroup", "oom", "oom_kill", "max", "high", "populated",
/// "frozen"}]}`.
pub fn snapshots(out: &mut Output, snaps: &[crate::watch::Snapshot], as_json: bool) -> Result<()> {
    if as_json {
        out.json(&serde_json::json!({ "cgroups": snaps }))?;
        return Ok(());
    }
    let n = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
    let b = |v: Option<bool>| v.map_or("-", |b| if b { "yes" } else { "no" });
    for s in snaps {
        let c = &s.counters;
        out.line(format!(
            "{} oom {} oom_kill {} max {} high {} populated {} frozen {}",
            s.cgroup.display(),
            n(c.oom),
            n(c.oom_kill),
            n(c.max),
            n(c.high),
            b(c.populated),
            b(c.frozen)
        ))?;
    }
    Ok(())
}

/// `cgctl mount`: DIR on stdout (nothing with `-q`). JSON `{"dir": "...", "version":
/// "v1"|"v2"}`.
pub fn mount(out: &mut Output, dir: &Path, v2: bool, as_json: bool, quiet: bool) -> Result<()> {
    #[derive(serde::Serialize)]
    struct Mounted<'a> {
        dir: &'a Path,
        version: &'static str,
    }
    let version = if v2 { "v2" } else { "v1" };
    if as_json {
        out.json(&Mounted { dir, version })?;
    } else if !quiet {
        out.line(dir.display())?;
    }
    Ok(())
}

/// `cgctl umount`: a note when the hierarchy lives on. JSON: `{"dir": "...",
/// "hidden_cgroups": N}`.
pub fn umount(out: &mut Output, dir: &Path, children: usize, as_json: bool) -> Result<()> {
    #[derive(serde::Serialize)]
    struct Unmounted<'a> {
        dir: &'a Path,
        hidden_cgroups: usize,
    }
    if children > 0 {
        note(format!("cgctl: note: the hierarchy still has {children} cgroup(s) and lives on, hidden, until they are removed"));
    }
    json_only(
        out,
        &Unmounted {
            dir,
            hidden_cgroups: children,
        },
        as_json,
    )
}

/// What `create`, `add` or `rm` did, as its `--json` object.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub enum Done<'a> {
    /// `create`: `{"created": [dirs made]}`.
    Created { created: &'a [PathBuf] },
    /// `add`: `{"cgroups": [dirs moved into], "pids": [numbers], "threads": bool}`.
    Added {
        cgroups: &'a [PathBuf],
        pids: &'a [i32],
        threads: bool,
    },
    /// `rm`: `{"removed": [dirs of the cgroups named]}`.
    Removed { removed: &'a [PathBuf] },
}

impl Done<'_> {
    fn dirs(&self) -> &[PathBuf] {
        match self {
            Done::Created { created: d }
            | Done::Added { cgroups: d, .. }
            | Done::Removed { removed: d } => d,
        }
    }
}

/// What `create`, `add` and `rm` did: one directory a line (nothing with `-q`), so
/// scripts can chain them; with `--json`, one object (see [`Done`]).
pub fn done(out: &mut Output, done: &Done, as_json: bool, quiet: bool) -> Result<()> {
    if as_json {
        out.json(done)?;
    } else if !quiet {
        for d in done.dirs() {
            out.line(d.display())?;
        }
    }
    Ok(())
}

/// Directories, for `freeze` and `thaw`: a JSON array.
pub fn dirs(out: &mut Output, dirs: &[PathBuf], as_json: bool) -> Result<()> {
    json_only(out, dirs, as_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(done: &Done) -> Value {
        serde_json::to_value(done).expect("a JSON object")
    }

    #[test]
    fn create_add_rm_print_one_object() {
        let dirs = [PathBuf::from("/sys/fs/cgroup/memory/x")];
        assert_eq!(
            doc(&Done::Created { created: &dirs }),
            serde_json::json!({ "created": ["/sys/fs/cgroup/memory/x"] })
        );
        assert_eq!(
            doc(&Done::Added {
                cgroups: &dirs,
                pids: &[7, 9],
                threads: false
            }),
            serde_json::json!({
                "cgroups": ["/sys/fs/cgroup/memory/x"],
                "pids": [7, 9],
                "threads": false
            })
        );
        assert_eq!(
            doc(&Done::Removed { removed: &[] }),
            serde_json::json!({ "removed": [] })
        );
    }

    /// A directory that is not UTF-8 is an error to report, never a panic.
    #[test]
    fn a_path_json_cannot_hold_is_an_error() {
        use std::os::unix::ffi::OsStrExt;
        let dirs = [PathBuf::from(std::ffi::OsStr::from_bytes(b"/x/\xff"))];
        assert!(serde_json::to_value(Done::Removed { removed: &dirs }).is_err());
    }
}
