//! The kinds of Linux namespace, with their clone flags and /proc names.

use std::ffi::CStr;

use nix::sched::CloneFlags;

/// One kind of Linux namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Cgroup,
    Ipc,
    Mount,
    Net,
    Pid,
    Time,
    User,
    Uts,
}

impl Kind {
    /// Every kind, in the order /proc/PID/ns lists them.
    pub const ALL: [Kind; 8] = [
        Kind::Cgroup,
        Kind::Ipc,
        Kind::Mount,
        Kind::Net,
        Kind::Pid,
        Kind::Time,
        Kind::User,
        Kind::Uts,
    ];

    /// The position of this kind in [`Kind::ALL`], for fixed-size per-kind arrays.
    pub fn index(self) -> usize {
        match self {
            Kind::Cgroup => 0,
            Kind::Ipc => 1,
            Kind::Mount => 2,
            Kind::Net => 3,
            Kind::Pid => 4,
            Kind::Time => 5,
            Kind::User => 6,
            Kind::Uts => 7,
        }
    }

    /// The namespace link below `/proc/PID`, relative to that directory (`ns/net`).
    pub fn ns_link(self) -> &'static CStr {
        match self {
            Kind::Cgroup => c"ns/cgroup",
            Kind::Ipc => c"ns/ipc",
            Kind::Mount => c"ns/mnt",
            Kind::Net => c"ns/net",
            Kind::Pid => c"ns/pid",
            Kind::Time => c"ns/time",
            Kind::User => c"ns/user",
            Kind::Uts => c"ns/uts",
        }
    }

    /// The file name below `/proc/PID/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Kind::Cgroup => "cgroup",
            Kind::Ipc => "ipc",
            Kind::Mount => "mnt",
            Kind::Net => "net",
            Kind::Pid => "pid",
            Kind::Time => "time",
            Kind::User => "user",
            Kind::Uts => "uts",
        }
    }

    /// The `CLONE_NEW*` flag that creates this kind.
    pub fn clone_flag(self) -> CloneFlags {
        match self {
            Kind::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            Kind::Ipc => CloneFlags::CLONE_NEWIPC,
            Kind::Mount => CloneFlags::CLONE_NEWNS,
            Kind::Net => CloneFlags::CLONE_NEWNET,
            Kind::Pid => CloneFlags::CLONE_NEWPID,
            // CLONE_NEWTIME is not in nix's CloneFlags; it is only ever passed to unshare(2).
            Kind::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
            Kind::User => CloneFlags::CLONE_NEWUSER,
            Kind::Uts => CloneFlags::CLONE_NEWUTS,
        }
    }
}

impl Kind {
    /// The kind whose `CLONE_NEW*` value this is, as the `NS_GET_NSTYPE` ioctl on a
    /// namespace file returns it.
    pub fn from_clone_flag(value: i32) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.clone_flag().bits() == value)
    }
}

/// A namespace kind name that is none of the eight.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown namespace type '{0}' (expected cgroup, ipc, mnt, net, pid, time, user or uts)")]
pub struct UnknownKind(pub String);

impl std::str::FromStr for Kind {
    type Err = UnknownKind;

    /// Parses the /proc name (`net`, `mnt`, ...); `mount` is accepted for `mnt`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "mount" {
            return Ok(Kind::Mount);
        }
        Kind::ALL
            .into_iter()
            .find(|kind| kind.proc_name() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.proc_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_distinct() {
        let mut all = CloneFlags::empty();
        for kind in Kind::ALL {
            assert!(!all.intersects(kind.clone_flag()), "{kind} shares a flag");
            all |= kind.clone_flag();
        }
    }

    #[test]
    fn names_parse_back() {
        for kind in Kind::ALL {
            assert_eq!(kind.proc_name().parse::<Kind>(), Ok(kind));
        }
        assert_eq!("mount".parse::<Kind>(), Ok(Kind::Mount));
        assert_eq!(
            "network".parse::<Kind>().unwrap_err().to_string(),
            "unknown namespace type 'network' (expected cgroup, ipc, mnt, net, pid, time, user or uts)"
        );
        assert!("".parse::<Kind>().is_err());
    }

    #[test]
    fn clone_flags_map_back() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_clone_flag(kind.clone_flag().bits()), Some(kind));
        }
        assert_eq!(Kind::from_clone_flag(libc::CLONE_NEWNET), Some(Kind::Net));
        assert_eq!(Kind::from_clone_flag(0), None);
        assert_eq!(Kind::from_clone_flag(libc::CLONE_VM), None);
    }

    #[test]
    fn indexes_follow_all() {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }

    #[test]
    fn links_name_every_kind() {
        for kind in Kind::ALL {
            assert_eq!(
                kind.ns_link().to_str().unwrap(),
                format!("ns/{}", kind.proc_name())
            );
        }
    }

    #[test]
    fn proc_names_match_the_kernel() {
        let names: Vec<_> = Kind::ALL.iter().map(|k| k.proc_name()).collect();
        assert_eq!(
            names,
            ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]
        );
    }
}
