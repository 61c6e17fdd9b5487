//! The container's filesystem, built in the new mount namespace as bubblewrap builds it:
//! the new root bind-mounted on itself, every operation applied below it in the order
//! given (sources still looked up on the host), the default masks, then `pivot_root`
//! into it with the old root detached, so that nothing of it can be reached again.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;

use crate::error::Error;
use crate::fsplan::FsOp;
use crate::mask;
use crate::mountapi::{self, make_dirs, make_file, mount_on, move_mount, open_in_root, open_tree};

/// What to build below the new root.
#[derive(Clone, Copy, Debug)]
pub struct Build<'a> {
    pub ops: &'a [FsOp],
    pub mask_defaults: bool,
    pub read_only: bool,
}

/// Builds the filesystem below `root` and makes it the root of this mount namespace
/// with pivot_root(2); the old root is detached.
pub fn pivot_into(root: &Path, build: Build<'_>) -> Result<(), Error> {
    let shown = root.display();
    mount(
        Some(root),
        root,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| Error::sys(format!("cannot change root to {shown}"), e))?;
    let dir = open_root(root)?;
    apply(dir.as_fd(), build)?;
    // The operations may have mounted on the root itself: take the topmost mount.
    let dir = open_root(root)?;
    if build.read_only {
        mountapi::make_read_only(dir.as_fd(), false).map_err(|e| read_only_error(root, e))?;
    }
    nix::unistd::fchdir(&dir)
        .map_err(|e| Error::sys(format!("cannot change directory to {shown}"), e))?;
    // pivot_root(".", "."): the old root ends up stacked on the new one, and is then
    // detached from it, so that no path leads to it any more.
    nix::unistd::pivot_root(".", ".").map_err(|e| Error::Sys {
        what: format!("cannot make {shown} the root (pivot_root)"),
        source: e,
        hint: match e {
            Errno::EINVAL => " (the mounts may be shared: use --propagation private or slave)",
            _ => "",
        },
    })?;
    umount2(".", MntFlags::MNT_DETACH)
        .map_err(|e| Error::sys("cannot detach the old root (umount2)", e))?;
    nix::unistd::chdir("/").map_err(|e| Error::sys("cannot change directory to /", e))?;
    Ok(())
}

/// Applies `build` below `/` of this mount namespace, without a new root.
pub fn apply_here(build: Build<'_>) -> Result<(), Error> {
    let dir = open_root(Path::new("/"))?;
    apply(dir.as_fd(), build)?;
    if build.read_only {
        let dir = open_root(Path::new("/"))?;
        mountapi::make_read_only(dir.as_fd(), false)
            .map_err(|e| read_only_error(Path::new("/"), e))?;
    }
    Ok(())
}

fn read_only_error(root: &Path, source: Errno) -> Error {
    Error::Sys {
        what: format!("--read-only: cannot make {} read-only", root.display()),
        source,
        hint: hint(Step::Mount, source),
    }
}

fn open_root(root: &Path) -> Result<OwnedFd, Error> {
    nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::sys(format!("cannot open the new root {}", root.display()), e))
}

fn apply(root: BorrowedFd<'_>, build: Build<'_>) -> Result<(), Error> {
    for op in build.ops {
        apply_one(root, op)?;
    }
    if build.mask_defaults {
        mask::apply(root)?;
    }
    Ok(())
}

/// The step of an operation that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Creating DST (or a directory on the way) in the new root.
    Create,
    Mount,
}

type Stepped<T> = Result<T, (Step, Errno)>;

fn creating<T>(r: Result<T, Errno>) -> Stepped<T> {
    r.map_err(|e| (Step::Create, e))
}

fn mounting<T>(r: Result<T, Errno>) -> Stepped<T> {
    r.map_err(|e| (Step::Mount, e))
}

fn apply_one(root: BorrowedFd<'_>, op: &FsOp) -> Result<(), Error> {
    let (what, dst, result) = match op {
        FsOp::Bind {
            src,
            dst,
            read_only,
        } => {
            let flag = if *read_only { "--ro-bind" } else { "--bind" };
            let what = format!("{flag} {} {}", src.display(), dst.display());
            (what, dst, bind(root, src, dst, *read_only))
        }
        FsOp::Tmpfs { dst, size } => {
            let data = match size {
                Some(s) => format!("mode=0755,size={s}"),
                None => "mode=0755".to_string(),
            };
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
            let result = creating(make_dirs(root, dst))
                .and_then(|t| mounting(mount_on(t.as_fd(), "tmpfs", flags, Some(&data))));
            (format!("--tmpfs {}", dst.display()), dst, result)
        }
        FsOp::Dev(dst) => (format!("--dev {}", dst.display()), dst, dev(root, dst)),
        FsOp::Proc(dst) => {
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
            let result = creating(make_dirs(root, dst))
                .and_then(|t| mounting(mount_on(t.as_fd(), "proc", flags, None)));
            (format!("--proc {}", dst.display()), dst, result)
        }
        FsOp::Mkdir(dst) => (
            format!("--mkdir {}", dst.display()),
            dst,
            creating(make_dirs(root, dst).map(drop)),
        ),
        FsOp::Symlink { target, dst } => (
            format!("--symlink {} {}", target.display(), dst.display()),
            dst,
            creating(symlink(root, target, dst)),
        ),
    };
    result.map_err(|(step, source)| step_error(&what, dst, step, source))
}

fn step_error(what: &str, dst: &Path, step: Step, source: Errno) -> Error {
    let action = match step {
        Step::Create => format!("cannot create {}", dst.display()),
        Step::Mount => "cannot mount".to_string(),
    };
    Error::Sys {
        what: format!("{what}: {action}"),
        source,
        hint: hint(step, source),
    }
}

fn hint(step: Step, source: Errno) -> &'static str {
    match (step, source) {
        (Step::Create, Errno::EACCES | Errno::EPERM | Errno::EROFS) => {
            " (make it in the new root beforehand: nsrun creates what is missing as COMMAND's user)"
        }
        (Step::Mount, Errno::ENOSYS) => " (nsrun's mount operations need Linux 5.12 or later)",
        _ => "",
    }
}

/// Binds `src` (looked up outside) on `dst` (inside `root`), read-only with every
/// submount when asked, before it is attached: there is no moment it is writable.
fn bind(root: BorrowedFd<'_>, src: &Path, dst: &Path, read_only: bool) -> Stepped<()> {
    let source = mounting(CString::new(src.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL))?;
    let tree = mounting(open_tree(None, &source, true))?;
    if read_only {
        mounting(mountapi::make_read_only(tree.as_fd(), true))?;
    }
    let is_dir = std::fs::metadata(src).map(|m| m.is_dir()).unwrap_or(true);
    let target = creating(if is_dir {
        make_dirs(root, dst)
    } else {
        make_file(root, dst)
    })?;
    mounting(move_mount(tree.as_fd(), target.as_fd()))
}

fn symlink(root: BorrowedFd<'_>, target: &Path, dst: &Path) -> Result<(), Errno> {
    let rel = mountapi::relative(dst);
    let (parent, name) = match (rel.parent(), rel.file_name()) {
        (Some(parent), Some(name)) => (parent, name),
        _ => return Err(Errno::EINVAL),
    };
    let dir = make_dirs(root, parent)?;
    nix::unistd::symlinkat(target, dir.as_fd(), name)
}

/// Device nodes bound from the host's /dev.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];
/// Links every /dev has: (name, target).
const DEV_LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// A minimal /dev on `dst`: a tmpfs that allows no device nodes of its own, the host's
/// harmless devices bound into it, a new devpts instance and a tmpfs for shm.
fn dev(root: BorrowedFd<'_>, dst: &Path) -> Stepped<()> {
    let target = creating(make_dirs(root, dst))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    mounting(mount_on(target.as_fd(), "tmpfs", flags, Some("mode=0755")))?;
    // Below the new tmpfs, which is this process's: only mounting can fail.
    mounting(fill_dev(root, dst))
}

fn fill_dev(root: BorrowedFd<'_>, dst: &Path) -> Result<(), Errno> {
    let dev = open_in_root(root, dst, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    for name in DEVICES {
        let node = make_file(dev.as_fd(), Path::new(name))?;
        let host = CString::new(format!("/dev/{name}")).map_err(|_| Errno::EINVAL)?;
        let tree = open_tree(None, &host, false)?;
        move_mount(tree.as_fd(), node.as_fd())?;
    }
    let pts = make_dirs(dev.as_fd(), Path::new("pts"))?;
    mount_on(
        pts.as_fd(),
        "devpts",
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=620"),
    )?;
    let shm = make_dirs(dev.as_fd(), Path::new("shm"))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    mount_on(shm.as_fd(), "tmpfs", flags, Some("mode=1777"))?;
    for (name, target) in DEV_LINKS {
        nix::unistd::symlinkat(target, dev.as_fd(), name)?;
    }
    Ok(())
}
