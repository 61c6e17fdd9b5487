//! The state directory, handled as a directory that others might try to tamper with:
//! every file is opened relative to a directory fd and never through a symlink
//! (`O_NOFOLLOW`); a file is written under a fresh, unpredictable name created with
//! `O_EXCL` and then renamed (or hard-linked, which never replaces) into place; only a
//! hint whose reader tolerates a torn write is rewritten in place, and only when it is a
//! plain file of ours with one link. Directories are made 0700, and one writable by
//! others without the sticky bit (or owned by another user) is refused.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};
use nix::unistd::UnlinkatFlags;

use crate::error::Error;

/// The start of every temporary file's name; what `clean` removes.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// A directory opened by fd; `path` is for messages only.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

fn file_error(what: &'static str, path: PathBuf, errno: Errno) -> Error {
    Error::File {
        what,
        path,
        source: errno.into(),
    }
}

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// Refuses a directory others could plant files in or swap: writable by group or others
/// without the sticky bit; with `own`, also one owned by another user.
fn check_dir(st: &FileStat, path: &Path, own: bool) -> Result<(), Error> {
    let mode = st.st_mode;
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(Error::invalid(format!(
            "refusing state directory {}: {} is writable by others (mode {:o}) without the sticky bit",
            path.display(),
            path.display(),
            mode & 0o7777
        )));
    }
    if own && st.st_uid != nix::unistd::geteuid().as_raw() {
        return Err(Error::invalid(format!(
            "refusing state directory {}: owned by uid {}, not by the user running netns-bridge",
            path.display(),
            st.st_uid
        )));
    }
    Ok(())
}

/// Whether a file of `uid` may lead to the state directory: root's or ours. Anyone
/// else who owns a parent can rename the state directory away and put their own, or a
/// symbolic link, in its place.
fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == nix::unistd::geteuid().as_raw()
}

/// Every parent of `path` must be safe too: one writable by others without the sticky
/// bit, or owned by another user, lets them replace the state directory. And neither the
/// path nor a parent may be a symbolic link another user owns (planted, say, in /tmp):
/// it would lead wherever that user wants.
fn check_parents(path: &Path) -> Result<(), Error> {
    for (i, component) in path.ancestors().enumerate() {
        if component.as_os_str().is_empty() {
            continue;
        }
        let link = match nix::sys::stat::lstat(component) {
            Ok(st) => st,
            // Made later, 0700.
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(file_error("cannot inspect", component.to_path_buf(), e)),
        };
        if link.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFLNK.bits()
            && !trusted_owner(link.st_uid)
        {
            return Err(Error::invalid(format!(
                "refusing state directory {}: {} is a symbolic link owned by uid {}",
                path.display(),
                component.display(),
                link.st_uid
            )));
        }
        if i == 0 {
            // The directory itself is checked once it is open.
            continue;
        }
        let st = match nix::sys::stat::stat(component) {
            Ok(st) => st,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(file_error("cannot inspect", component.to_path_buf(), e)),
        };
        check_dir(&st, component, false).map_err(|_| {
            Error::invalid(format!(
                "refusing state directory {}: its parent {} is writable by others (mode {:o}) without the sticky bit",
                path.display(),
                component.display(),
                st.st_mode & 0o7777
            ))
        })?;
        if !trusted_owner(st.st_uid) {
            return Err(Error::invalid(format!(
                "refusing state directory {}: its parent {} is owned by uid {}, who could replace what is in it",
                path.display(),
                component.display(),
                st.st_uid
            )));
        }
    }
    Ok(())
}

/// A name no one can guess: the prefix, a tag, and 16 random hex digits.
fn temp_name(tag: &str) -> String {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    let mut value = u64::from_ne_bytes(bytes);
    if got != bytes.len() as isize {
        // No entropy source: still unique, and O_EXCL refuses anything planted.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        value = now ^ (u64::from(std::process::id()) << 40);
    }
    format!("{TEMP_PREFIX}{tag}-{value:016x}")
}

impl Dir {
    /// Opens the state root at `path` after checking it and its parents; with `create`,
    /// makes it (0700) when missing. `None`: it does not exist and `create` is false.
    pub fn open_root(path: &Path, create: bool) -> Result<Option<Dir>, Error> {
        let path = std::path::absolute(path).map_err(|e| Error::File {
            what: "cannot resolve",
            path: path.to_path_buf(),
            source: e,
        })?;
        check_parents(&path)?;
        if create {
            match std::fs::symlink_metadata(&path) {
                Ok(_) => {}
                Err(_) => {
                    use std::os::unix::fs::DirBuilderExt;
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(&path)
                        .map_err(|e| Error::File {
                            what: "cannot create state directory",
                            path: path.clone(),
                            source: e,
                        })?;
                }
            }
        }
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        // A symbolic link planted since the check is not followed either.
        let fd = match nix::fcntl::open(&path, flags | OFlag::O_NOFOLLOW, Mode::empty()) {
            Err(Errno::ELOOP) => {
                check_parents(&path)?;
                nix::fcntl::open(&path, flags, Mode::empty())
            }
            other => other,
        };
        let fd = match fd {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if !create => return Ok(None),
            Err(e) => return Err(file_error("cannot open state directory", path, e)),
        };
        let dir = Dir { fd, path };
        dir.check()?;
        Ok(Some(dir))
    }

    fn check(&self) -> Result<(), Error> {
        let st = nix::sys::stat::fstat(self.fd.as_fd())
            .map_err(|e| file_error("cannot inspect", self.path.clone(), e))?;
        check_dir(&st, &self.path, true)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory `name` inside, never through a symlink; with `create`, made 0700
    /// when missing. `None`: not there and `create` is false.
    pub fn child(&self, name: &str, create: bool) -> Result<Option<Dir>, Error> {
        let path = self.path.join(name);
        let mut made = false;
        if create {
            match nix::sys::stat::mkdirat(self.fd.as_fd(), name, Mode::from_bits_truncate(0o700)) {
                Ok(()) => made = true,
                Err(Errno::EEXIST) => {}
                Err(e) => return Err(file_error("cannot create state directory", path, e)),
            }
        }
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = match nix::fcntl::openat(self.fd.as_fd(), name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if made => {
                // Not left behind empty.
                self.remove_dir(name);
                return Err(file_error("cannot open state directory", path, e));
            }
            Err(Errno::ENOENT) => return Ok(None),
            Err(e @ (Errno::ELOOP | Errno::ENOTDIR)) => {
                return Err(Error::invalid(format!(
                    "refusing state directory {}: not a directory ({})",
                    path.display(),
                    e.desc()
                )))
            }
            Err(e) => return Err(file_error("cannot open state directory", path, e)),
        };
        let dir = Dir { fd, path };
        dir.check()?;
        Ok(Some(dir))
    }

    /// Opens the lock file `name` for `flock`, never through a symlink; with `create`,
    /// makes it (0600) when missing. It must be a plain file of ours with one link.
    pub fn lock_file(&self, name: &str, create: bool) -> Result<Option<File>, Error> {
        let path = self.path.join(name);
        let mut flags = OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        if create {
            flags |= OFlag::O_CREAT;
        }
        let fd = match nix::fcntl::openat(
            self.fd.as_fd(),
            name,
            flags,
            Mode::from_bits_truncate(0o600),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if !create => return Ok(None),
            Err(Errno::ELOOP) => {
                return Err(Error::invalid(format!(
                    "refusing lock file {}: it is a symlink",
                    path.display()
                )))
            }
            Err(e) => return Err(file_error("cannot open lock file", path, e)),
        };
        let st = nix::sys::stat::fstat(fd.as_fd())
            .map_err(|e| file_error("cannot inspect", path.clone(), e))?;
        let regular = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG;
        if !regular || st.st_nlink != 1 || st.st_uid != nix::unistd::geteuid().as_raw() {
            return Err(Error::invalid(format!(
                "refusing lock file {}: not a plain file of netns-bridge's with one link",
                path.display()
            )));
        }
        Ok(Some(File::from(fd)))
    }

    /// The (device, inode) of the entry `name`, not following a symlink.
    pub fn identity(&self, name: &str) -> Option<(u64, u64)> {
        nix::sys::stat::fstatat(self.fd.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW)
            .ok()
            .map(|st| (st.st_dev, st.st_ino))
    }

    /// Whether the directory itself is still linked (not removed meanwhile).
    pub fn linked(&self) -> bool {
        nix::sys::stat::fstat(self.fd.as_fd()).is_ok_and(|st| st.st_nlink > 0)
    }

    /// Reads the file `name`; `None` when it is not there. A symlink is refused.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = self.path.join(name);
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = match nix::fcntl::openat(self.fd.as_fd(), name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(file_error("cannot read", path, e)),
        };
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut File::from(fd), &mut text).map_err(|e| Error::File {
            what: "cannot read",
            path,
            source: e,
        })?;
        Ok(Some(text))
    }

    /// Replaces the file `name` with `bytes` atomically: written to a new file under an
    /// unpredictable name (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), then renamed over it.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        self.stage(name, bytes)?.place()
    }

    /// Writes `bytes` to a new file under a fresh, unpredictable name, to be linked or
    /// renamed into place by the [`Staged`] returned (removed if it never is).
    pub fn stage(&self, name: &str, bytes: &[u8]) -> Result<Staged<'_>, Error> {
        let path = self.path.join(name);
        let temp = self.temp_file(name, bytes, &path)?;
        Ok(Staged {
            dir: self,
            temp: Some(temp),
            name: name.to_string(),
        })
    }

    /// Renames the file `from` to `to`, replacing what is at `to` (never followed).
    pub fn rename(&self, from: &str, to: &str) -> Result<(), Error> {
        nix::fcntl::renameat(self.fd.as_fd(), from, self.fd.as_fd(), to)
            .map_err(|e| file_error("cannot rename", self.path.join(from), e))
    }

    /// Replaces the contents of the file `name` in place when it is a plain file of ours
    /// with one link (opened O_NOFOLLOW; no new inode, no rename), else as [`Dir::write`]
    /// does: one write, then the file is cut to its length. Not atomic: only for a hint
    /// whose reader ignores what follows it (a kill can leave the old text's tail).
    pub fn overwrite(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        let flags = OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let Ok(fd) = nix::fcntl::openat(self.fd.as_fd(), name, flags, Mode::empty()) else {
            return self.write(name, bytes);
        };
        let plain = nix::sys::stat::fstat(fd.as_fd()).is_ok_and(|st| {
            SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG
                && st.st_nlink == 1
                && st.st_uid == nix::unistd::geteuid().as_raw()
        });
        if !plain {
            return self.write(name, bytes);
        }
        let file = File::from(fd);
        let path = self.path.join(name);
        std::os::unix::fs::FileExt::write_all_at(&file, bytes, 0)
            .and_then(|()| file.set_len(bytes.len() as u64))
            .map_err(|e| file_error("cannot write", path, io_errno(&e)))
    }

    /// Creates an empty file under a fresh, unpredictable name (O_CREAT|O_EXCL|
    /// O_NOFOLLOW, 0600) for `name`; returns that name and the file, open for writing.
    pub fn create_temp(&self, name: &str) -> Result<(String, File), Error> {
        let temp = temp_name(name);
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = nix::fcntl::openat(
            self.fd.as_fd(),
            temp.as_str(),
            flags,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| file_error("cannot write", self.path.join(name), e))?;
        Ok((temp, File::from(fd)))
    }

    /// Hard-links the file `from` as `to` too, if no entry has that name (a symlink
    /// included); whether it did.
    pub fn link(&self, from: &str, to: &str) -> Result<bool, Error> {
        match nix::unistd::linkat(self.fd.as_fd(), from, self.fd.as_fd(), to, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(Errno::EEXIST) => Ok(false),
            Err(e) => Err(file_error("cannot create", self.path.join(to), e)),
        }
    }

    /// Writes `bytes` to a new file under an unpredictable name; returns the name.
    fn temp_file(&self, name: &str, bytes: &[u8], path: &Path) -> Result<String, Error> {
        let (temp, mut file) = self.create_temp(name)?;
        if let Err(e) = file.write_all(bytes) {
            let _ = self.remove(&temp);
            return Err(file_error("cannot write", path.to_path_buf(), io_errno(&e)));
        }
        Ok(temp)
    }

    /// Removes the file `name`; one that is not there is success.
    pub fn remove(&self, name: &str) -> Result<(), Error> {
        match nix::unistd::unlinkat(self.fd.as_fd(), name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(file_error("cannot remove", self.path.join(name), e)),
        }
    }

    /// Removes the temporary files a killed writer left behind.
    pub fn clean(&self) -> Result<(), Error> {
        for name in self.names()? {
            if name.starts_with(TEMP_PREFIX) {
                self.remove(&name)?;
            }
        }
        Ok(())
    }

    /// Removes the empty directory `name` inside; whether it went (one that is gone or
    /// not empty stays as it is).
    pub fn remove_dir(&self, name: &str) -> bool {
        nix::unistd::unlinkat(self.fd.as_fd(), name, UnlinkatFlags::RemoveDir).is_ok()
    }

    /// The names of the entries.
    pub fn names(&self) -> Result<Vec<String>, Error> {
        let proc = PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()));
        let entries = std::fs::read_dir(&proc).map_err(|e| Error::File {
            what: "cannot read state directory",
            path: self.path.clone(),
            source: e,
        })?;
        Ok(entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect())
    }
}

/// A file written under a temporary name by [`Dir::stage`]: hard-linked to other names
/// (each link made only where no name is, a symlink included), then renamed into place.
/// Dropped before, it is removed (its links stay).
pub struct Staged<'a> {
    dir: &'a Dir,
    temp: Option<String>,
    /// The name it is staged for.
    name: String,
}

impl Staged<'_> {
    /// Links the file as `name` too, if no entry has that name; whether it did.
    pub fn link_as(&self, name: &str) -> Result<bool, Error> {
        match &self.temp {
            Some(temp) => self.dir.link(temp, name),
            None => Ok(false),
        }
    }

    /// Renames the file to the name it was staged for, replacing what is there.
    pub fn place(mut self) -> Result<(), Error> {
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        // No fsync: the state describes links that do not survive a reboot either.
        let placed = nix::fcntl::renameat(
            self.dir.fd.as_fd(),
            temp.as_str(),
            self.dir.fd.as_fd(),
            self.name.as_str(),
        );
        if let Err(e) = placed {
            let _ = self.dir.remove(&temp);
            return Err(file_error(
                "cannot write",
                self.dir.path.join(&self.name),
                e,
            ));
        }
        Ok(())
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = self.dir.remove(&temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_never_follow_a_symlink_at_any_name() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = Dir::open_root(root.path(), false)
            .expect("open")
            .expect("exists");
        let victim = root.path().join("victim");
        std::fs::write(&victim, b"precious").expect("victim");
        std::os::unix::fs::symlink(&victim, root.path().join("state.json")).expect("link");
        dir.write("state.json", b"new")
            .expect("write replaces the link");
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert_eq!(
            std::fs::read(root.path().join("state.json")).expect("new"),
            b"new"
        );
        std::os::unix::fs::symlink(&victim, root.path().join("lock")).expect("link");
        assert!(matches!(
            dir.lock_file("lock", true),
            Err(Error::Invalid(_))
        ));
        assert!(dir.read("lock").is_err());
        assert!(!dir
            .names()
            .expect("names")
            .iter()
            .any(|n| n.starts_with(TEMP_PREFIX)));
    }

    #[test]
    fn a_link_never_replaces_and_never_follows() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = Dir::open_root(root.path(), false)
            .expect("open")
            .expect("exists");
        let one = dir.stage("one", b"one").expect("stage");
        assert!(one.link_as("claim").expect("link"));
        one.place().expect("place");
        let two = dir.stage("two", b"two").expect("stage");
        assert!(!two.link_as("claim").expect("taken"));
        drop(two);
        assert_eq!(dir.read("claim").expect("read"), Some(b"one".to_vec()));
        assert_eq!(dir.identity("claim"), dir.identity("one"));
        assert!(dir.read("two").expect("read").is_none());
        let victim = root.path().join("victim");
        std::fs::write(&victim, b"precious").expect("victim");
        std::os::unix::fs::symlink(&victim, root.path().join("planted")).expect("link");
        let x = dir.stage("x", b"x").expect("stage");
        assert!(!x.link_as("planted").expect("a link is taken"));
        drop(x);
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert!(!dir
            .names()
            .expect("names")
            .iter()
            .any(|n| n.starts_with(TEMP_PREFIX)));
    }

    #[test]
    fn temp_names_differ() {
        assert_ne!(temp_name("x"), temp_name("x"));
        assert!(temp_name("state.json").starts_with(".tmp-state.json-"));
    }

    #[test]
    fn a_directory_writable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("tempdir");
        let open = root.path().join("open");
        std::fs::create_dir(&open).expect("mkdir");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let e = Dir::open_root(&open.join("state"), true).expect_err("parent refused");
        assert!(e.to_string().contains("writable by others"), "{e}");
        assert!(!open.join("state").exists());
        let e = Dir::open_root(&open, false).expect_err("itself refused");
        assert!(matches!(e, Error::Invalid(_)), "{e}");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        let dir = Dir::open_root(&open.join("state"), true).expect("sticky parent is fine");
        let meta = std::fs::metadata(open.join("state")).expect("made");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        let child = dir
            .expect("dir")
            .child("br0", true)
            .expect("child")
            .expect("made");
        assert_eq!(
            std::fs::metadata(child.path())
                .expect("child")
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }
}
