//! Keeping a namespace alive after its processes end by bind-mounting its nsfs file
//! (`/proc/PID/ns/KIND`) on a file, as `unshare --net=FILE` and `ip netns add` do.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::Pid;

use crate::error::Error;
use nsproc::Kind;

/// Checks, before anything is created, that each target exists, is not a directory and
/// does not already hold a namespace (an nsfs mount, which a bind mount would hide).
pub fn check_targets(targets: &[(Kind, PathBuf)]) -> Result<(), Error> {
    for (kind, path) in targets {
        let fail = |source: Errno, hint: &'static str| Error::Persist {
            kind: *kind,
            path: path.clone(),
            source,
            hint,
        };
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(fail(Errno::EISDIR, " (the target must be a file)"));
            }
            Ok(meta) if meta.is_file() => refuse_held(*kind, path)?,
            Ok(_) => {}
            Err(e) => {
                return Err(fail(
                    crate::error::io_errno(&e),
                    " (create an empty file first, e.g. with touch)",
                ));
            }
        }
    }
    Ok(())
}

/// Refuses a FILE that answers the nsfs ioctls: a namespace is already kept there.
fn refuse_held(kind: Kind, path: &Path) -> Result<(), Error> {
    match nsproc::NsFile::open(path) {
        Ok(held) => Err(Error::Refused(format!(
            "--{}={}: the file already holds a {} namespace; enter it with --join {}, or \
             release it with umount {} first",
            crate::join::long_flag(kind),
            path.display(),
            held.kind(),
            path.display(),
            path.display()
        ))),
        // Not a namespace, or not readable: the bind mount will tell.
        Err(_) => Ok(()),
    }
}

/// Bind mounts made so far; unmounted again when dropped unless [`Persisted::keep`] is called.
#[derive(Default)]
pub struct Persisted {
    done: Vec<PathBuf>,
}

impl Persisted {
    /// Bind-mounts each namespace of `pid` on its target. On failure, every mount made so
    /// far is unmounted when `self` drops.
    pub fn mount(&mut self, pid: Pid, targets: &[(Kind, PathBuf)]) -> Result<(), Error> {
        for (kind, path) in targets {
            let source = nsproc::Target::Pid(pid.as_raw()).ns_path(*kind);
            mount(
                Some(&source),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|source| Error::Persist {
                kind: *kind,
                path: path.clone(),
                source,
                hint: hint(*kind, source),
            })?;
            self.done.push(path.clone());
        }
        Ok(())
    }

    /// Leaves the mounts in place for good.
    pub fn keep(mut self) {
        self.done.clear();
    }
}

impl Drop for Persisted {
    fn drop(&mut self) {
        for path in self.done.iter().rev() {
            unmount(path);
        }
    }
}

fn unmount(path: &Path) {
    // On a rollback path: the error that started it is the one nsrun ends with; this
    // one is only said.
    if let Err(e) = umount2(path, MntFlags::MNT_DETACH) {
        let what = format!(
            "cannot unmount {}: {} (release it with umount)",
            path.display(),
            e.desc()
        );
        nscli::report::error("nsrun", &what);
    }
}

fn hint(kind: Kind, err: Errno) -> &'static str {
    match (kind, err) {
        (Kind::Mount, Errno::EINVAL) => {
            " (a mount namespace can only be kept on a file whose mount is not shared with \
             the new namespace: bind-mount its directory on itself and make it private)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_file_that_holds_a_namespace() {
        let held = [(Kind::Net, PathBuf::from("/proc/self/ns/net"))];
        match check_targets(&held) {
            Err(Error::Refused(text)) => {
                assert!(text.contains("--join /proc/self/ns/net"), "{text}");
                assert!(text.contains("umount /proc/self/ns/net"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        assert!(check_targets(&[(Kind::Net, file.path().to_path_buf())]).is_ok());
        let dir = tempfile::tempdir().unwrap();
        assert!(check_targets(&[(Kind::Net, dir.path().to_path_buf())]).is_err());
    }
}
