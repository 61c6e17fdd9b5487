//! Parsers for the /proc/PID files read besides the namespace links: `status` (PPid,
//! Uid, NSpid), `stat` (command name, state and parent PID) and `cmdline`. Pure
//! functions over the text; nothing here touches the file system.

/// What is taken from /proc/PID/status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The parent's PID, 0 for a process whose parent is outside its PID namespace.
    pub ppid: Option<i32>,
    /// The real uid (the first of the four on the `Uid:` line).
    pub uid: Option<u32>,
    /// The PIDs in each PID namespace, outermost first (see [`parse_nspid`]).
    pub nspid: Option<Vec<i32>>,
}

/// Parses /proc/PID/status; a field that is missing or malformed is `None`.
pub fn parse_status(status: &str) -> Status {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next())
    };
    Status {
        ppid: field("PPid").and_then(|v| v.parse().ok()),
        uid: field("Uid").and_then(|v| v.parse().ok()),
        nspid: parse_nspid(status),
    }
}

/// The PIDs of a process in each PID namespace it is in, outermost (the reader's view)
/// first, from the `NSpid:` line of /proc/PID/status. `None` when the line is missing
/// (kernels before 4.1) or malformed.
pub fn parse_nspid(status: &str) -> Option<Vec<i32>> {
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    let pids: Option<Vec<i32>> = line.split_whitespace().map(|p| p.parse().ok()).collect();
    pids.filter(|p| !p.is_empty())
}

/// What is taken from /proc/PID/stat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// The command name (`comm`, at most 15 bytes, may hold spaces and parentheses).
    pub comm: String,
    /// `R`, `S`, `D`, `Z` (zombie), `X`, `T`, `t`, `I`...
    pub state: char,
    pub ppid: i32,
}

impl Stat {
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }
}

/// Parses /proc/PID/stat: `PID (COMM) STATE PPID ...`. The command name may contain
/// anything, `)` included, so it ends at the last `)`.
pub fn parse_stat(stat: &[u8]) -> Option<Stat> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let comm = String::from_utf8_lossy(&stat[open + 1..close]).into_owned();
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let mut state = fields.next()?.chars();
    let (Some(state), None) = (state.next(), state.next()) else {
        return None;
    };
    let ppid = fields.next()?.parse().ok()?;
    Some(Stat { comm, state, ppid })
}

/// `PF_KTHREAD` in the flags of /proc/PID/stat: a kernel thread.
pub const PF_KTHREAD: u32 = 0x0020_0000;

/// The flags (the 9th field) of /proc/PID/stat: `PF_*` bits.
pub fn parse_stat_flags(stat: &[u8]) -> Option<u32> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    // After COMM: state, ppid, pgrp, session, tty_nr, tpgid, flags.
    rest.split_ascii_whitespace().nth(6)?.parse().ok()
}

/// The command line from /proc/PID/cmdline (NUL-separated arguments) as one line, the
/// arguments joined by spaces. Empty for kernel threads and zombies.
pub fn format_cmdline(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\0").unwrap_or(raw);
    let text = String::from_utf8_lossy(raw);
    text.chars()
        .map(|c| if c == '\0' || c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// The arguments of /proc/PID/cmdline (each ends in a NUL).
pub fn split_cmdline(raw: &[u8]) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt;
    let raw = raw.strip_suffix(b"\0").unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0)
        .map(|a| std::ffi::OsStr::from_bytes(a).to_os_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nspid_outermost_first() {
        let status = "Name:\tsleep\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4200\nNSpid:\t4242\t7\t1\nNStgid:\t4242\t7\t1\n";
        assert_eq!(parse_nspid(status), Some(vec![4242, 7, 1]));
    }

    #[test]
    fn nspid_single_namespace() {
        assert_eq!(parse_nspid("Pid:\t1\nNSpid:\t1\n"), Some(vec![1]));
    }

    #[test]
    fn nspid_missing_or_garbled() {
        assert_eq!(parse_nspid("Pid:\t1\n"), None);
        assert_eq!(parse_nspid("NSpid:\t\n"), None);
        assert_eq!(parse_nspid("NSpid:\t12\tx\n"), None);
        assert_eq!(parse_nspid(""), None);
    }

    #[test]
    fn stat_with_hostile_command_name() {
        let stat = b"4242 (a) b) (c) S 17 4242 4242 0 -1 4194560 107 0 0 0\n";
        assert_eq!(
            parse_stat(stat),
            Some(Stat {
                comm: "a) b) (c".into(),
                state: 'S',
                ppid: 17
            })
        );
    }

    #[test]
    fn stat_flags() {
        let user = b"4242 (a) b) S 17 4242 4242 0 -1 4194560 107 0 0 0\n";
        assert_eq!(parse_stat_flags(user), Some(4194560));
        assert_eq!(parse_stat_flags(user).unwrap() & PF_KTHREAD, 0);
        let kthreadd = b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0\n";
        assert_ne!(parse_stat_flags(kthreadd).unwrap() & PF_KTHREAD, 0);
        assert_eq!(parse_stat_flags(b"2 (x) S 0 0\n"), None);
    }

    #[test]
    fn status_fields() {
        let status = "Name:\tsleep\nPid:\t4242\nPPid:\t4200\nUid:\t1000\t1001\t1002\t1003\nNSpid:\t4242\t1\n";
        assert_eq!(
            parse_status(status),
            Status {
                ppid: Some(4200),
                uid: Some(1000),
                nspid: Some(vec![4242, 1]),
            }
        );
        assert_eq!(parse_status("PPidx:\t3\nUid:\tx\n"), Status::default());
    }

    #[test]
    fn zombie_state() {
        let stat = parse_stat(b"77 (defunct) Z 1 77 77 0 -1").unwrap();
        assert!(stat.is_zombie());
        assert!(!parse_stat(b"77 (sh) S 1").unwrap().is_zombie());
    }

    #[test]
    fn stat_of_kernel_thread() {
        let stat = b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0";
        assert_eq!(parse_stat(stat).map(|s| s.ppid), Some(0));
    }

    #[test]
    fn stat_truncated_or_garbage() {
        assert_eq!(parse_stat(b""), None);
        assert_eq!(parse_stat(b"12 (sh"), None);
        assert_eq!(parse_stat(b"12 (sh) S"), None);
        assert_eq!(parse_stat(b"12 )sh( S 1"), None);
        assert_eq!(parse_stat(b"12 (sh) S x"), None);
        assert_eq!(parse_stat(b"12 (sh) SS 1"), None);
        assert_eq!(
            parse_stat(&[0xff, b'(', 0xfe, b')', b' ', b'S', b' ', b'3']).map(|s| s.ppid),
            Some(3)
        );
    }

    #[test]
    fn cmdline_split() {
        assert_eq!(split_cmdline(b"sleep\x00600\x00"), ["sleep", "600"]);
        assert_eq!(split_cmdline(b"a\x00\x00b\x00"), ["a", "", "b"]);
        assert!(split_cmdline(b"").is_empty());
    }

    #[test]
    fn cmdline_joined() {
        assert_eq!(format_cmdline(b"sleep\x00600\x00"), "sleep 600");
        assert_eq!(format_cmdline(b"sh\x00-c\x00a\nb\x00"), "sh -c a b");
        assert_eq!(format_cmdline(b""), "");
        assert_eq!(format_cmdline(b"\x00"), "");
    }
}
