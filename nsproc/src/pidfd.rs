//! pidfds (Linux 5.3): a descriptor that names one process for as long as it is held,
//! where a PID may be reused by another process once the first is reaped.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

/// Opens a pidfd of process `pid`. `Ok(None)` on a kernel without pidfd_open (ENOSYS).
/// ESRCH: no such process; EINVAL: `pid` is a thread of a process, not the process.
pub fn open(pid: i32) -> Result<Option<OwnedFd>, Errno> {
    // SAFETY: pidfd_open takes a PID and flags and returns a new descriptor or -1.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    match Errno::result(ret) {
        Ok(fd) => {
            let fd = i32::try_from(fd).map_err(|_| Errno::EBADF)?;
            // SAFETY: the kernel just returned this descriptor, and nothing else owns it.
            Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
        }
        Err(Errno::ENOSYS) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the process has exited: a pidfd polls readable once it is a zombie or gone.
pub fn has_exited(pidfd: BorrowedFd<'_>) -> Result<bool, Errno> {
    let mut fds = [PollFd::new(pidfd, PollFlags::POLLIN)];
    Ok(poll(&mut fds, PollTimeout::ZERO)? > 0)
}

/// Whether the process still exists, zombie or not (it has not been reaped): signal 0
/// through the pidfd. EPERM, a process we may not signal, still exists.
pub fn exists(pidfd: BorrowedFd<'_>) -> Result<bool, Errno> {
    match send(pidfd, 0) {
        Ok(()) | Err(Errno::EPERM) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Sends `sig` to the process of the pidfd (ESRCH once it has been reaped).
pub fn send_signal(pidfd: BorrowedFd<'_>, sig: Signal) -> Result<(), Errno> {
    send(pidfd, sig as libc::c_int)
}

fn send(pidfd: BorrowedFd<'_>, signo: libc::c_int) -> Result<(), Errno> {
    // SAFETY: pidfd_send_signal with no siginfo and no flags takes only integers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signo,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    Errno::result(ret).map(drop)
}
