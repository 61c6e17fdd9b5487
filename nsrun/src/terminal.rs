//! Job control: when nsrun runs in the foreground of a terminal, COMMAND gets its own
//! process group and the terminal's foreground, so Ctrl-C, Ctrl-Z and an interactive
//! shell's job control reach it; nsrun takes the terminal back when COMMAND stops or ends.

use std::os::fd::BorrowedFd;

use nix::sys::signal::{kill, Signal};
use nix::unistd::{getpgrp, isatty, setpgid, tcgetpgrp, tcsetpgrp, Pid};

/// The controlling terminal on stdin, when nsrun is in its foreground process group.
pub struct Terminal {
    own_group: Pid,
}

fn stdin() -> BorrowedFd<'static> {
    // SAFETY: fd 0 stays open for the life of the process; nsrun never closes it.
    unsafe { BorrowedFd::borrow_raw(0) }
}

impl Terminal {
    /// `Some` when stdin is a terminal whose foreground group is nsrun's own.
    pub fn foreground() -> Option<Terminal> {
        let fd = stdin();
        let own_group = getpgrp();
        (isatty(fd).unwrap_or(false) && tcgetpgrp(fd).ok() == Some(own_group))
            .then(|| Terminal { own_group })
    }

    /// In the process about to exec COMMAND: a process group of its own, in the
    /// terminal's foreground. SIGTTOU must be blocked (it is, until exec).
    pub fn take_for_command() {
        let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
        let _ = tcsetpgrp(stdin(), getpgrp());
    }

    /// Gives the terminal back to nsrun's group. SIGTTOU must be blocked.
    pub fn reclaim(&self) {
        let _ = tcsetpgrp(stdin(), self.own_group);
    }

    /// COMMAND's group `group` stopped (Ctrl-Z): stop nsrun too, so the shell sees the
    /// job stopped, and when the shell continues nsrun, continue COMMAND in the foreground.
    pub fn suspend(&self, group: Pid) {
        self.reclaim();
        let _ = kill(Pid::this(), Signal::SIGSTOP);
        // Running again: the shell sent SIGCONT.
        let _ = tcsetpgrp(stdin(), group);
        let _ = kill(Pid::from_raw(-group.as_raw()), Signal::SIGCONT);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.reclaim();
    }
}
