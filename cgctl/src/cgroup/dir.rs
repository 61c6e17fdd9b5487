//! [`CgroupDir`]: a cgroup directory opened once, its filesystem checked once, and
//! every file in it opened relative to that descriptor, never through a symlink and
//! never outside it. No file is ever created: cgctl only writes files the kernel made.

use nscli::error::Context;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{openat, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;
use nix::sys::statfs::{fstatfs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};

use crate::error::{Error, Result};

/// An open cgroup directory.
#[derive(Debug)]
pub struct CgroupDir {
    fd: OwnedFd,
    path: PathBuf,
    /// Whether directories opened from this one (its parent) get the statfs check.
    checked: bool,
}

/// Set once openat2(2) turned out to be missing (kernels before 5.6).
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Opens `name` below `dir`: with openat2 and RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
/// where the kernel has it, else openat with O_NOFOLLOW (which only refuses a symlink
/// as the last component; cgroupfs has none).
fn open_beneath<Fd: AsFd>(dir: Fd, name: &str, flags: OFlag) -> nix::Result<OwnedFd> {
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        match open_resolve_beneath(dir.as_fd(), name, flags) {
            Err(Errno::ENOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
            other => return other,
        }
    }
    open_nofollow(dir, name, flags)
}

fn open_resolve_beneath<Fd: AsFd>(dir: Fd, name: &str, flags: OFlag) -> nix::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
    openat2(dir, name, how)
}

/// The fallback for kernels without openat2.
fn open_nofollow<Fd: AsFd>(dir: Fd, name: &str, flags: OFlag) -> nix::Result<OwnedFd> {
    openat(
        dir,
        name,
        flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
        Mode::empty(),
    )
}

impl CgroupDir {
    /// Opens `path` and refuses it unless it is on a cgroup (v1 or v2) filesystem.
    pub fn open(path: &Path) -> Result<CgroupDir> {
        let dir = Self::open_path(path, true)?;
        let fs = fstatfs(&dir.fd).context(|| format!("cannot statfs {}", path.display()))?;
        let t = fs.filesystem_type();
        if t == CGROUP_SUPER_MAGIC || t == CGROUP2_SUPER_MAGIC {
            Ok(dir)
        } else {
            Err(Error::Refused(format!(
                "{} is not on a cgroup filesystem; cgctl only writes inside cgroup filesystems",
                path.display()
            )))
        }
    }

    /// A directory of any filesystem, for unit tests of write plans on a temp dir.
    #[cfg(test)]
    pub fn unchecked(path: &Path) -> Result<CgroupDir> {
        Self::open_path(path, false)
    }

    fn open_path(path: &Path, checked: bool) -> Result<CgroupDir> {
        let fd = nix::fcntl::open(
            path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .context(|| format!("cannot open {}", path.display()))?;
        Ok(CgroupDir {
            fd,
            path: path.to_path_buf(),
            checked,
        })
    }

    /// The same directory, on a descriptor of its own.
    pub fn try_clone(&self) -> Result<CgroupDir> {
        Ok(CgroupDir {
            fd: self
                .fd
                .try_clone()
                .map_err(|e| Error::file("duplicate the descriptor of", &self.path, e))?,
            path: self.path.clone(),
            checked: self.checked,
        })
    }

    /// The directory's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parent cgroup directory, opened (and checked) the same way; None at `/`.
    pub fn parent(&self) -> Result<Option<CgroupDir>> {
        let Some(parent) = self.path.parent() else {
            return Ok(None);
        };
        if self.checked {
            CgroupDir::open(parent).map(Some)
        } else {
            CgroupDir::open_path(parent, false).map(Some)
        }
    }

    fn io_error(&self, op: &'static str, file: &str, e: Errno, hint: String) -> Error {
        Error::File {
            op,
            path: self.path.join(file),
            source: std::io::Error::from_raw_os_error(e as i32),
            hint,
        }
    }

    /// Reads `file`.
    pub fn read(&self, file: &str) -> Result<String> {
        let fd = open_beneath(&self.fd, file, OFlag::O_RDONLY)
            .map_err(|e| self.io_error("read", file, e, String::new()))?;
        let mut text = String::new();
        std::fs::File::from(fd)
            .read_to_string(&mut text)
            .map_err(|e| Error::file("read", self.path.join(file), e))?;
        Ok(text)
    }

    /// Reads `file`, None if it cannot be read (most often: it does not exist).
    pub fn read_opt(&self, file: &str) -> Option<String> {
        self.read(file).ok()
    }

    /// Reads a file holding one number.
    pub fn read_u64(&self, file: &str) -> Option<u64> {
        self.read_opt(file)?.trim().parse().ok()
    }

    /// Reads `KEY VALUE` lines (cgroup.events, memory.events) and returns KEY's value.
    pub fn read_key(&self, file: &str, key: &str) -> Option<u64> {
        crate::cgfs::find_key(&self.read_opt(file)?, key)
    }

    /// Whether `file` exists in the directory.
    pub fn has(&self, file: &str) -> bool {
        open_beneath(&self.fd, file, OFlag::O_PATH).is_ok()
    }

    /// Writes `value` to the existing file `file`, in one write(2). O_TRUNC, as the
    /// shell's `>` does: cgroupfs ignores it, and a plain file (tests) then holds what
    /// was written last.
    pub fn write(&self, file: &str, value: &str) -> Result<()> {
        let hint = || format!(" (writing '{}')", value.trim());
        let fd = open_beneath(&self.fd, file, OFlag::O_WRONLY | OFlag::O_TRUNC)
            .map_err(|e| self.io_error("open", file, e, String::new()))?;
        std::fs::File::from(fd)
            .write_all(value.as_bytes())
            .map_err(|e| Error::File {
                op: "write to",
                path: self.path.join(file),
                source: e,
                hint: hint(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_beneath_only() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("pids.max"), "max\n").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", tmp.path().join("link")).unwrap();
        let dir = CgroupDir::unchecked(tmp.path()).unwrap();
        assert_eq!(dir.read("pids.max").unwrap(), "max\n");
        dir.write("pids.max", "10").unwrap();
        assert_eq!(dir.read_u64("pids.max"), Some(10));
        assert!(dir.has("pids.max"));
        // never created, never through a symlink, never outside
        let err = dir.write("memory.max", "1").unwrap_err();
        assert!(err.to_string().contains("memory.max"), "{err}");
        assert!(!tmp.path().join("memory.max").exists());
        assert!(dir.read("link").is_err());
        assert!(dir.read("../x").is_err() || NO_OPENAT2.load(Ordering::Relaxed));
    }

    #[test]
    fn both_ways_of_opening_refuse_a_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("cpu.max"), "max 100000\n").unwrap();
        std::os::unix::fs::symlink("cpu.max", tmp.path().join("link")).unwrap();
        let dir = CgroupDir::unchecked(tmp.path()).unwrap();
        assert!(open_nofollow(&dir.fd, "cpu.max", OFlag::O_RDONLY).is_ok());
        assert_eq!(
            open_nofollow(&dir.fd, "link", OFlag::O_RDONLY).unwrap_err(),
            Errno::ELOOP
        );
        match open_resolve_beneath(&dir.fd, "link", OFlag::O_RDONLY) {
            Err(Errno::ENOSYS) => {}
            other => assert_eq!(other.unwrap_err(), Errno::ELOOP),
        }
        match open_resolve_beneath(&dir.fd, "../cpu.max", OFlag::O_RDONLY) {
            Err(Errno::ENOSYS) => {}
            other => assert_eq!(other.unwrap_err(), Errno::EXDEV),
        }
    }

    #[test]
    fn refuses_other_filesystems() {
        let tmp = tempfile::tempdir().unwrap();
        let err = CgroupDir::open(tmp.path()).unwrap_err();
        assert!(
            err.to_string().contains("not on a cgroup filesystem"),
            "{err}"
        );
    }
}
