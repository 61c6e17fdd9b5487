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
}
