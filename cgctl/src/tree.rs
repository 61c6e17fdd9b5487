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

/// What `tree` shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct TreeOptions {
    /// Levels of cgroups below the top one (None: all).
    pub depth: Option<usize>,
    /// Processes too.
    pub procs: bool,
    /// Kernel threads too.
    pub kernel: bool,
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

/// The tree below `dir`, with processes as `opts` says.
pub fn tree(label: &str, path: &str, dir: &Path, opts: TreeOptions) -> Result<Node> {
    let mut processes = Vec::new();
    // A cgroup may vanish while we read; show what is there.
    let pids = if opts.procs {
        procs::pids(dir).unwrap_or_default()
    } else {
        Vec::new()
    };
    for pid in pids {
        let Ok(proc) = nsproc::Process::open(pid) else {
            continue;
        };
        if !opts.kernel && proc.is_kernel_thread().unwrap_or(false) {
            continue;
        }
        if let Some(command) = procs::command_of(&proc) {
            processes.push(Process { pid, command });
        }
    }
    let mut children = Vec::new();
    let below = match opts.depth {
        Some(0) => Vec::new(),
        _ => cgfs::children(dir).unwrap_or_default(),
    };
    let opts = TreeOptions {
        depth: opts.depth.map(|d| d.saturating_sub(1)),
        ..opts
    };
    for child in below {
        let name = child
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        children.push(tree(label, &join_cgroup(path, &name), &child, opts)?);
    }
    Ok(Node {
        hierarchy: label.to_string(),
        path: path.to_string(),
        dir: dir.to_path_buf(),
        processes,
        children,
    })
}
