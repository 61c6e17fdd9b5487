//! /proc/PID/mountinfo, parsed: every field of a line, with the kernel's octal escapes
//! undone, and the two selections the tools make (nsfs mounts: namespaces kept alive by
//! a bind mount; cgroup mounts: the hierarchies).
//!
//! A line: `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// One line of mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub mount_id: u64,
    pub parent_id: u64,
    /// Device numbers of the mounted file system (one per superblock: for cgroupfs, one
    /// per hierarchy).
    pub major: u32,
    pub minor: u32,
    /// The path inside the file system that is mounted (for nsfs: `net:[4026532]`, for
    /// cgroupfs: a cgroup path).
    pub root: PathBuf,
    /// Where it is mounted, as the reading process sees it.
    pub mount_point: PathBuf,
    /// Per-mount options (`rw,relatime`).
    pub mount_options: String,
    /// Optional fields: `shared:N`, `master:N`, `propagate_from:N`, `unbindable`.
    pub optional: Vec<String>,
    pub fstype: String,
    /// The mount source (`/dev/root`, `cgroup`, `nsfs`); empty when the kernel gives none.
    pub source: String,
    /// Per-superblock options (for v1 cgroupfs: the controllers and `name=`).
    pub super_options: String,
}

impl Mount {
    /// `major:minor`, as mountinfo writes it.
    pub fn dev(&self) -> String {
        format!("{}:{}", self.major, self.minor)
    }

    /// The super options as a list.
    pub fn options(&self) -> impl Iterator<Item = &str> {
        self.super_options.split(',').filter(|o| !o.is_empty())
    }

    pub fn is_nsfs(&self) -> bool {
        self.fstype == "nsfs"
    }

    /// A cgroup v1 or cgroup2 mount.
    pub fn is_cgroup(&self) -> bool {
        self.fstype == "cgroup" || self.fstype == "cgroup2"
    }
}

/// Parses one line; `None` when it does not have mountinfo's shape.
pub fn parse_line(line: &[u8]) -> Option<Mount> {
    let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let mut number = || std::str::from_utf8(fields.next()?).ok();
    let mount_id = number()?.parse().ok()?;
    let parent_id = number()?.parse().ok()?;
    let (major, minor) = number()?.split_once(':')?;
    let (major, minor) = (major.parse().ok()?, minor.parse().ok()?);
    let root = path(fields.next()?);
    let mount_point = path(fields.next()?);
    let mount_options = text(fields.next()?);
    // Optional fields up to a lone "-", then the file system type, source, options.
    let mut optional = Vec::new();
    loop {
        match fields.next()? {
            b"-" => break,
            field => optional.push(text(field)),
        }
    }
    let fstype = text(fields.next()?);
    let source = fields.next().map(text).unwrap_or_default();
    let super_options = fields.next().map(text).unwrap_or_default();
    Some(Mount {
        mount_id,
        parent_id,
        major,
        minor,
        root,
        mount_point,
        mount_options,
        optional,
        fstype,
        source,
        super_options,
    })
}

/// Every mount of a mountinfo text, in mount order; lines that do not parse are
/// skipped (the kernel's format is stable, so that only happens to garbage).
pub fn parse(text: &[u8]) -> impl Iterator<Item = Mount> + '_ {
    text.split(|&b| b == b'\n').filter_map(parse_line)
}

/// The nsfs mounts: namespace files bind-mounted somewhere. Only their lines are
/// parsed: the type follows the lone `-`, and spaces inside fields are escaped, so
/// ` - nsfs ` appears in no other line.
pub fn nsfs_mounts(text: &[u8]) -> impl Iterator<Item = Mount> + '_ {
    text.split(|&b| b == b'\n')
        .filter(|line| line.windows(8).any(|w| w == b" - nsfs "))
        .filter_map(parse_line)
        .filter(Mount::is_nsfs)
}

/// The cgroup and cgroup2 mounts, in mount order.
pub fn cgroup_mounts(text: &[u8]) -> impl Iterator<Item = Mount> + '_ {
    parse(text).filter(Mount::is_cgroup)
}

fn path(field: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(&unescape(field)))
}

fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(&unescape(field)).into_owned()
}

/// Undoes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline,
/// `\134` backslash); anything else is kept as it is.
pub fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' {
            if let Some(code) = field.get(i + 1..i + 4).and_then(octal) {
                out.push(code);
                i += 4;
                continue;
            }
        }
        out.push(field[i]);
        i += 1;
    }
    out
}

fn octal(digits: &[u8]) -> Option<u8> {
    let mut value: u32 = 0;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        value = value * 8 + u32::from(d - b'0');
    }
    u8::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"\
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
25 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
610 26 0:4 net:[4026532580] /run/netns/blue rw shared:300 - nsfs nsfs rw
611 26 0:4 net:[4026532581] /run/netns/with\\040space rw - nsfs nsfs rw
700 22 0:4 mnt:[4026532600] /tmp/keep/mnt rw,relatime shared:320 master:1 - nsfs nsfs rw
";

    const HYBRID: &[u8] = b"\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
";

    #[test]
    fn every_field() {
        let m = parse_line(
            b"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue",
        )
        .unwrap();
        assert_eq!((m.mount_id, m.parent_id), (36, 35));
        assert_eq!((m.major, m.minor), (98, 0));
        assert_eq!(m.dev(), "98:0");
        assert_eq!(m.root, PathBuf::from("/mnt1"));
        assert_eq!(m.mount_point, PathBuf::from("/mnt2"));
        assert_eq!(m.mount_options, "rw,noatime");
        assert_eq!(m.optional, ["master:1", "shared:2"]);
        assert_eq!(m.fstype, "ext3");
        assert_eq!(m.source, "/dev/root");
        assert_eq!(m.super_options, "rw,errors=continue");
        assert_eq!(m.options().collect::<Vec<_>>(), ["rw", "errors=continue"]);
    }

    // nsinspect's cases.
    #[test]
    fn finds_nsfs_mounts() {
        let mounts: Vec<_> = nsfs_mounts(SAMPLE).collect();
        assert_eq!(mounts.len(), 3);
        assert_eq!(mounts[0].mount_point, PathBuf::from("/run/netns/blue"));
        assert_eq!(mounts[0].root, PathBuf::from("net:[4026532580]"));
        assert_eq!((mounts[0].major, mounts[0].minor), (0, 4));
        assert_eq!(mounts[0].mount_id, 610);
        assert_eq!(
            mounts[1].mount_point,
            PathBuf::from("/run/netns/with space")
        );
        assert_eq!(mounts[2].mount_point, PathBuf::from("/tmp/keep/mnt"));
    }

    #[test]
    fn optional_fields_before_separator() {
        let m =
            parse_line(b"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw")
                .unwrap();
        assert_eq!(m.fstype, "ext3");
        assert_eq!(m.root, PathBuf::from("/mnt1"));
        assert_eq!(m.mount_point, PathBuf::from("/mnt2"));
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(b"a\\040b\\011c\\012d\\134e"), b"a b\tc\nd\\e");
        // Not an escape: kept as it is.
        assert_eq!(unescape(b"a\\9b\\"), b"a\\9b\\");
        assert_eq!(unescape(b"\\777"), b"\\777");
        assert_eq!(unescape(b"a\\b\\04"), b"a\\b\\04");
    }

    #[test]
    fn garbage_lines_are_skipped() {
        for line in [
            &b""[..],
            b"x",
            b"1 2 3",
            b"1 2 0:4 / /x rw",
            b"1 2 0:4 / /x rw shared:1 -",
            b"a 2 0:4 / /x rw - nsfs nsfs rw",
            b"1 b 0:4 / /x rw - nsfs nsfs rw",
            b"1 2 04 / /x rw - nsfs nsfs rw",
        ] {
            assert_eq!(parse_line(line), None, "{}", String::from_utf8_lossy(line));
        }
        assert_eq!(parse(b"\n\ngarbage\n").count(), 0);
        assert_eq!(parse(b"garbage\n\n1 2 3\n").count(), 0);
    }

    #[test]
    fn non_utf8_mount_point() {
        let m = parse_line(b"1 2 0:4 net:[1] /run/\xff rw - nsfs nsfs rw").unwrap();
        assert_eq!(m.mount_point.as_os_str().as_bytes(), b"/run/\xff");
    }

    // cgctl's cases.
    #[test]
    fn finds_cgroup_mounts_only() {
        let mounts: Vec<_> = cgroup_mounts(HYBRID).collect();
        assert_eq!(mounts.len(), 4);
        assert_eq!(mounts[0].mount_point, PathBuf::from("/sys/fs/cgroup/cpu"));
        assert_eq!(mounts[0].options().collect::<Vec<_>>(), ["rw", "cpu"]);
        assert_eq!(mounts[2].options().last(), Some("name=systemd"));
        assert_eq!(mounts[3].fstype, "cgroup2");
        assert_eq!(mounts[3].dev(), "0:38");
    }

    #[test]
    fn keeps_the_root_field_and_unescapes() {
        let m: Vec<_> =
            cgroup_mounts(b"50 20 0:40 /box\\040one /mnt/my\\040cg rw - cgroup cg rw,name=test\n")
                .collect();
        assert_eq!(m[0].root, PathBuf::from("/box one"));
        assert_eq!(m[0].mount_point, PathBuf::from("/mnt/my cg"));
        assert_eq!(m[0].source, "cg");
    }

    #[test]
    fn missing_source_and_super_options() {
        let m = parse_line(b"1 2 0:4 / /x rw - tmpfs").unwrap();
        assert_eq!((m.source.as_str(), m.super_options.as_str()), ("", ""));
        assert_eq!(m.options().count(), 0);
    }
}
