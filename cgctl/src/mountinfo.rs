//! Parsing `/proc/self/mountinfo` into the cgroup mounts it lists.

/// One line of mountinfo, reduced to what cgctl needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// `major:minor` of the filesystem: one per cgroup hierarchy (superblock).
    pub dev: String,
    /// The path inside the filesystem that is mounted (a cgroup path for cgroupfs).
    pub root: String,
    /// Where it is mounted.
    pub mount_point: String,
    pub fstype: String,
    /// The super options (for v1 cgroupfs: the controllers and `name=`).
    pub super_options: String,
}

impl Mount {
    /// The super options as a list.
    pub fn options(&self) -> impl Iterator<Item = &str> {
        self.super_options.split(',').filter(|o| !o.is_empty())
    }
}

/// Parses mountinfo text; lines that do not parse are skipped (the kernel's format
/// is stable, so that only happens to garbage).
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_line).collect()
}

/// The cgroup and cgroup2 mounts of mountinfo text, in mount order.
pub fn cgroup_mounts(text: &str) -> Vec<Mount> {
    parse(text)
        .into_iter()
        .filter(|m| m.fstype == "cgroup" || m.fstype == "cgroup2")
        .collect()
}

fn parse_line(line: &str) -> Option<Mount> {
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    let (left, right) = line.split_once(" - ")?;
    let mut l = left.split(' ');
    let _id = l.next()?;
    let _parent = l.next()?;
    let dev = l.next()?;
    let root = l.next()?;
    let mount_point = l.next()?;
    let mut r = right.split(' ');
    let fstype = r.next()?;
    let _source = r.next()?;
    let super_options = r.next().unwrap_or("");
    Some(Mount {
        dev: dev.to_string(),
        root: unescape(root),
        mount_point: unescape(mount_point),
        fstype: fstype.to_string(),
        super_options: super_options.to_string(),
    })
}

/// Undoes the kernel's octal escapes (`\040` for a space, `\012`, `\134`...).
pub fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let oct = &bytes[i + 1..i + 4];
            if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                let v = (oct[0] - b'0') as u32 * 64
                    + (oct[1] - b'0') as u32 * 8
                    + (oct[2] - b'0') as u32;
                if let Ok(b) = u8::try_from(v) {
                    out.push(b);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
";

    #[test]
    fn finds_cgroup_mounts_only() {
        let mounts = cgroup_mounts(HYBRID);
        assert_eq!(mounts.len(), 4);
        assert_eq!(mounts[0].mount_point, "/sys/fs/cgroup/cpu");
        assert_eq!(mounts[0].options().collect::<Vec<_>>(), ["rw", "cpu"]);
        assert_eq!(mounts[2].options().last(), Some("name=systemd"));
        assert_eq!(mounts[3].fstype, "cgroup2");
        assert_eq!(mounts[3].dev, "0:38");
    }

    #[test]
    fn keeps_the_root_field_and_unescapes() {
        let m =
            cgroup_mounts("50 20 0:40 /box\\040one /mnt/my\\040cg rw - cgroup cg rw,name=test\n");
        assert_eq!(m[0].root, "/box one");
        assert_eq!(m[0].mount_point, "/mnt/my cg");
    }

    #[test]
    fn skips_garbage() {
        assert!(parse("garbage\n\n1 2 3\n").is_empty());
        assert_eq!(unescape("a\\b\\04"), "a\\b\\04");
    }
}
