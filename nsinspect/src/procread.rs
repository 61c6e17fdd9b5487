//! Small files below an open /proc (`PID/stat`, `PID/cmdline`, `PID/mountinfo`), read
//! relative to it in as few system calls as the kernel allows: no path walk from `/`,
//! no pidfd (what `--all` shows of a PID is as old as its scan anyway, as in lsns).

use std::ffi::{CStr, CString};
use std::io::Read;
use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstat, Mode};

/// How a /proc file is rendered, which decides when a read was the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Render {
    /// In one piece on each read (`stat`, `cmdline`): a read that leaves room in the
    /// buffer reached the end, so the read that would return 0 is saved.
    Whole,
    /// A page of records at a time (`mountinfo`): read until a read returns 0.
    Paged,
}

/// A file's bytes and, when asked, the uid that owns it (every file below /proc/PID
/// has the owner of /proc/PID, which lsns shows as the process's user).
#[derive(Debug)]
pub struct ProcFile {
    pub bytes: Vec<u8>,
    pub uid: Option<u32>,
}

/// `PID`, the directory, as a C string.
pub fn pid_dir(pid: i32) -> CString {
    // Digits: never fails.
    CString::new(pid.to_string()).unwrap_or_default()
}

/// `PID/NAME` as a C string.
pub fn pid_path(pid: i32, name: &str) -> CString {
    // Digits, '/' and a name without NUL: never fails.
    CString::new(format!("{pid}/{name}")).unwrap_or_default()
}

/// Reads `path` below `dir` whole; with `owner`, also its owner (`fstat`).
pub fn read_at(
    dir: BorrowedFd<'_>,
    path: &CStr,
    render: Render,
    owner: bool,
) -> Result<ProcFile, Errno> {
    let fd = openat(dir, path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    let uid = match owner {
        true => Some(fstat(&fd)?.st_uid),
        false => None,
    };
    let mut file = std::fs::File::from(fd);
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if render == Render::Whole && len < buf.len() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(nsproc::error::io_errno(&e)),
        }
    }
    buf.truncate(len);
    Ok(ProcFile { bytes: buf, uid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procscan::ProcRoot;

    #[test]
    fn reads_like_std() {
        let root = ProcRoot::open().unwrap();
        let me = std::process::id() as i32;
        let stat = read_at(root.fd(), &pid_path(me, "stat"), Render::Whole, true).unwrap();
        let parsed = nsproc::procinfo::parse_stat(&stat.bytes).unwrap();
        assert_eq!(parsed.ppid, std::os::unix::process::parent_id() as i32);
        use std::os::unix::fs::MetadataExt;
        let dir = std::fs::metadata(format!("/proc/{me}")).unwrap();
        assert_eq!(stat.uid, Some(dir.uid()));
        let cmdline = read_at(root.fd(), &pid_path(me, "cmdline"), Render::Whole, false).unwrap();
        assert_eq!(cmdline.bytes, std::fs::read("/proc/self/cmdline").unwrap());
        assert_eq!(cmdline.uid, None);
        // Longer than a page and than the first buffer: read to the end.
        let table = read_at(root.fd(), c"self/mountinfo", Render::Paged, false).unwrap();
        assert_eq!(table.bytes, std::fs::read("/proc/self/mountinfo").unwrap());
    }

    #[test]
    fn a_command_line_longer_than_the_buffer_is_whole() {
        let root = ProcRoot::open().unwrap();
        let long = "x".repeat(10_000);
        // sh stays (a command follows sleep) and keeps the long argument as $1.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30; :", "sh"])
            .arg(&long)
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        // Until sleep has exec'd: its command line then holds the long argument.
        let mut got = Vec::new();
        for _ in 0..200 {
            got = read_at(root.fd(), &pid_path(pid, "cmdline"), Render::Whole, false)
                .unwrap()
                .bytes;
            if got.len() > 10_000 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let expected = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(got, expected);
        assert!(got.len() > 10_000, "{} bytes", got.len());
    }

    #[test]
    fn a_missing_file_is_its_errno() {
        let root = ProcRoot::open().unwrap();
        let err = read_at(root.fd(), c"self/no-such-file", Render::Whole, false).unwrap_err();
        assert_eq!(err, Errno::ENOENT);
    }
}
