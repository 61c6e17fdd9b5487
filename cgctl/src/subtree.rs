//! A cgroup and every cgroup below it, scanned and removed through directory file
//! descriptors: each system call names one entry relative to its parent's open
//! directory, instead of walking the whole path again. A leaf costs a stat (its link
//! count says whether it has children: cgroupfs keeps 2 + subdirectories), a read of
//! its `cgroup.procs`, and the `rmdir` itself.

use std::ffi::{CStr, CString, OsStr};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag, AT_FDCWD};
use nix::sys::stat::{fstatat, Mode};
use nix::unistd::{unlinkat, UnlinkatFlags};

use crate::cgroup::retry::Backoff;
use crate::error::{Error, Result};

struct Node {
    path: PathBuf,
    /// Index of the parent node; None for the top.
    parent: Option<usize>,
    name: CString,
    /// Open while the node has children to remove (the parent fd for them).
    fd: Option<Dir>,
}

/// A scanned subtree, parents before children, with the processes found in it.
pub struct Subtree {
    nodes: Vec<Node>,
    /// PIDs found in `cgroup.procs` of every cgroup of the tree when it was scanned.
    pub pids: Vec<i32>,
}

fn cstring(name: &OsStr, dir: &Path) -> Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| Error::name(dir.display().to_string(), "NUL byte"))
}

fn open_dir<Fd: AsFd>(at: Fd, name: &CStr) -> nix::Result<Dir> {
    Dir::openat(
        at,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )
}

/// Reads the PIDs of `cgroup.procs` in the directory `name` below `at`; None if the
/// cgroup is gone.
fn read_procs<Fd: AsFd>(at: Fd, name: &[u8], shown: &Path) -> Result<Option<Vec<i32>>> {
    let mut rel = name.to_vec();
    rel.extend_from_slice(b"/cgroup.procs");
    let rel = CString::new(rel).map_err(|_| Error::name(shown.display().to_string(), "NUL"))?;
    let fd = match openat(
        at,
        rel.as_c_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => {
            return Err(Error::sys(
                format!("cannot open {}/cgroup.procs", shown.display()),
                e,
            ))
        }
    };
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(&fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(Errno::ENODEV | Errno::ENOENT) => return Ok(None),
            Err(e) => {
                return Err(Error::sys(
                    format!("cannot read {}/cgroup.procs", shown.display()),
                    e,
                ))
            }
        }
    }
    Ok(Some(
        String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect(),
    ))
}

impl Subtree {
    /// Scans `dir` and everything below it. Cgroups that someone else removes while
    /// this runs are left out; `dir` itself must exist.
    pub fn scan(dir: &Path) -> Result<Subtree> {
        let top = cstring(dir.as_os_str(), dir)?;
        let pids = read_procs(AT_FDCWD, top.as_bytes(), dir)?.ok_or_else(|| Error::NoCgroup {
            name: dir.display().to_string(),
            detail: " (it was removed meanwhile)".to_string(),
        })?;
        let mut tree = Subtree {
            nodes: vec![Node {
                path: dir.to_path_buf(),
                parent: None,
                name: top.clone(),
                fd: None,
            }],
            pids,
        };
        match open_dir(AT_FDCWD, &top) {
            Ok(d) => tree.scan_children(0, d)?,
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(Error::sys(format!("cannot open {}", dir.display()), e)),
        }
        Ok(tree)
    }

    fn scan_children(&mut self, idx: usize, mut dir: Dir) -> Result<()> {
        let mut subdirs = Vec::new();
        for entry in dir.iter() {
            let entry = match entry {
                Ok(e) => e,
                Err(Errno::ENOENT) => break,
                Err(e) => {
                    return Err(Error::sys(
                        format!("cannot list {}", self.nodes[idx].path.display()),
                        e,
                    ))
                }
            };
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            match entry.file_type() {
                Some(Type::Directory) | None => subdirs.push(name.to_owned()),
                Some(_) => {}
            }
        }
        subdirs.sort();
        for name in subdirs {
            let path = self.nodes[idx]
                .path
                .join(OsStr::from_bytes(name.as_bytes()));
            // d_type unknown, or the entry went away: stat tells (and gives the links).
            let st = match fstatat(
                dir.as_fd(),
                name.as_c_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            ) {
                Ok(st) => st,
                Err(Errno::ENOENT) => continue,
                Err(e) => return Err(Error::sys(format!("cannot stat {}", path.display()), e)),
            };
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                continue;
            }
            let Some(pids) = read_procs(dir.as_fd(), name.as_bytes(), &path)? else {
                continue;
            };
            self.pids.extend(pids);
            let child = self.nodes.len();
            self.nodes.push(Node {
                path,
                parent: Some(idx),
                name: name.clone(),
                fd: None,
            });
            // cgroupfs counts 2 links for a cgroup without children; anything else
            // (children, or a count the filesystem does not keep) is looked into.
            if st.st_nlink != 2 {
                match open_dir(dir.as_fd(), &name) {
                    Ok(d) => self.scan_children(child, d)?,
                    Err(Errno::ENOENT) => {}
                    Err(e) => {
                        return Err(Error::sys(
                            format!("cannot open {}", self.nodes[child].path.display()),
                            e,
                        ))
                    }
                }
            }
        }
        if self.nodes.len() > idx + 1 {
            self.nodes[idx].fd = Some(dir);
        }
        Ok(())
    }

    /// The number of cgroups below the top one.
    pub fn descendants(&self) -> usize {
        self.nodes.len() - 1
    }

    /// Every cgroup's directory, parents first.
    pub fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.nodes.iter().map(|n| n.path.as_path())
    }

    /// Removes the tree, deepest first, retrying EBUSY (processes still leaving) for up
    /// to `patience` per cgroup. Already gone counts as removed. Keeps going past
    /// errors and returns them all.
    pub fn remove(&self, patience: Duration) -> Vec<Error> {
        let mut errors = Vec::new();
        for node in self.nodes.iter().rev() {
            let parent = node.parent.and_then(|p| self.nodes[p].fd.as_ref());
            if let Err(e) = rmdir_at(parent, node, patience) {
                errors.push(e);
            }
        }
        errors
    }
}

fn rmdir_at(parent: Option<&Dir>, node: &Node, patience: Duration) -> Result<()> {
    let rmdir = || match parent {
        Some(fd) => unlinkat(fd.as_fd(), node.name.as_c_str(), UnlinkatFlags::RemoveDir),
        None => unlinkat(AT_FDCWD, node.path.as_path(), UnlinkatFlags::RemoveDir),
    };
    match Backoff::busy(patience).retry(rmdir, |e| *e == Errno::EBUSY) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => {
            let hint = if e == Errno::EBUSY {
                " (it still has processes or child cgroups)"
            } else {
                ""
            };
            Err(Error::Sys {
                what: format!("cannot remove cgroup {}", node.path.display()),
                source: e,
                hint: hint.to_string(),
            })
        }
    }
}
