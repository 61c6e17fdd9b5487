//! Signal names, the set nsrun forwards, blocking/waiting on signals without threads,
//! and the parent-death signal.

use std::str::FromStr;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use crate::error::{Context, Error};

/// Signals that, sent to nsrun, are passed on to COMMAND.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// Signals that, sent to nsrun before COMMAND starts, make it undo what it made and end
/// with 128+N (afterwards they are forwarded to COMMAND like the rest).
pub const ENDING: [Signal; 4] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// Parses `KILL`, `SIGKILL`, `kill` or `9`.
pub fn parse(s: &str) -> Result<Signal, String> {
    let err = || format!("'{s}' is not a signal name or number");
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| err());
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name).map_err(|_| err())
}

/// The set nsrun blocks while it runs: what it forwards, SIGCHLD to learn of the child's
/// end, SIGTTOU/SIGTTIN so that taking the terminal back from the background works, and
/// SIGPIPE, so that an order to a child that died is an error (EPIPE) nsrun undoes after,
/// not its death.
pub fn blocked_set() -> SigSet {
    let mut set = SigSet::empty();
    for sig in FORWARDED {
        set.add(sig);
    }
    set.add(Signal::SIGCHLD);
    set.add(Signal::SIGPIPE);
    set.add(Signal::SIGTTOU);
    set.add(Signal::SIGTTIN);
    set
}

/// The set a waiting loop takes signals from.
pub fn wait_set() -> SigSet {
    let mut set = SigSet::empty();
    for sig in FORWARDED {
        set.add(sig);
    }
    set.add(Signal::SIGCHLD);
    set
}

/// [`ENDING`] as a set.
pub fn ending_set() -> SigSet {
    ENDING.into_iter().collect()
}

/// Takes one of `set` (which must be blocked) if it is pending, without waiting.
pub fn take_pending(set: &SigSet) -> Result<Option<Signal>, Error> {
    let zero = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        // SAFETY: `set` is a valid sigset; a null siginfo pointer is allowed.
        let n = unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &zero) };
        if n >= 0 {
            return Signal::try_from(n)
                .map(Some)
                .map_err(|e| Error::sys("sigtimedwait", e));
        }
        match Errno::last() {
            Errno::EINTR => continue,
            Errno::EAGAIN => return Ok(None),
            e => return Err(Error::sys("cannot take pending signals (sigtimedwait)", e)),
        }
    }
}

/// Blocks `set`, returning the mask to restore in a process about to exec.
pub fn block(set: &SigSet) -> Result<SigSet, Error> {
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(set), Some(&mut old))
        .context(|| "cannot block signals (sigprocmask)".into())?;
    Ok(old)
}

/// A signal taken from the pending set, with whether the kernel itself sent it (a
/// terminal's Ctrl-C), as opposed to a process calling kill(2).
pub struct Received {
    pub signal: Signal,
    pub from_kernel: bool,
}

/// Waits for one of `set` (which must be blocked).
pub fn wait(set: &SigSet) -> Result<Received, Error> {
    loop {
        let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
        // SAFETY: `set` is a valid sigset and `info` is writable memory of the right size.
        let n = unsafe { libc::sigwaitinfo(set.as_ref(), info.as_mut_ptr()) };
        if n < 0 {
            match Errno::last() {
                Errno::EINTR => continue,
                e => return Err(Error::sys("cannot wait for signals (sigwaitinfo)", e)),
            }
        }
        // SAFETY: sigwaitinfo succeeded, so it filled `info`.
        let info = unsafe { info.assume_init() };
        let signal = Signal::try_from(n).map_err(|e| Error::sys("sigwaitinfo", e))?;
        return Ok(Received {
            signal,
            from_kernel: info.si_code == libc::SI_KERNEL,
        });
    }
}

/// Puts every signal's disposition that nsrun changed back to the default and unblocks
/// all signals, for a process about to exec COMMAND. Async-signal-safe.
pub fn reset_for_exec(mask: &SigSet) {
    // Rust's runtime ignores SIGPIPE; an ignored disposition would survive exec.
    // SAFETY: setting a default disposition has no memory-safety requirements.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(mask), None);
}

/// Exit status of a process killed by `sig`, as shells report it.
pub fn exit_code(sig: i32) -> i32 {
    128 + sig
}

/// Asks the kernel to send `sig` to this process when its parent thread dies.
pub fn set_parent_death_signal(sig: Signal) -> nix::Result<()> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) };
    Errno::result(rc).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!(parse("KILL"), Ok(Signal::SIGKILL));
        assert_eq!(parse("sigterm"), Ok(Signal::SIGTERM));
        assert_eq!(parse("hup"), Ok(Signal::SIGHUP));
        assert_eq!(parse("9"), Ok(Signal::SIGKILL));
        assert!(parse("0").is_err());
        assert!(parse("NOPE").is_err());
        assert!(parse("99").is_err());
        assert!(parse("").is_err());
    }
}
