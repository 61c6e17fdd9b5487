//! User-namespace ID maps: parsing `INNER:OUTER:COUNT`, checking ranges, and writing
//! `/proc/PID/{setgroups,uid_map,gid_map}`, directly or (for an unprivileged caller
//! mapping subordinate ranges) with the helpers of [`crate::subid`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use nix::unistd::Pid;

use crate::error::Error;
use crate::subid::{self, Ids, SubRange};

/// Kernel limit on the number of lines in one map (`man 7 user_namespaces`).
const MAX_LINES: usize = 340;

/// One line of a uid or gid map: `count` IDs starting at `inner` inside map to `outer` outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange {
    pub inner: u32,
    pub outer: u32,
    pub count: u32,
}

impl IdRange {
    /// A range of one ID.
    pub fn single(inner: u32, outer: u32) -> Self {
        IdRange {
            inner,
            outer,
            count: 1,
        }
    }

    fn end(start: u32, count: u32) -> u64 {
        u64::from(start) + u64::from(count)
    }
}

impl FromStr for IdRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        let [inner, outer, count] = parts[..] else {
            return Err(format!("'{s}' is not INNER:OUTER:COUNT"));
        };
        let num = |what: &str, v: &str| {
            v.parse::<u32>()
                .map_err(|_| format!("{what} '{v}' in '{s}' is not a number from 0 to 4294967295"))
        };
        let range = IdRange {
            inner: num("INNER", inner)?,
            outer: num("OUTER", outer)?,
            count: num("COUNT", count)?,
        };
        if range.count == 0 {
            return Err(format!("COUNT in '{s}' must be at least 1"));
        }
        for (what, start) in [("INNER", range.inner), ("OUTER", range.outer)] {
            if IdRange::end(start, range.count) > u64::from(u32::MAX) {
                return Err(format!("{what} range in '{s}' goes past 4294967294"));
            }
        }
        Ok(range)
    }
}

/// A `--map-users`/`--map-groups` argument: a range, or `auto` (the caller's
/// subordinate range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapArg {
    Auto,
    Range(IdRange),
}

impl FromStr for MapArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(MapArg::Auto),
            s => s.parse().map(MapArg::Range),
        }
    }
}

impl fmt::Display for IdRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.inner, self.outer, self.count)
    }
}

/// A whole uid or gid map, checked the way the kernel checks it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap {
    ranges: Vec<IdRange>,
}

impl IdMap {
    /// Builds a map, refusing ranges that overlap inside or outside (the kernel would
    /// answer EINVAL without saying which).
    pub fn new(ranges: Vec<IdRange>) -> Result<Self, String> {
        if ranges.len() > MAX_LINES {
            return Err(format!("at most {MAX_LINES} ranges fit in one map"));
        }
        for (i, a) in ranges.iter().enumerate() {
            for b in &ranges[i + 1..] {
                let overlap = |x: u32, y: u32| {
                    u64::from(x) < IdRange::end(y, b.count)
                        && u64::from(y) < IdRange::end(x, a.count)
                };
                if overlap(a.inner, b.inner) {
                    return Err(format!("ranges {a} and {b} overlap inside the namespace"));
                }
                if overlap(a.outer, b.outer) {
                    return Err(format!("ranges {a} and {b} overlap outside the namespace"));
                }
            }
        }
        Ok(IdMap { ranges })
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn ranges(&self) -> &[IdRange] {
        &self.ranges
    }

    /// The text the kernel takes in `uid_map`/`gid_map`: one `inner outer count` line a range.
    pub fn to_proc_text(&self) -> String {
        self.ranges
            .iter()
            .map(|r| format!("{} {} {}\n", r.inner, r.outer, r.count))
            .collect()
    }
}

/// What to write to `/proc/PID/setgroups`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SetGroups {
    Allow,
    Deny,
}

impl SetGroups {
    fn as_str(self) -> &'static str {
        match self {
            SetGroups::Allow => "allow",
            SetGroups::Deny => "deny",
        }
    }
}

/// Everything to write for a new user namespace.
#[derive(Clone, Debug, Default)]
pub struct UserMaps {
    pub uid: IdMap,
    pub gid: IdMap,
    pub setgroups: Option<SetGroups>,
    /// uid_map is written by newuidmap (an unprivileged caller mapping ranges).
    pub uid_helper: bool,
    /// gid_map (and setgroups) are written by newgidmap.
    pub gid_helper: bool,
}

impl UserMaps {
    /// Writes setgroups, then uid_map and gid_map, of process `pid` (in that order: an
    /// unprivileged gid_map needs setgroups denied first). newgidmap writes setgroups
    /// itself: `allow` when it maps a range of /etc/subgid.
    pub fn write(&self, pid: Pid) -> Result<(), Error> {
        // Held while the helpers run on the PID (see `subid`).
        let held = match self.uid_helper || self.gid_helper {
            true => Some(nsproc::Process::open(pid.as_raw()).map_err(|_| Error::ChildVanished)?),
            false => None,
        };
        if let Some(setgroups) = self.setgroups.filter(|_| !self.gid_helper) {
            write_proc(pid, "setgroups", setgroups.as_str())?;
        }
        for (ids, map, helper) in [
            (Ids::Users, &self.uid, self.uid_helper),
            (Ids::Groups, &self.gid, self.gid_helper),
        ] {
            match (map.is_empty(), helper) {
                (true, _) => {}
                (false, true) => subid::write_with_helper(ids, pid, map)?,
                (false, false) => {
                    let file = if ids == Ids::Users {
                        "uid_map"
                    } else {
                        "gid_map"
                    };
                    write_proc(pid, file, &map.to_proc_text())?;
                }
            }
        }
        match held.map(|p| p.ensure_same()) {
            Some(Err(_)) => Err(Error::ChildVanished),
            _ => Ok(()),
        }
    }
}

fn write_proc(pid: Pid, file: &str, text: &str) -> Result<(), Error> {
    let path = PathBuf::from(format!("/proc/{pid}/{file}"));
    // One write(2): the kernel takes a map only whole.
    std::fs::write(&path, text).map_err(|source| Error::Write {
        hint: map_hint(file, &source),
        path,
        source,
    })
}

fn map_hint(file: &str, err: &std::io::Error) -> &'static str {
    match (file, err.raw_os_error()) {
        ("gid_map", Some(libc::EPERM)) => {
            " (without CAP_SETGID only your own gid can be mapped, after --setgroups deny)"
        }
        ("uid_map", Some(libc::EPERM)) => " (without CAP_SETUID only your own uid can be mapped)",
        (_, Some(libc::EINVAL)) => " (the kernel refused the map: check the ranges)",
        _ => "",
    }
}

/// The user-namespace mapping options as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct MapOptions {
    /// `-r`: map the caller's uid and gid to 0.
    pub root: bool,
    /// `-c`: map the caller's uid and gid to themselves.
    pub current: bool,
    /// `--map-user`: the uid inside that the caller's uid maps to.
    pub user: Option<u32>,
    /// `--map-group`: the gid inside that the caller's gid maps to.
    pub group: Option<u32>,
    pub users: Vec<IdRange>,
    pub groups: Vec<IdRange>,
    /// `--map-users auto`: the caller's uid to 0, its /etc/subuid range to 1..=N.
    pub auto_users: bool,
    /// `--map-groups auto`: the same with the caller's gid and /etc/subgid.
    pub auto_groups: bool,
    pub setgroups: Option<SetGroups>,
}

/// Who maps: the caller's effective IDs, whether it may write any map itself (root),
/// and its subordinate ranges where `auto` asks for them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Caller {
    pub uid: u32,
    pub gid: u32,
    pub privileged: bool,
    pub subuid: Option<SubRange>,
    pub subgid: Option<SubRange>,
}

impl MapOptions {
    /// Whether any option asks for a user namespace.
    pub fn any(&self) -> bool {
        self.root
            || self.current
            || self.user.is_some()
            || self.group.is_some()
            || !self.users.is_empty()
            || !self.groups.is_empty()
            || self.auto_users
            || self.auto_groups
            || self.setgroups.is_some()
    }

    /// The maps to write for `caller`. As in util-linux, `-r` and `-c` deny setgroups
    /// unless `--setgroups` says otherwise; with gid ranges mapped it is allowed. An
    /// unprivileged caller's maps holding ranges are written by the helpers.
    pub fn build(&self, caller: &Caller) -> Result<UserMaps, String> {
        let own = |id: Option<u32>, auto: bool, flag: &str| -> Result<Option<u32>, String> {
            let chosen = [self.root, self.current, id.is_some(), auto];
            if chosen.iter().filter(|c| **c).count() > 1 {
                return Err(format!(
                    "choose one of --map-root-user, --map-current-user, --map-auto and {flag}"
                ));
            }
            Ok(if self.root || auto {
                Some(0)
            } else if self.current {
                None
            } else {
                id
            })
        };
        let extra = |given: &[IdRange], sub: Option<SubRange>| -> Vec<IdRange> {
            given
                .iter()
                .copied()
                .chain(sub.map(SubRange::above_root))
                .collect()
        };
        let map = |inner: Option<u32>, outer: u32, extra: &[IdRange]| {
            let mine = match (inner, self.current) {
                (Some(inner), _) => Some(IdRange::single(inner, outer)),
                (None, true) => Some(IdRange::single(outer, outer)),
                (None, false) => None,
            };
            IdMap::new(mine.into_iter().chain(extra.iter().copied()).collect())
        };
        let uid_extra = extra(&self.users, caller.subuid.filter(|_| self.auto_users));
        let gid_extra = extra(&self.groups, caller.subgid.filter(|_| self.auto_groups));
        let gid_helper = !caller.privileged && !gid_extra.is_empty();
        let setgroups = self.setgroups.or(if !gid_extra.is_empty() {
            Some(SetGroups::Allow)
        } else {
            (self.root || self.current).then_some(SetGroups::Deny)
        });
        if gid_helper && setgroups == Some(SetGroups::Deny) {
            return Err(
                "--setgroups deny: newgidmap, which maps gid ranges for you, allows \
                        setgroups(2) whenever it maps a range of /etc/subgid"
                    .into(),
            );
        }
        Ok(UserMaps {
            uid: map(
                own(self.user, self.auto_users, "--map-user")?,
                caller.uid,
                &uid_extra,
            )?,
            gid: map(
                own(self.group, self.auto_groups, "--map-group")?,
                caller.gid,
                &gid_extra,
            )?,
            setgroups,
            uid_helper: !caller.privileged && !uid_extra.is_empty(),
            gid_helper,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(uid: u32, gid: u32) -> Caller {
        Caller {
            uid,
            gid,
            privileged: true,
            ..Default::default()
        }
    }

    #[test]
    fn parses_ranges() {
        assert_eq!(
            "0:100000:65536".parse::<IdRange>(),
            Ok(IdRange {
                inner: 0,
                outer: 100000,
                count: 65536
            })
        );
        for bad in [
            "",
            "1:2",
            "1:2:3:4",
            "a:1:1",
            "1:-1:1",
            "0:0:0",
            "4294967295:0:2",
        ] {
            assert!(bad.parse::<IdRange>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn refuses_overlaps() {
        let r = |s: &str| s.parse::<IdRange>().unwrap();
        assert!(IdMap::new(vec![r("0:1000:1"), r("1:100000:65536")]).is_ok());
        let err = IdMap::new(vec![r("0:1000:10"), r("5:2000:1")]).unwrap_err();
        assert!(err.contains("inside"), "{err}");
        let err = IdMap::new(vec![r("0:1000:10"), r("100:1009:1")]).unwrap_err();
        assert!(err.contains("outside"), "{err}");
        // Touching ranges do not overlap.
        assert!(IdMap::new(vec![r("0:1000:10"), r("10:1010:10")]).is_ok());
    }

    #[test]
    fn proc_text_has_a_line_per_range() {
        let map = IdMap::new(vec![
            IdRange::single(0, 1000),
            "1:100000:65536".parse().unwrap(),
        ])
        .unwrap();
        assert_eq!(map.to_proc_text(), "0 1000 1\n1 100000 65536\n");
        assert_eq!(IdMap::default().to_proc_text(), "");
    }

    #[test]
    fn builds_maps_from_options() {
        let root = MapOptions {
            root: true,
            ..Default::default()
        };
        let maps = root.build(&caller(1000, 100)).unwrap();
        assert_eq!(maps.uid.to_proc_text(), "0 1000 1\n");
        assert_eq!(maps.gid.to_proc_text(), "0 100 1\n");
        assert_eq!(maps.setgroups, Some(SetGroups::Deny));

        let current = MapOptions {
            current: true,
            setgroups: Some(SetGroups::Allow),
            ..Default::default()
        };
        let maps = current.build(&caller(1000, 100)).unwrap();
        assert_eq!(maps.uid.to_proc_text(), "1000 1000 1\n");
        assert_eq!(maps.setgroups, Some(SetGroups::Allow));

        let ranges = MapOptions {
            user: Some(5),
            users: vec!["100:200000:10".parse().unwrap()],
            ..Default::default()
        };
        let maps = ranges.build(&caller(0, 0)).unwrap();
        assert_eq!(maps.uid.to_proc_text(), "5 0 1\n100 200000 10\n");
        assert!(maps.gid.is_empty());
        assert_eq!(maps.setgroups, None);
    }

    #[test]
    fn refuses_conflicting_options() {
        let both = MapOptions {
            root: true,
            user: Some(3),
            ..Default::default()
        };
        assert!(both
            .build(&caller(0, 0))
            .unwrap_err()
            .contains("--map-user"));
        let overlap = MapOptions {
            root: true,
            users: vec!["0:5000:2".parse().unwrap()],
            ..Default::default()
        };
        assert!(overlap
            .build(&caller(0, 0))
            .unwrap_err()
            .contains("overlap"));
    }

    #[test]
    fn auto_maps_the_caller_to_root_and_the_range_above() {
        let auto = MapOptions {
            auto_users: true,
            auto_groups: true,
            ..Default::default()
        };
        let me = Caller {
            uid: 1000,
            gid: 1000,
            privileged: false,
            subuid: Some(SubRange {
                start: 300000,
                count: 65536,
            }),
            subgid: Some(SubRange {
                start: 400000,
                count: 10,
            }),
        };
        let maps = auto.build(&me).unwrap();
        assert_eq!(maps.uid.to_proc_text(), "0 1000 1\n1 300000 65536\n");
        assert_eq!(maps.gid.to_proc_text(), "0 1000 1\n1 400000 10\n");
        assert_eq!(maps.setgroups, Some(SetGroups::Allow));
        assert!(maps.uid_helper && maps.gid_helper);
        // Root writes the maps itself.
        let root = Caller {
            privileged: true,
            ..me
        };
        let maps = auto.build(&root).unwrap();
        assert!(!maps.uid_helper && !maps.gid_helper);
        // newgidmap allows setgroups whenever it maps a subordinate range.
        let deny = MapOptions {
            setgroups: Some(SetGroups::Deny),
            ..auto.clone()
        };
        assert!(deny.build(&me).unwrap_err().contains("newgidmap"));
        let with_root = MapOptions { root: true, ..auto };
        assert!(with_root.build(&me).unwrap_err().contains("--map-auto"));
    }

    #[test]
    fn only_ranges_take_the_helpers() {
        let me = Caller {
            uid: 1000,
            gid: 1000,
            ..Default::default()
        };
        let root = MapOptions {
            root: true,
            ..Default::default()
        };
        let maps = root.build(&me).unwrap();
        assert!(!maps.uid_helper && !maps.gid_helper);
        let ranges = MapOptions {
            users: vec!["1:300000:10".parse().unwrap()],
            ..root
        };
        let maps = ranges.build(&me).unwrap();
        assert!(maps.uid_helper && !maps.gid_helper);
        assert_eq!(maps.setgroups, Some(SetGroups::Deny));
        assert_eq!("auto".parse::<MapArg>(), Ok(MapArg::Auto));
        assert!(matches!("0:1:2".parse::<MapArg>(), Ok(MapArg::Range(_))));
        assert!("automatic".parse::<MapArg>().is_err());
    }
}

#[cfg(test)]
mod properties;
