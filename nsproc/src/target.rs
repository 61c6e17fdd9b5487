//! TARGET arguments, parsed before anything is opened: a PID, `self`, the path of a
//! namespace file, or the name of a network namespace under /run/netns (`ip netns`).
//! One parser for every tool; a [`Policy`] says what a bare word means.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::kind::Kind;

/// Where named network namespaces live (`ip netns add NAME`).
pub const NAMED_NETNS_DIR: &str = "/run/netns";

/// What a TARGET argument names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Pid(i32),
    /// The calling process (`self`), which shares its caller's namespaces.
    SelfProcess,
    Path(PathBuf),
    /// A network namespace under [`NAMED_NETNS_DIR`].
    Named(String),
}

/// How a TARGET is read. Digits are always a PID and a word holding `/` always a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// A bare word (no `/`) names a network namespace under /run/netns, rather than a
    /// file in the current directory.
    pub named_netns: bool,
    /// `self` is the calling process.
    pub self_word: bool,
}

impl Policy {
    /// nsinspect: a PID, `self` or a path.
    pub const PATHS: Policy = Policy {
        named_netns: false,
        self_word: true,
    };
    /// netns-bridge, like `ip netns`: a PID, a path, or a name under /run/netns.
    pub const NAMED_NETNS: Policy = Policy {
        named_netns: true,
        self_word: false,
    };
}

/// Why a TARGET does not parse. The messages are netns-bridge's; other tools put
/// their own words around the variants.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("empty TARGET")]
    Empty,
    /// Digits that are no PID: 0, or more than a PID can be.
    #[error("invalid PID '{0}'")]
    BadPid(String),
    /// `.`, `..`, a name holding NUL or not UTF-8, where a namespace name was expected.
    #[error("invalid namespace name '{0}'")]
    BadName(String),
}

/// Parses a TARGET under `policy`.
pub fn parse(text: &OsStr, policy: Policy) -> Result<Target, TargetError> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err(TargetError::Empty);
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        return parse_pid(&text.to_string_lossy()).map(Target::Pid);
    }
    if policy.self_word && bytes == b"self" {
        return Ok(Target::SelfProcess);
    }
    if !policy.named_netns || bytes.contains(&b'/') {
        return Ok(Target::Path(PathBuf::from(text)));
    }
    let bad = || TargetError::BadName(text.to_string_lossy().into_owned());
    let name = text.to_str().ok_or_else(bad)?;
    if name == "." || name == ".." || name.contains('\0') {
        return Err(bad());
    }
    Ok(Target::Named(name.to_string()))
}

/// Parses a PID: ASCII digits only, from 1 to `i32::MAX`.
pub fn parse_pid(text: &str) -> Result<i32, TargetError> {
    let bad = || TargetError::BadPid(text.to_string());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        _ => Err(bad()),
    }
}

impl Target {
    /// The namespace file of `kind` this target leads to: `/proc/PID/ns/KIND`,
    /// `/proc/self/ns/KIND`, the path itself, or `/run/netns/NAME`.
    pub fn ns_path(&self, kind: Kind) -> PathBuf {
        match self {
            Target::Pid(pid) => PathBuf::from(format!("/proc/{pid}/ns/{}", kind.proc_name())),
            Target::SelfProcess => PathBuf::from(format!("/proc/self/ns/{}", kind.proc_name())),
            Target::Path(path) => path.clone(),
            Target::Named(name) => PathBuf::from(NAMED_NETNS_DIR).join(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(s: &str) -> Result<Target, TargetError> {
        parse(OsStr::new(s), Policy::PATHS)
    }

    fn named(s: &str) -> Result<Target, TargetError> {
        parse(OsStr::new(s), Policy::NAMED_NETNS)
    }

    // nsinspect's cases.
    #[test]
    fn pids_self_and_paths() {
        assert_eq!(paths("1"), Ok(Target::Pid(1)));
        assert_eq!(paths("4242"), Ok(Target::Pid(4242)));
        assert_eq!(paths("self"), Ok(Target::SelfProcess));
        assert_eq!(
            paths("/run/netns/x"),
            Ok(Target::Path("/run/netns/x".into()))
        );
        assert_eq!(paths("netfile"), Ok(Target::Path("netfile".into())));
    }

    #[test]
    fn bad_numbers() {
        assert_eq!(paths(""), Err(TargetError::Empty));
        for s in ["0", "99999999999", "2147483648"] {
            assert_eq!(paths(s), Err(TargetError::BadPid(s.into())), "{s}");
        }
        assert_eq!(paths("2147483647"), Ok(Target::Pid(i32::MAX)));
    }

    // netns-bridge's cases (netns.rs target_path), with its messages.
    #[test]
    fn named_netns_targets() {
        assert_eq!(named("42"), Ok(Target::Pid(42)));
        assert_eq!(
            named("42").unwrap().ns_path(Kind::Net),
            PathBuf::from("/proc/42/ns/net")
        );
        assert_eq!(named("blue"), Ok(Target::Named("blue".into())));
        assert_eq!(
            named("blue").unwrap().ns_path(Kind::Net),
            PathBuf::from("/run/netns/blue")
        );
        assert_eq!(named("./x"), Ok(Target::Path("./x".into())));
        assert_eq!(
            named("/var/run/netns/x"),
            Ok(Target::Path("/var/run/netns/x".into()))
        );
        // `self` is a name there, as `ip netns` would have it.
        assert_eq!(named("self"), Ok(Target::Named("self".into())));
    }

    #[test]
    fn named_netns_rejects() {
        assert_eq!(named("").unwrap_err().to_string(), "empty TARGET");
        for pid in ["0", "4294967296", "2147483648"] {
            assert_eq!(
                named(pid).unwrap_err().to_string(),
                format!("invalid PID '{pid}'")
            );
        }
        for name in [".", "..", "a\0b"] {
            assert_eq!(
                named(name).unwrap_err().to_string(),
                format!("invalid namespace name '{name}'")
            );
        }
        let not_utf8 = OsStr::from_bytes(b"n\xff");
        assert!(matches!(
            parse(not_utf8, Policy::NAMED_NETNS),
            Err(TargetError::BadName(_))
        ));
        // As a path, a NUL or a dot is no concern of the parser's.
        assert_eq!(paths(".."), Ok(Target::Path("..".into())));
    }

    // cgctl's cases (procs.rs parse_pid; cgctl trims the line first).
    #[test]
    fn pids_alone() {
        assert_eq!(parse_pid("42"), Ok(42));
        assert_eq!(parse_pid(" 42\n".trim()), Ok(42));
        for bad in ["0", "-1", "x", "", "99999999999", "+4", " 4", "12a"] {
            assert_eq!(
                parse_pid(bad),
                Err(TargetError::BadPid(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn ns_paths() {
        assert_eq!(
            Target::SelfProcess.ns_path(Kind::Mount),
            PathBuf::from("/proc/self/ns/mnt")
        );
        assert_eq!(
            Target::Path("/x/y".into()).ns_path(Kind::Uts),
            PathBuf::from("/x/y")
        );
    }
}

#[cfg(test)]
mod properties;
