//! /proc/PID/mountinfo, parsed: nsinspect looks for nsfs mounts, the bind mounts that
//! keep a namespace alive without a process (`ip netns add`, `nsrun --net=FILE`).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// One line of mountinfo, the fields nsinspect uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub mount_id: u64,
    /// Device numbers of the mounted file system.
    pub major: u32,
    pub minor: u32,
    /// The path inside the file system that is mounted (for nsfs: `net:[4026532]`).
    pub root: PathBuf,
    /// Where it is mounted, as the reading process sees it.
    pub mount_point: PathBuf,
    pub fstype: String,
}

/// Parses one line; `None` when it does not have mountinfo's shape.
pub fn parse_line(line: &[u8]) -> Option<Mount> {
    let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let mount_id = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
    let _parent_id = fields.next()?;
    let devno = std::str::from_utf8(fields.next()?).ok()?;
    let (major, minor) = devno.split_once(':')?;
    let (major, minor) = (major.parse().ok()?, minor.parse().ok()?);
    let root = unescape(fields.next()?);
    let mount_point = unescape(fields.next()?);
    // Mount options, then optional fields up to a lone "-", then the file system type.
    let _options = fields.next()?;
    fields.by_ref().find(|f| *f == b"-")?;
    let fstype = String::from_utf8_lossy(fields.next()?).into_owned();
    Some(Mount {
        mount_id,
        major,
        minor,
        root,
        mount_point,
        fstype,
    })
}

/// Every mount of a mountinfo text; lines that do not parse are skipped.
pub fn parse(text: &[u8]) -> impl Iterator<Item = Mount> + '_ {
    text.split(|&b| b == b'\n').filter_map(parse_line)
}

/// The nsfs mounts: namespace files bind-mounted somewhere.
pub fn nsfs_mounts(text: &[u8]) -> impl Iterator<Item = Mount> + '_ {
    parse(text).filter(|m| m.fstype == "nsfs")
}

/// Undoes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline,
/// `\134` backslash); anything else is kept as it is.
fn unescape(field: &[u8]) -> PathBuf {
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
    PathBuf::from(OsStr::from_bytes(&out))
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
        assert_eq!(
            unescape(b"a\\040b\\011c\\012d\\134e"),
            PathBuf::from("a b\tc\nd\\e")
        );
        // Not an escape: kept as it is.
        assert_eq!(unescape(b"a\\9b\\"), PathBuf::from("a\\9b\\"));
        assert_eq!(unescape(b"\\777"), PathBuf::from("\\777"));
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
            b"1 2 04 / /x rw - nsfs nsfs rw",
        ] {
            assert_eq!(parse_line(line), None, "{}", String::from_utf8_lossy(line));
        }
        assert_eq!(parse(b"\n\ngarbage\n").count(), 0);
    }

    #[test]
    fn non_utf8_mount_point() {
        let m = parse_line(b"1 2 0:4 net:[1] /run/\xff rw - nsfs nsfs rw").unwrap();
        assert_eq!(m.mount_point.as_os_str().as_bytes(), b"/run/\xff");
    }
}
