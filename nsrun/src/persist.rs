//! Keeping a namespace alive after its processes end by bind-mounting its nsfs file
//! (`/proc/PID/ns/KIND`) on a file, as `unshare --net=FILE` and `ip netns add` do.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::Pid;

use crate::error::Error;
use nsproc::Kind;

/// Checks, before anything is created, that each target exists and is not a directory.
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
