//! Reading cgroup files by path (for reports), making and removing cgroup
//! directories. Writes go through [`crate::cgroup::CgroupDir`].

use nscli::error::Context;
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use crate::cgroup::retry::Backoff;
use crate::error::{io_errno, Error, Result};

/// Reads a cgroup file.
pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::file("read", path, e))
}

/// Reads a cgroup file, None if it does not exist.
pub fn read_opt(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Reads a file holding one number.
pub fn read_u64(path: &Path) -> Option<u64> {
    read_opt(path)?.trim().parse().ok()
}

/// Reads `KEY VALUE` lines (cpu.stat, memory.events, cgroup.events) and returns KEY's value.
pub fn read_key(path: &Path, key: &str) -> Option<u64> {
    find_key(&read_opt(path)?, key)
}

/// KEY's value in the `KEY VALUE` lines of `text`.
pub fn find_key(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Creates one cgroup directory. Ok(true) if created, Ok(false) if it existed.
pub fn mkdir(path: &Path) -> Result<bool> {
    match std::fs::create_dir(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if path.is_dir() {
                Ok(false)
            } else {
                Err(Error::file("create cgroup", path, e))
            }
        }
        Err(e) => Err(Error::file("create cgroup", path, e)),
    }
}

/// Opens a directory to make cgroups in with [`mkdir_at`].
pub fn open_dir(dir: &Path) -> Result<OwnedFd> {
    nix::fcntl::open(
        dir,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .context(|| format!("cannot open {}", dir.display()))
    .map_err(Error::from)
}

/// Creates the cgroup `name` in the open directory `parent` (`path` is its full path,
/// for messages). Ok(true) if created, Ok(false) if a cgroup of that name existed.
pub fn mkdir_at(parent: &OwnedFd, name: &OsStr, path: &Path) -> Result<bool> {
    match nix::sys::stat::mkdirat(parent, name, Mode::from_bits_truncate(0o755)) {
        Ok(()) => Ok(true),
        Err(Errno::EEXIST) if path.is_dir() => Ok(false),
        Err(e) => Err(Error::File {
            op: "create cgroup",
            path: path.to_path_buf(),
            source: std::io::Error::from_raw_os_error(e as i32),
            hint: String::new(),
        }),
    }
}

/// Removes one cgroup directory, retrying EBUSY (processes still leaving) with backoff
/// for up to `patience`. A cgroup that is already gone counts as removed.
pub fn rmdir(path: &Path, patience: Duration) -> Result<()> {
    let busy = Backoff::busy(patience);
    match busy.retry(
        || std::fs::remove_dir(path),
        |e| io_errno(e) == Errno::EBUSY,
    ) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => {
            let hint = if io_errno(&e) == Errno::EBUSY {
                " (it still has processes or child cgroups)".to_string()
            } else {
                String::new()
            };
            Err(Error::File {
                op: "remove cgroup",
                path: path.to_path_buf(),
                source: e,
                hint,
            })
        }
    }
}

/// The child cgroups of `dir` (directories), sorted by name.
pub fn children(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::file("list", dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::file("list", dir, e))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// `dir` and every cgroup below it, parents before children. A cgroup below `dir`
/// that someone else removes meanwhile is left out, not an error.
pub fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let kids = match children(&out[i]) {
            Ok(kids) => kids,
            Err(e) if i > 0 && e.errno() == Some(Errno::ENOENT) => Vec::new(),
            Err(e) => return Err(e),
        };
        out.extend(kids);
        i += 1;
    }
    Ok(out)
}

/// Directories this call created, removed again (deepest first) when dropped unless
/// [`Created::keep`] was called: a failure halfway leaves nothing behind.
#[derive(Default)]
pub struct Created {
    dirs: Vec<PathBuf>,
}

impl Created {
    pub fn push(&mut self, dir: PathBuf) {
        self.dirs.push(dir);
    }

    /// The directories made, in order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The work succeeded: keep what was made.
    pub fn keep(mut self) {
        self.dirs.clear();
    }
}

impl Drop for Created {
    /// Removes what was made, deepest first; one that cannot be removed is said on
    /// stderr (it is left behind), and the others are still tried.
    fn drop(&mut self) {
        for dir in self.dirs.iter().rev() {
            if let Err(e) = rmdir(dir, Duration::from_millis(500)) {
                nscli::report::error("cgctl", &format!("left behind: {e}"));
            }
        }
    }
}
