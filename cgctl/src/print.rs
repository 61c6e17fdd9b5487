//! What cgctl prints: each command's result as text or, with `--json`, as JSON. All
//! presentation is here, so that a shared output layer can replace it in one place.

use std::io::Write;

use crate::apply::Applied;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::ops::Which;
use crate::show::Report;
use crate::tree;

/// Prints `v` as pretty JSON on stdout.
pub fn json<T: serde::Serialize>(v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v)
        .map_err(|e| Error::Output(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Prints `v` as JSON if asked for, else nothing (commands that say nothing on success).
pub fn json_only<T: serde::Serialize>(v: &T, as_json: bool) -> Result<()> {
    if as_json {
        json(v)?;
    }
    Ok(())
}

/// `cgctl mode`: the mode, then a line per hierarchy mount.
pub fn mode(layout: &Layout, as_json: bool) -> Result<()> {
    if as_json {
        return json(layout);
    }
    let mut out = format!("{}\n", layout.mode);
    for h in &layout.hierarchies {
        for m in &h.mounts {
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                h.label(),
                m.mount_point.display(),
                if h.controllers.is_empty() {
                    "-".to_string()
                } else {
                    h.controllers.join(",")
                }
            ));
        }
    }
    print!("{out}");
    Ok(())
}

/// `cgctl limit`: the cgroups on stdout, what the kernel made of the value on stderr.
pub fn limit(applied: &[Applied], as_json: bool) -> Result<()> {
    if as_json {
        return json(&applied);
    }
    let mut out = std::io::stdout().lock();
    for a in applied {
        let _ = writeln!(out, "{}", a.cgroup.display());
        eprintln!("{}", a.describe());
    }
    Ok(())
}

/// `cgctl exec`, before COMMAND runs: what was set, on stderr.
pub fn exec_limits(applied: &[Applied]) {
    for a in applied {
        eprintln!("cgctl: {}", a.describe());
    }
}

/// `cgctl show`.
pub fn show(report: &Report, as_json: bool) -> Result<()> {
    if as_json {
        return json(report);
    }
    print!("{}", report.render());
    Ok(())
}

/// `cgctl ls`: `HIERARCHY:PATH` a line.
pub fn ls(entries: &[tree::Entry], as_json: bool) -> Result<()> {
    if as_json {
        return json(&entries);
    }
    let mut out = std::io::stdout().lock();
    for e in entries {
        let _ = writeln!(out, "{}:{}", e.hierarchy, e.path);
    }
    Ok(())
}

/// `cgctl tree`.
pub fn tree(trees: &[tree::Node], as_json: bool) -> Result<()> {
    if as_json {
        return json(&trees);
    }
    for t in trees {
        print!("{}", tree::render(t));
    }
    Ok(())
}

/// `cgctl which`: hierarchy, path and directory, tab-separated.
pub fn which(lines: &[Which], as_json: bool) -> Result<()> {
    if as_json {
        return json(&lines);
    }
    for w in lines {
        let dir = w
            .dir
            .as_ref()
            .map_or("-".to_string(), |d| d.display().to_string());
        println!("{}\t{}\t{dir}", w.hierarchy, w.path);
    }
    Ok(())
}

/// `cgctl umount`: a note when the hierarchy lives on.
pub fn umount_note(children: usize) {
    if children > 0 {
        eprintln!("cgctl: note: the hierarchy still has {children} cgroup(s) and lives on, hidden, until they are removed");
    }
}
