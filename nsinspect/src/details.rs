//! `--all`: what is shown of each namespace's lowest PID (uid, PPID, command line and
//! user name), read once per PID, for the few PIDs shown rather than for every process.

use std::collections::HashMap;

use crate::listing::{Entry, ListOptions};
use crate::procinfo;
use crate::target::Process;

/// Uid, PPID and command of each lowest PID (read once per PID), and user names.
pub(crate) fn add_details(entries: &mut [Entry], opts: &ListOptions) {
    let mut procs: HashMap<i32, Option<Details>> = HashMap::new();
    let mut users: HashMap<u32, Option<String>> = HashMap::new();
    for e in entries.iter_mut() {
        let Some(pid) = e.pid else {
            continue;
        };
        let Some(info) = procs
            .entry(pid)
            .or_insert_with(|| read_details(pid, opts.details))
        else {
            continue;
        };
        e.uid = Some(info.uid);
        e.ppid = info.ppid;
        e.command.clone_from(&info.command);
        if opts.users {
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
    let Some(stat) = proc
        .read(c"stat")
        .ok()
        .and_then(|s| procinfo::parse_stat(&s))
    else {
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
