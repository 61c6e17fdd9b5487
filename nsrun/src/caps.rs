//! Capabilities of COMMAND: `--cap-drop`, `--cap-add` and `--keep-caps`. The bounding,
//! permitted, effective, inheritable and ambient sets are changed together, as setpriv
//! and bubblewrap do, so that exec(2) cannot bring a dropped capability back.

use nix::errno::Errno;

use crate::error::Error;

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// The capability names of capabilities(7), by number.
pub const NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// The capabilities `docker run` keeps by default.
pub const DOCKER_DEFAULT: &str = "chown,dac_override,fsetid,fowner,mknod,net_raw,setgid,\
setuid,setfcap,setpcap,net_bind_service,sys_chroot,kill,audit_write";

/// A set of capabilities, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSet(pub u64);

impl CapSet {
    pub fn has(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1 << cap) != 0
    }

    /// Parses `all` or a comma-separated list of names, with or without `CAP_`, in any
    /// case (`net_raw,CAP_KILL`).
    pub fn parse(list: &str) -> Result<CapSet, String> {
        let mut set = 0u64;
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let lower = item.to_ascii_lowercase();
            if lower == "all" {
                set = u64::MAX;
                continue;
            }
            let name = lower.strip_prefix("cap_").unwrap_or(&lower);
            let cap = NAMES.iter().position(|n| *n == name).ok_or_else(|| {
                format!("'{item}' is not a capability name (see capabilities(7))")
            })?;
            set |= 1 << cap;
        }
        Ok(CapSet(set))
    }

    /// `CAP_NAME` of capability `cap`, or its number.
    pub fn name(cap: u32) -> String {
        NAMES.get(cap as usize).map_or_else(
            || cap.to_string(),
            |n| format!("CAP_{}", n.to_ascii_uppercase()),
        )
    }
}

/// `--cap-drop` and `--cap-add`: what COMMAND keeps is everything, less the dropped,
/// plus the added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapChange {
    pub drop: CapSet,
    pub add: CapSet,
}

impl CapChange {
    /// The capabilities kept, of those up to `last`.
    pub fn kept(self, last: u32) -> CapSet {
        let all = if last >= 63 {
            u64::MAX
        } else {
            (1u64 << (last + 1)) - 1
        };
        CapSet(((all & !self.drop.0) | self.add.0) & all)
    }
}

#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The three sets of this process, as (effective, permitted, inheritable).
fn get() -> Result<(CapSet, CapSet, CapSet), Error> {
    let mut header = Header {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: header and data are the kernel's v3 layout: one header, two data words.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    Errno::result(rc).map_err(|e| Error::sys("cannot read capabilities (capget)", e))?;
    let join = |f: fn(&Data) -> u32| CapSet(u64::from(f(&data[0])) | u64::from(f(&data[1])) << 32);
    Ok((
        join(|d| d.effective),
        join(|d| d.permitted),
        join(|d| d.inheritable),
    ))
}

fn set(effective: CapSet, permitted: CapSet, inheritable: CapSet) -> Result<(), Error> {
    let header = Header {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let word = |s: CapSet, i: usize| (s.0 >> (32 * i)) as u32;
    let data: [Data; 2] = std::array::from_fn(|i| Data {
        effective: word(effective, i),
        permitted: word(permitted, i),
        inheritable: word(inheritable, i),
    });
    // SAFETY: as in `get`; capset only reads.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    Errno::result(rc).map_err(|e| Error::sys("cannot set capabilities (capset)", e))?;
    Ok(())
}

/// The highest capability number this kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(40)
        .min(63)
}

fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(option, arg2, arg3, 0, 0) };
    Errno::result(rc).map(drop)
}

fn raise_ambient(set: CapSet, last: u32) -> Result<(), Error> {
    for cap in (0..=last).filter(|c| set.has(*c)) {
        prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            cap.into(),
        )
        .map_err(|e| {
            Error::sys(
                format!("cannot raise ambient capability {}", CapSet::name(cap)),
                e,
            )
        })?;
    }
    Ok(())
}

/// Makes every permitted capability effective (after setuid(2) cleared them).
pub fn make_effective() -> Result<(), Error> {
    let (_, permitted, inheritable) = get()?;
    set(permitted, permitted, inheritable)
}

/// Makes every permitted capability inheritable and ambient.
pub fn keep_across_exec() -> Result<(), Error> {
    let (effective, permitted, _) = get()?;
    set(effective, permitted, permitted)?;
    raise_ambient(permitted, last_cap())
}

/// Applies `change` to this process before exec: every capability not kept leaves the
/// bounding set first (while CAP_SETPCAP is still held), then the permitted, effective
/// and inheritable sets. Kept capabilities become ambient when `ambient` (for a COMMAND
/// that is not root inside, or with --keep-caps), so that exec keeps them.
pub fn restrict(change: CapChange, ambient: bool) -> Result<(), Error> {
    let last = last_cap();
    let kept = change.kept(last);
    let (_, permitted, _) = get()?;
    if let Some(cap) = (0..=last).find(|c| change.add.has(*c) && !permitted.has(*c)) {
        return Err(Error::sys(
            format!("cannot add {}: nsrun does not hold it", CapSet::name(cap)),
            Errno::EPERM,
        ));
    }
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
        0,
    )
    .map_err(|e| Error::sys("cannot clear the ambient capabilities", e))?;
    for cap in (0..=last).filter(|c| !kept.has(*c)) {
        match prctl(libc::PR_CAPBSET_DROP, cap.into(), 0) {
            Ok(()) | Err(Errno::EINVAL) => {}
            Err(e) => {
                return Err(Error::Sys {
                    what: format!("cannot drop {} from the bounding set", CapSet::name(cap)),
                    source: e,
                    hint: " (dropping capabilities needs CAP_SETPCAP: run as root, or with --user)",
                })
            }
        }
    }
    let now = CapSet(permitted.0 & kept.0);
    let inheritable = if ambient { now } else { CapSet(0) };
    set(now, now, inheritable)?;
    if ambient {
        raise_ambient(now, last)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_in_every_spelling() {
        assert_eq!(CapSet::parse("chown"), Ok(CapSet(1)));
        assert_eq!(
            CapSet::parse("CAP_KILL,net_raw"),
            Ok(CapSet(1 << 5 | 1 << 13))
        );
        assert_eq!(CapSet::parse("Cap_Sys_Admin"), Ok(CapSet(1 << 21)));
        assert_eq!(CapSet::parse("ALL"), Ok(CapSet(u64::MAX)));
        assert!(CapSet::parse("cap_nothing").is_err());
        assert_eq!(
            CapSet::parse(DOCKER_DEFAULT).map(|s| s.0.count_ones()),
            Ok(14)
        );
        assert_eq!(CapSet::name(21), "CAP_SYS_ADMIN");
    }

    #[test]
    fn keeps_all_but_the_dropped_plus_the_added() {
        let change = CapChange {
            drop: CapSet(u64::MAX),
            add: CapSet::parse("kill,chown").unwrap_or_default(),
        };
        assert_eq!(change.kept(40), CapSet(1 << 5 | 1));
        let some = CapChange {
            drop: CapSet(1 << 21),
            add: CapSet(0),
        };
        assert_eq!(some.kept(40).0, ((1u64 << 41) - 1) & !(1 << 21));
        assert_eq!(CapChange::default().kept(63), CapSet(u64::MAX));
    }
}
