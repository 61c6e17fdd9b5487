//! `--all`: what is shown of each namespace's lowest PID (uid, PPID, command line and
//! user name), read once per PID, for the few PIDs shown rather than for every process.

use std::collections::HashMap;

use nsproc::{procinfo, Process};

use crate::entry::Entry;

/// Uid of each lowest PID, with `stat_and_command` its PPID and command (read once per
/// PID), and with `user_names` the user names.
pub(crate) fn add_details(entries: &mut [Entry], stat_and_command: bool, user_names: bool) {
    let mut procs: HashMap<i32, Option<Details>> = HashMap::new();
    let mut users: HashMap<u32, Option<String>> = HashMap::new();
    for e in entries.iter_mut() {
        let Some(pid) = e.pid else {
            continue;
        };
        let Some(info) = procs
            .entry(pid)
            .or_insert_with(|| read_details(pid, stat_and_command))
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

fn read_details(pid: i32, stat_and_command: bool) -> Option<Details> {
    let uid = nix::sys::stat::stat(format!("/proc/{pid}").as_str())
        .ok()?
        .st_uid;
    let mut details = Details {
        uid,
        ppid: None,
        command: None,
    };
    if !stat_and_command {
        return Some(details);
    }
    // A process that exits meanwhile keeps its uid and loses the rest.
    let Ok(proc) = Process::open(pid) else {
        return Some(details);
    };
    let Ok(stat) = proc.stat() else {
        return Some(details);
    };
    let cmdline = proc
        .read(c"cmdline")
        .map(|raw| procinfo::format_cmdline(&raw))
        .unwrap_or_default();
    details.ppid = Some(stat.ppid);
    // Kernel threads and zombies have no command line: show the name, as ps does.
    details.command = Some(if cmdline.is_empty() {
        stat.comm
    } else {
        cmdline
    });
    Some(details)
}

fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}
