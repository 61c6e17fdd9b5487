//! Subordinate IDs: the ranges /etc/subuid and /etc/subgid grant a user, and the
//! setuid helpers `newuidmap` and `newgidmap` (Debian's `uidmap` package) that write a
//! map using them for a caller who may not write it.
//!
//! The helpers of shadow 4.13 (Debian 12) take the target as a PID only, not as the
//! `fd:N` of a /proc/PID directory that later versions accept. nsrun runs them only on
//! its own child, not yet waited for: its PID cannot name another process before nsrun
//! reaps it. The child is held by a pidfd meanwhile all the same, and checked to be
//! still running after the helper ran.

use std::process::{Command, Stdio};

use nix::unistd::Pid;

use crate::error::{io_errno, Error};
use crate::idmap::{IdMap, IdRange};

/// User or group IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ids {
    Users,
    Groups,
}

impl Ids {
    fn file(self) -> &'static str {
        match self {
            Ids::Users => "/etc/subuid",
            Ids::Groups => "/etc/subgid",
        }
    }

    fn helper(self) -> &'static str {
        match self {
            Ids::Users => "newuidmap",
            Ids::Groups => "newgidmap",
        }
    }

    fn usermod(self) -> &'static str {
        match self {
            Ids::Users => "--add-subuids",
            Ids::Groups => "--add-subgids",
        }
    }
}

/// A range of subordinate IDs: `count` IDs from `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubRange {
    pub start: u32,
    pub count: u32,
}

impl SubRange {
    /// Maps the range onto IDs 1..=count inside (0 being the caller).
    pub fn above_root(self) -> IdRange {
        IdRange {
            inner: 1,
            outer: self.start,
            count: self.count,
        }
    }
}

/// The first range of the user called `name` (or of its numeric `uid`) in the text of
/// /etc/subuid or /etc/subgid: `OWNER:START:COUNT` lines.
pub fn first_range(text: &str, name: Option<&str>, uid: u32) -> Option<SubRange> {
    let uid = uid.to_string();
    text.lines().find_map(|line| {
        let mut fields = line.trim().split(':');
        let owner = fields.next()?;
        if Some(owner) != name && owner != uid {
            return None;
        }
        let start: u32 = fields.next()?.parse().ok()?;
        let count: u32 = fields.next()?.parse().ok()?;
        if fields.next().is_some() || count == 0 || start.checked_add(count).is_none() {
            return None;
        }
        Some(SubRange { start, count })
    })
}

/// The caller's first range of `ids`, for `--map-auto`.
pub fn caller_range(ids: Ids, uid: u32) -> Result<SubRange, Error> {
    let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name);
    let who = name.clone().unwrap_or_else(|| uid.to_string());
    let missing = || {
        Error::Refused(format!(
            "no subordinate {} for {who} in {} (an administrator adds them with usermod {} \
             START-END {who})",
            match ids {
                Ids::Users => "uids",
                Ids::Groups => "gids",
            },
            ids.file(),
            ids.usermod()
        ))
    };
    let text = match std::fs::read_to_string(ids.file()) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
        Err(e) => {
            return Err(Error::sys(
                format!("cannot read {}", ids.file()),
                io_errno(&e),
            ))
        }
    };
    first_range(&text, name.as_deref(), uid).ok_or_else(missing)
}

/// Writes `map` of `ids` for process `pid` with `newuidmap` or `newgidmap`.
pub fn write_with_helper(ids: Ids, pid: Pid, map: &IdMap) -> Result<(), Error> {
    let helper = ids.helper();
    let args = map
        .ranges()
        .iter()
        .flat_map(|r| [r.inner, r.outer, r.count])
        .map(|n| n.to_string());
    let out = Command::new(helper)
        .arg(pid.to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::Sys {
            what: format!("cannot run {helper}"),
            source: io_errno(&e),
            hint: if e.kind() == std::io::ErrorKind::NotFound {
                " (install the uidmap package, which has newuidmap and newgidmap)"
            } else {
                ""
            },
        })?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.lines().map(str::trim).rfind(|l| !l.is_empty());
    Err(Error::Refused(format!(
        "{helper} {pid} {} failed{}",
        map.to_proc_text().trim_end().replace('\n', " "),
        said.map(|s| format!(": {s}")).unwrap_or_default()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_range_by_name_or_uid() {
        let text = "alice:100000:65536\nbob:165536:65536\n1001:231072:1000\nbob:300000:5\n";
        assert_eq!(
            first_range(text, Some("bob"), 1000),
            Some(SubRange {
                start: 165536,
                count: 65536
            })
        );
        assert_eq!(
            first_range(text, Some("carol"), 1001),
            Some(SubRange {
                start: 231072,
                count: 1000
            })
        );
        assert_eq!(first_range(text, Some("dave"), 7), None);
        assert_eq!(first_range(text, None, 1001).map(|r| r.count), Some(1000));
    }

    #[test]
    fn skips_malformed_lines() {
        let text = "eve:x:1\neve:5:0\neve:4294967295:2\neve:1:2:3\n\neve:10:20\n";
        assert_eq!(
            first_range(text, Some("eve"), 9),
            Some(SubRange {
                start: 10,
                count: 20
            })
        );
        let above = SubRange {
            start: 10,
            count: 20,
        }
        .above_root();
        assert_eq!(above.to_string(), "1:10:20");
    }
}
