//! Time namespaces: clock offsets must be written before any process is inside, so the
//! child unshares one (which only its future children would enter), writes the offsets,
//! then moves itself in with setns(2).

use std::fs::File;

use nix::sched::{setns, unshare};

use crate::error::{io_errno, Context, Error};
use nsproc::Kind;

/// Offsets, in seconds, of CLOCK_MONOTONIC and CLOCK_BOOTTIME inside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeOffsets {
    pub monotonic: i64,
    pub boottime: i64,
}

impl TimeOffsets {
    /// The text `/proc/PID/timens_offsets` takes.
    pub fn to_proc_text(self) -> String {
        format!(
            "monotonic {} 0\nboottime {} 0\n",
            self.monotonic, self.boottime
        )
    }
}

/// The largest time in seconds the kernel lets a clock inside reach: KTIME_SEC_MAX / 2
/// (kernel/time/namespace.c keeps KTIME_MAX out of reach).
const MAX_CLOCK_SECS: i64 = i64::MAX / 1_000_000_000 / 2;

impl TimeOffsets {
    /// Checks, before anything is made, that the kernel will take the offsets: each clock
    /// plus its offset must stay between 0 and [`MAX_CLOCK_SECS`].
    pub fn check(self) -> Result<(), Error> {
        for (option, clock, name, offset) in [
            (
                "--monotonic",
                libc::CLOCK_MONOTONIC,
                "CLOCK_MONOTONIC",
                self.monotonic,
            ),
            (
                "--boottime",
                libc::CLOCK_BOOTTIME,
                "CLOCK_BOOTTIME",
                self.boottime,
            ),
        ] {
            if offset != 0 {
                check_offset(option, name, offset, now(clock)?).map_err(Error::Usage)?;
            }
        }
        Ok(())
    }
}

/// Seconds on `clock` now.
fn now(clock: libc::clockid_t) -> Result<i64, Error> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is writable memory of the right type.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    nix::errno::Errno::result(rc).context(|| "cannot read the clock (clock_gettime)".into())?;
    Ok(ts.tv_sec)
}

/// Whether a clock now at `now` seconds, moved by `offset`, stays in the kernel's range.
fn check_offset(option: &str, clock: &str, offset: i64, now: i64) -> Result<(), String> {
    let (low, high) = (-now, MAX_CLOCK_SECS - now);
    if (low..=high).contains(&offset) {
        return Ok(());
    }
    Err(format!(
        "{option} {offset} is out of range: {clock} is at {now} s and must stay between 0 \
         and {MAX_CLOCK_SECS} s inside, so the offset must be between {low} and {high}"
    ))
}

/// Creates a time namespace with `offsets` and moves the calling process into it.
pub fn enter_new(offsets: TimeOffsets) -> Result<(), Error> {
    let flag = Kind::Time.clone_flag();
    unshare(flag).context(|| "cannot create a time namespace (unshare)".into())?;
    if offsets != TimeOffsets::default() {
        std::fs::write("/proc/self/timens_offsets", offsets.to_proc_text()).map_err(|source| {
            Error::Write {
                path: "/proc/self/timens_offsets".into(),
                hint: if source.raw_os_error() == Some(libc::EINVAL) {
                    " (an offset would make the clock negative or too large)"
                } else {
                    ""
                },
                source,
            }
        })?;
    }
    let ns = File::open("/proc/self/ns/time_for_children")
        .map_err(|e| Error::sys("cannot open /proc/self/ns/time_for_children", io_errno(&e)))?;
    setns(ns, flag).context(|| "cannot enter the new time namespace (setns)".into())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_text() {
        let o = TimeOffsets {
            monotonic: -5,
            boottime: 86400,
        };
        assert_eq!(o.to_proc_text(), "monotonic -5 0\nboottime 86400 0\n");
    }

    #[test]
    fn offsets_must_keep_the_clock_in_the_kernels_range() {
        let at = |offset, now| check_offset("--monotonic", "CLOCK_MONOTONIC", offset, now);
        assert!(at(-100, 100).is_ok());
        assert!(at(-101, 100).is_err());
        assert!(at(MAX_CLOCK_SECS - 100, 100).is_ok());
        assert!(at(MAX_CLOCK_SECS - 99, 100).is_err());
        assert!(at(i64::MIN, 100).is_err());
        assert!(at(i64::MAX, 100).is_err());
        let e = at(-99_999_999_999_999, 5).unwrap_err();
        assert!(
            e.starts_with("--monotonic -99999999999999 is out of range"),
            "{e}"
        );
        assert!(TimeOffsets::default().check().is_ok());
        let far = TimeOffsets {
            monotonic: 0,
            boottime: -99_999_999_999_999,
        };
        assert!(matches!(far.check(), Err(Error::Usage(_))));
    }
}

#[cfg(test)]
mod properties;
