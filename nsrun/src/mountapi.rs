//! The calls of the new mount API (Linux 5.2, `mount_setattr` 5.12) nsrun uses, and path
//! resolution that never leaves a root directory (`openat2` with `RESOLVE_IN_ROOT`).
//! Mounts are made on file descriptors, so no path is looked up twice.

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::mount::{mount, MsFlags};
use nix::sys::stat::Mode;

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
const MOUNT_ATTR_RDONLY: u64 = 0x1;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// A detached copy of the mount tree at `dir`/`path` (with its submounts when
/// `recursive`), to be attached elsewhere with [`move_mount`].
pub fn open_tree(
    dir: Option<BorrowedFd<'_>>,
    path: &CStr,
    recursive: bool,
) -> Result<OwnedFd, Errno> {
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    if path.is_empty() {
        flags |= libc::AT_EMPTY_PATH as libc::c_uint;
    }
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: `path` is NUL-terminated; the kernel returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, dirfd, path.as_ptr(), flags) };
    let fd = Errno::result(fd)?;
    // SAFETY: open_tree returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Attaches the detached tree `tree` on the directory or file `target`.
pub fn move_mount(tree: BorrowedFd<'_>, target: BorrowedFd<'_>) -> Result<(), Errno> {
    let empty = c"";
    // SAFETY: both descriptors are open; the empty paths are NUL-terminated.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            empty.as_ptr(),
            target.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    Errno::result(rc).map(drop)
}

/// Makes the mount at `fd` read-only, and every mount below it when `recursive`.
pub fn make_read_only(fd: BorrowedFd<'_>, recursive: bool) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: `attr` is the kernel's struct mount_attr (version 0), passed with its size.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    Errno::result(rc).map(drop)
}

/// The path through which mount(2) reaches what `fd` refers to.
pub fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// mount(2) of a new filesystem on what `target` refers to.
pub fn mount_on(
    target: BorrowedFd<'_>,
    fstype: &str,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), Errno> {
    mount(Some(fstype), &fd_path(target), Some(fstype), flags, data)
}

/// `path` with its leading slashes removed, for lookups relative to a root descriptor.
pub fn relative(path: &Path) -> &Path {
    let rel = path.strip_prefix("/").unwrap_or(path);
    if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    }
}

/// Opens `path` below `root` as if `root` were `/`: neither `..` nor a symbolic link
/// leads out of it, and magic links (/proc/PID/fd/N) are refused.
pub fn open_in_root(root: BorrowedFd<'_>, path: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(root, relative(path), how)
}

/// The directory `path` below `root` (an `O_PATH` descriptor), made with its parents
/// (mode 0755) when missing.
pub fn make_dirs(root: BorrowedFd<'_>, path: &Path) -> Result<OwnedFd, Errno> {
    let dir = OFlag::O_PATH | OFlag::O_DIRECTORY;
    let mut current = PathBuf::new();
    let mut fd = open_in_root(root, Path::new("."), dir)?;
    for part in relative(path).components() {
        current.push(part);
        fd = match open_in_root(root, &current, dir) {
            Err(Errno::ENOENT) => {
                match nix::sys::stat::mkdirat(
                    fd.as_fd(),
                    part.as_os_str(),
                    Mode::from_bits_truncate(0o755),
                ) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(e),
                }
                open_in_root(root, &current, dir)?
            }
            other => other?,
        };
    }
    Ok(fd)
}

/// The file `path` below `root` (an `O_PATH` descriptor), made empty (mode 0644) with
/// its parent directories when missing: a place to bind-mount a file on.
pub fn make_file(root: BorrowedFd<'_>, path: &Path) -> Result<OwnedFd, Errno> {
    match open_in_root(root, path, OFlag::O_PATH) {
        Err(Errno::ENOENT) => {}
        other => return other,
    }
    let rel = relative(path);
    let (parent, name) = match (rel.parent(), rel.file_name()) {
        (Some(parent), Some(name)) => (parent, name),
        _ => return Err(Errno::EINVAL),
    };
    let dir = make_dirs(root, parent)?;
    match nix::fcntl::openat(
        dir.as_fd(),
        name,
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o644),
    ) {
        Ok(_) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(e),
    }
    open_in_root(root, path, OFlag::O_PATH)
}
