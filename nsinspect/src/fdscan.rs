//! `--fds`: namespaces held open by a file descriptor (a process that did
//! `open("/proc/X/ns/net")` and kept the fd, as container runtimes do). Costs one
//! directory read per process and one stat per descriptor, so it is asked for.

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode};

use crate::procscan::{parse_pid, ProcRoot};
use nsproc::NsId;

/// A descriptor that refers to a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdHolder {
    pub pid: i32,
    pub fd: i32,
    pub id: NsId,
}

/// The device of nsfs: every namespace file has it.
pub fn nsfs_dev() -> Option<u64> {
    nix::sys::stat::stat("/proc/self/ns/user")
        .ok()
        .map(|st| st.st_dev)
}

/// Every descriptor of `pids` that refers to a namespace; processes that exit or
/// cannot be read are skipped (the namespace scan already counted them).
pub fn scan(root: &ProcRoot, pids: &[i32], nsfs_dev: u64) -> Vec<FdHolder> {
    let mut found = Vec::new();
    for &pid in pids {
        let path = format!("{pid}/fd");
        let Ok(fd) = nix::fcntl::openat(
            root.fd(),
            path.as_str(),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) else {
            continue;
        };
        let Ok(mut dir) = nix::dir::Dir::from_fd(fd) else {
            continue;
        };
        let names: Vec<(i32, std::ffi::CString)> = dir
            .iter()
            .filter_map(Result::ok)
            .filter_map(|e| {
                let n = parse_fd(e.file_name().to_bytes())?;
                Some((n, e.file_name().to_owned()))
            })
            .collect();
        for (n, name) in names {
            // Follows the magic link to the open file itself.
            match fstatat(&dir, name.as_c_str(), AtFlags::empty()) {
                Ok(st) if st.st_dev == nsfs_dev => found.push(FdHolder {
                    pid,
                    fd: n,
                    id: NsId::of(&st),
                }),
                // Not a namespace, closed meanwhile, or not ours to look at.
                _ => {}
            }
        }
    }
    found
}

fn parse_fd(name: &[u8]) -> Option<i32> {
    if name == b"0" {
        return Some(0);
    }
    parse_pid(name)
}
