//! `--pid-file`: the child's PID, written atomically and removed when nsrun ends.
//!
//! The directory may be writable by others (`/tmp`), so nothing is ever written through a
//! name someone else could have planted: the PID goes into a new file under a random name,
//! made with `O_CREAT|O_EXCL|O_NOFOLLOW` relative to a descriptor of the directory, which
//! is then renamed over FILE within that same directory. At exit FILE is removed only if
//! it is still the very file nsrun made (same device and inode).

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, Mode, SFlag};
use nix::unistd::{unlinkat, Pid, UnlinkatFlags};

use crate::error::Error;

pub struct PidFile {
    dir: OwnedFd,
    name: OsString,
    /// (st_dev, st_ino) of the file nsrun wrote.
    id: (u64, u64),
}

/// The directory `path` is in, and its last component.
fn split(path: &Path) -> Result<(PathBuf, OsString), Error> {
    let name = path.file_name().ok_or_else(|| {
        Error::Usage(format!(
            "--pid-file {} does not name a file",
            path.display()
        ))
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_os_string()))
}

/// Refuses, before anything is made, a FILE that is a symbolic link or not a regular
/// file: nsrun would replace it, and whoever planted it may expect it to be written.
pub fn check(path: &Path) -> Result<(), Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(refused(path, "a symbolic link")),
        Ok(meta) if !meta.file_type().is_file() => Err(refused(path, "not a regular file")),
        _ => Ok(()),
    }
}

fn refused(path: &Path, what: &str) -> Error {
    Error::Refused(format!(
        "--pid-file {} is {what}; nsrun writes only regular files it makes itself \
         (remove it first)",
        path.display()
    ))
}

impl PidFile {
    /// Writes `pid` to a new file under a random name beside `path`, then renames it into
    /// place, so a reader never sees a partial file.
    pub fn create(path: &Path, pid: Pid) -> Result<Self, Error> {
        let (dir_path, name) = split(path)?;
        let fail = |path: &Path, errno: Errno| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::from_raw_os_error(errno as i32),
            hint: "",
        };
        let dir = nix::fcntl::open(
            &dir_path,
            OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| fail(path, e))?;
        let (tmp, file) = create_temporary(&dir, &name).map_err(|e| fail(path, e))?;
        let mut guard = Temporary {
            dir: &dir,
            name: &tmp,
            renamed: false,
        };
        let tmp_path = dir_path.join(&tmp);
        let mut file = std::fs::File::from(file);
        file.write_all(format!("{pid}\n").as_bytes())
            .map_err(|e| fail(&tmp_path, crate::error::io_errno(&e)))?;
        let st = fstat(&file).map_err(|e| fail(&tmp_path, e))?;
        drop(file);
        renameat(&dir, tmp.as_os_str(), &dir, name.as_os_str()).map_err(|e| fail(path, e))?;
        guard.renamed = true;
        drop(guard);
        Ok(PidFile {
            dir,
            name,
            id: (st.st_dev, st.st_ino),
        })
    }
}

/// Creates `.NAME.nsrun-RANDOM` in `dir`, never following or reusing an existing name.
fn create_temporary(dir: &OwnedFd, name: &OsStr) -> Result<(OsString, OwnedFd), Errno> {
    let mut tries = 0;
    loop {
        let tmp = temporary_name(name, random()?);
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        match openat(dir, tmp.as_os_str(), flags, Mode::from_bits_truncate(0o644)) {
            Ok(fd) => return Ok((tmp, fd)),
            Err(Errno::EEXIST) if tries < 16 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

fn temporary_name(name: &OsStr, random: u64) -> OsString {
    let mut tmp = OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".nsrun-{random:016x}"));
    tmp
}

fn random() -> Result<u64, Errno> {
    let mut buf = [0u8; 8];
    // SAFETY: the pointer and length describe `buf`.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    Errno::result(n)?;
    Ok(u64::from_ne_bytes(buf))
}

/// A temporary file removed again if it was not renamed into place.
struct Temporary<'a> {
    dir: &'a OwnedFd,
    name: &'a OsStr,
    renamed: bool,
}

impl Drop for Temporary<'_> {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = unlinkat(self.dir, self.name, UnlinkatFlags::NoRemoveDir);
        }
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Leave the name alone if something else has replaced the file since.
        let ours = fstatat(
            &self.dir,
            self.name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .is_ok_and(|st| {
            SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG
                && (st.st_dev, st.st_ino) == self.id
        });
        if ours {
            if let Err(e) = unlinkat(&self.dir, self.name.as_os_str(), UnlinkatFlags::NoRemoveDir) {
                let name = self.name.to_string_lossy();
                let what = format!("cannot remove the PID file {name}: {}", e.desc());
                nscli::report::error("nsrun", &what);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_hidden_and_unpredictable() {
        let a = temporary_name(OsStr::new("pid"), random().unwrap());
        let b = temporary_name(OsStr::new("pid"), random().unwrap());
        assert!(a.to_string_lossy().starts_with(".pid.nsrun-"), "{a:?}");
        assert_eq!(a.len(), ".pid.nsrun-".len() + 16);
        assert_ne!(a, b);
    }

    #[test]
    fn writes_and_removes_only_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pid");
        let file = PidFile::create(&path, Pid::from_raw(42)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "42\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "a temporary file was left");
        drop(file);
        assert!(!path.exists());

        // Replaced by another file with the same contents: not nsrun's to remove.
        let file = PidFile::create(&path, Pid::from_raw(42)).unwrap();
        std::fs::rename(&path, dir.path().join("moved")).unwrap();
        std::fs::write(&path, "42\n").unwrap();
        drop(file);
        assert!(path.exists());
    }

    #[test]
    fn refuses_symbolic_links_and_special_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(check(&link), Err(Error::Refused(_))));
        assert!(matches!(check(dir.path()), Err(Error::Refused(_))));
        assert!(check(&target).is_ok());
        assert!(check(&dir.path().join("new")).is_ok());
        // Even unchecked, a link at FILE is replaced, never written through.
        drop(PidFile::create(&link, Pid::from_raw(7)).unwrap());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }

    #[test]
    fn split_names_the_directory() {
        assert_eq!(
            split(Path::new("pid")).unwrap(),
            (PathBuf::from("."), OsString::from("pid"))
        );
        assert_eq!(
            split(Path::new("/run/x.pid")).unwrap(),
            (PathBuf::from("/run"), OsString::from("x.pid"))
        );
        assert!(split(Path::new("/")).is_err());
    }
}
