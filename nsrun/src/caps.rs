//! `--keep-caps`: carry the capabilities a process holds in its new user namespace
//! across exec(2) as ambient capabilities, so a non-root COMMAND keeps them.

use nix::errno::Errno;

use crate::error::Error;

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

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

/// Makes every permitted capability inheritable and ambient.
pub fn keep_across_exec() -> Result<(), Error> {
    let mut header = Header {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: header and data are the kernel's v3 layout: one header, two data words.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    Errno::result(rc).map_err(|e| Error::sys("cannot read capabilities (capget)", e))?;
    for d in &mut data {
        d.inheritable = d.permitted;
    }
    // SAFETY: as above; capset only reads.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    Errno::result(rc)
        .map_err(|e| Error::sys("cannot make capabilities inheritable (capset)", e))?;
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(40);
    for cap in 0..=last.min(63) {
        let word = data[(cap / 32) as usize].permitted;
        if word & (1 << (cap % 32)) == 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments only.
        let rc = unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE,
                libc::c_ulong::from(cap),
                0,
                0,
            )
        };
        Errno::result(rc)
            .map_err(|e| Error::sys(format!("cannot raise ambient capability {cap}"), e))?;
    }
    Ok(())
}
