//! `--all`: what is shown of each namespace's lowest PID (uid, PPID, command line and
//! user name), read once per PID, for the few PIDs shown rather than for every process,
//! relative to the open /proc: `PID/stat` (its owner by `fstat`) and `PID/cmdline`,
//! one `openat`, one `read` and one `close` each.

use std::collections::HashMap;

use nix::fcntl::AtFlags;
use nix::sys::stat::fstatat;
use nsproc::procinfo;

use crate::entry::Entry;
use crate::procread::{pid_dir, pid_path, read_at, Render};
use crate::procscan::ProcRoot;

/// Uid of each lowest PID, with `stat_and_command` its PPID and command (read once per
/// PID), and with `user_names` the user names.
pub(crate) fn add_details(
    root: &ProcRoot,
    entries: &mut [Entry],
    stat_and_command: bool,
    user_names: bool,
) {
    let mut procs: HashMap<i32, Option<Details>> = HashMap::new();
    let mut users: HashMap<u32, Option<String>> = HashMap::new();
    for e in entries.iter_mut() {
        let Some(pid) = e.pid else {
            continue;
        };
        let Some(info) = procs
            .entry(pid)
            .or_insert_with(|| read_details(root, pid, stat_and_command))
        else {
            continue;
        };
        e.uid = Some(info.uid);
        e.ppid = info.ppid;
        e.command.clone_from(&info.command);
        if user_names {
            e.user = users
                .entry(info.uid)
                .or_insert_with(|| user_name(info.uid))
                .clone();
        }
    }
}

/// What is shown of a namespace's lowest PID.
struct Details {
    /// The owner of /proc/PID, as lsns shows it.
    uid: u32,
    ppid: Option<i32>,
    command: Option<String>,
}

fn read_details(root: &ProcRoot, pid: i32, stat_and_command: bool) -> Option<Details> {
    if !stat_and_command {
        let uid = fstatat(root.fd(), pid_dir(pid).as_c_str(), AtFlags::empty())
            .ok()?
            .st_uid;
        return Some(Details {
            uid,
            ppid: None,
            command: None,
        });
    }
    let stat = read_at(root.fd(), &pid_path(pid, "stat"), Render::Whole, true).ok()?;
    let uid = stat.uid?;
    let Some(stat) = procinfo::parse_stat(&stat.bytes) else {
        return Some(Details {
            uid,
            ppid: None,
            command: None,
        });
    };
    // A process that exits meanwhile keeps its uid, PPID and name.
    let cmdline = read_at(root.fd(), &pid_path(pid, "cmdline"), Render::Whole, false)
        .map(|raw| procinfo::format_cmdline(&raw.bytes))
        .unwrap_or_default();
    // Kernel threads and zombies have no command line: show the name, as ps does.
    let command = if cmdline.is_empty() {
        stat.comm
    } else {
        cmdline
    };
    Some(Details {
        uid,
        ppid: Some(stat.ppid),
        command: Some(command),
    })
}

fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}
