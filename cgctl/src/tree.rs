//! `cgctl ls` and `cgctl tree`: the cgroups below a cgroup, with their processes.

use std::path::{Path, PathBuf};

use crate::cgfs;
use crate::error::Result;
use crate::layout::join_cgroup;
use crate::procs;

/// One cgroup in a listing.
#[derive(Debug, serde::Serialize)]
pub struct Entry {
    pub hierarchy: String,
    pub path: String,
    pub dir: PathBuf,
}

/// A cgroup with its processes and children.
#[derive(Debug, serde::Serialize)]
pub struct Node {
    pub hierarchy: String,
    pub path: String,
    pub dir: PathBuf,
    pub processes: Vec<Process>,
    pub children: Vec<Node>,
}

#[derive(Debug, serde::Serialize)]
pub struct Process {
    pub pid: i32,
    pub command: String,
}

/// `dir` (hierarchy path `path`) and every cgroup below it, parents first.
pub fn list(label: &str, path: &str, dir: &Path) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for d in cgfs::walk(dir)? {
        let rel = d.strip_prefix(dir).unwrap_or(Path::new(""));
        out.push(Entry {
            hierarchy: label.to_string(),
            path: join_cgroup(path, &rel.to_string_lossy()),
            dir: d,
        });
    }
    Ok(out)
}

/// The tree below `dir`, with processes.
pub fn tree(label: &str, path: &str, dir: &Path) -> Result<Node> {
    let mut processes = Vec::new();
    // A cgroup may vanish while we read; show what is there.
    for pid in procs::pids(dir).unwrap_or_default() {
        if let Some(command) = procs::command(pid) {
            processes.push(Process { pid, command });
        }
    }
    let mut children = Vec::new();
    for child in cgfs::children(dir).unwrap_or_default() {
        let name = child
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        children.push(tree(label, &join_cgroup(path, &name), &child)?);
    }
    Ok(Node {
        hierarchy: label.to_string(),
        path: path.to_string(),
        dir: dir.to_path_buf(),
        processes,
        children,
    })
}
