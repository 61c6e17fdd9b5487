//! `--mask-defaults`: the paths of /proc and /sys that the OCI runtime spec's default
//! configuration and Docker hide from a container, and those they make read-only.
//! Applied below the new root, to its /proc when that is a procfs and its /sys when
//! that is a sysfs; a path the kernel does not have is skipped.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sys::stat::SFlag;

use crate::error::Error;
use crate::mountapi::{self, mount_on, move_mount, open_in_root, open_tree};

/// Hidden: a file under /dev/null, a directory under an empty read-only tmpfs.
pub const MASKED: [&str; 11] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Bound on themselves read-only, with everything below them.
pub const READ_ONLY: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Masks and write-protects the default paths below `root`.
pub fn apply(root: BorrowedFd<'_>) -> Result<(), Error> {
    let proc_ok = is_fs(root, "/proc", libc::PROC_SUPER_MAGIC);
    let sys_ok = is_fs(root, "/sys", libc::SYSFS_MAGIC);
    let wanted = |path: &str| {
        (proc_ok && path.starts_with("/proc/")) || (sys_ok && path.starts_with("/sys/"))
    };
    for path in MASKED.into_iter().filter(|p| wanted(p)) {
        mask(root, path).map_err(|e| Error::sys(format!("cannot mask {path}"), e))?;
    }
    for path in READ_ONLY.into_iter().filter(|p| wanted(p)) {
        read_only(root, path)
            .map_err(|e| Error::sys(format!("cannot make {path} read-only"), e))?;
    }
    Ok(())
}

fn is_fs(root: BorrowedFd<'_>, path: &str, magic: libc::c_long) -> bool {
    let Ok(fd) = open_in_root(root, Path::new(path), OFlag::O_PATH | OFlag::O_DIRECTORY) else {
        return false;
    };
    nix::sys::statfs::fstatfs(fd.as_fd())
        .is_ok_and(|s| s.filesystem_type().0 as libc::c_long == magic)
}

fn mask(root: BorrowedFd<'_>, path: &str) -> Result<(), Errno> {
    let target = match open_in_root(root, Path::new(path), OFlag::O_PATH | OFlag::O_NOFOLLOW) {
        Err(Errno::ENOENT) => return Ok(()),
        other => other?,
    };
    let stat = nix::sys::stat::fstat(target.as_fd())?;
    if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR {
        let flags =
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        mount_on(target.as_fd(), "tmpfs", flags, Some("mode=0555,size=4k"))
    } else {
        let null: &CStr = c"/dev/null";
        let tree = open_tree(None, null, false)?;
        move_mount(tree.as_fd(), target.as_fd())
    }
}

fn read_only(root: BorrowedFd<'_>, path: &str) -> Result<(), Errno> {
    let target = match open_in_root(root, Path::new(path), OFlag::O_PATH | OFlag::O_NOFOLLOW) {
        Err(Errno::ENOENT) => return Ok(()),
        other => other?,
    };
    let tree = open_tree(Some(target.as_fd()), c"", true)?;
    mountapi::make_read_only(tree.as_fd(), true)?;
    move_mount(tree.as_fd(), target.as_fd())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_those_of_the_oci_default_config() {
        assert!(MASKED.contains(&"/proc/kcore"));
        assert!(MASKED.contains(&"/sys/firmware"));
        assert!(READ_ONLY.contains(&"/proc/sysrq-trigger"));
        for path in MASKED.iter().chain(READ_ONLY.iter()) {
            assert!(
                path.starts_with("/proc/") || path.starts_with("/sys/"),
                "{path}"
            );
        }
    }
}
