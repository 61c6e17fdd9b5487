//! `cgctl mount` / `cgctl umount`: mounting v1 hierarchies (named, or with
//! controllers) and cgroup2.

use nscli::error::Context;
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::cgfs;
use crate::error::{Error, Result};

/// What to mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// cgroup2.
    V2,
    /// A v1 hierarchy with these controllers (none: a named hierarchy) and name.
    V1 {
        controllers: Vec<String>,
        name: Option<String>,
    },
}

/// The mount options for a v1 hierarchy (`none,name=NAME`, `cpu,cpuacct`).
pub fn v1_options(controllers: &[String], name: Option<&str>) -> Result<String> {
    if let Some(n) = name {
        if n.is_empty()
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(Error::value(
                "hierarchy name",
                n,
                "use letters, digits, '_', '-' and '.'",
            ));
        }
    }
    let mut opts: Vec<String> = Vec::new();
    if controllers.is_empty() {
        if name.is_none() {
            return Err(Error::Usage(
                "a v1 hierarchy needs controllers (-c) or a name (--name)".to_string(),
            ));
        }
        opts.push("none".to_string());
    } else {
        opts.extend(controllers.iter().cloned());
    }
    if let Some(n) = name {
        opts.push(format!("name={n}"));
    }
    Ok(opts.join(","))
}

/// Flags of every cgroup mount cgctl makes.
const FLAGS: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC);

/// Mounts a hierarchy on `dir` (made if missing, and removed again on failure). The
/// options are checked before anything is made.
pub fn mount_at(kind: &Kind, dir: &Path) -> Result<()> {
    let v1_opts = match kind {
        Kind::V2 => None,
        Kind::V1 { controllers, name } => Some(v1_options(controllers, name.as_deref())?),
    };
    let made = if dir.exists() {
        false
    } else {
        std::fs::create_dir(dir).map_err(|e| Error::file("create", dir, e))?;
        true
    };
    let result = match &v1_opts {
        None => mount(Some("cgroup2"), dir, Some("cgroup2"), FLAGS, None::<&str>),
        Some(opts) => mount(
            Some("cgroup"),
            dir,
            Some("cgroup"),
            FLAGS,
            Some(opts.as_str()),
        ),
    };
    if let Err(e) = result {
        if made {
            let _ = std::fs::remove_dir(dir);
        }
        let hint = match e {
            Errno::EBUSY => " (a controller is already bound to another hierarchy with different controllers; mount exactly the same set, or a named hierarchy)",
            Errno::ENOENT | Errno::EINVAL => " (unknown controller, or this kernel has no cgroup v1 support for it)",
            Errno::EPERM => " (needs CAP_SYS_ADMIN)",
            _ => "",
        };
        return Err(Error::Sys {
            what: format!("cannot mount a cgroup hierarchy on {}", dir.display()),
            source: e,
            hint: hint.to_string(),
        });
    }
    Ok(())
}

/// Unmounts the cgroup filesystem on `dir`; refuses anything else. Returns the number
/// of child cgroups that keep the hierarchy alive, hidden: those of a v1 hierarchy
/// mounted nowhere else. cgroup2 is one hierarchy the kernel always keeps, and a
/// hierarchy still mounted elsewhere is not hidden: 0 for both.
pub fn umount_at(dir: &Path) -> Result<usize> {
    crate::cgroup::CgroupDir::open(dir)?;
    let text = std::fs::read("/proc/self/mountinfo")
        .map_err(|e| Error::file("read", "/proc/self/mountinfo", e))?;
    let real = dir
        .canonicalize()
        .map_err(|e| Error::file("resolve", dir, e))?;
    let mounts: Vec<_> = nsproc::mountinfo::cgroup_mounts(&text).collect();
    let Some(mounted) = mounts.iter().find(|m| m.mount_point == real) else {
        return Err(Error::Refused(format!(
            "{} is not the mount point of a cgroup filesystem",
            dir.display()
        )));
    };
    let children = cgfs::children(&real).map(|c| c.len()).unwrap_or(0);
    umount2(&real, MntFlags::empty()).context(|| format!("cannot unmount {}", real.display()))?;
    let mounted_elsewhere = mounts
        .iter()
        .any(|m| m.mount_point != mounted.mount_point && m.dev() == mounted.dev());
    if mounted.fstype != "cgroup" || mounted_elsewhere {
        return Ok(0);
    }
    if children == 0 {
        release_empty_v1(&real, &mounted.super_options);
    }
    Ok(children)
}

/// The kernel destroys an unmounted v1 hierarchy only if it has no child cgroups at that
/// moment, and a child removed just before is released asynchronously, so the hierarchy
/// can live on, hidden, with nothing in it. Mounting it again once the release is done
/// and unmounting it then lets the kernel destroy it. Best effort, for at most a second.
fn release_empty_v1(dir: &Path, super_options: &str) {
    let controllers: Vec<&str> = super_options
        .split(',')
        .filter(|o| !matches!(*o, "rw" | "ro") && !o.starts_with("release_agent="))
        .collect();
    let listed = || {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        own.lines().any(|line| {
            let mut parts = line.splitn(3, ':');
            let set = parts.nth(1).unwrap_or("");
            let mut set: Vec<&str> = set.split(',').collect();
            let mut want = controllers.clone();
            set.sort_unstable();
            want.sort_unstable();
            !set.is_empty() && set == want
        })
    };
    let opts = if controllers.iter().any(|c| c.starts_with("name=")) && controllers.len() == 1 {
        format!("none,{}", controllers[0])
    } else {
        controllers.join(",")
    };
    for _ in 0..50 {
        if !listed() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        if mount(
            Some("cgroup"),
            dir,
            Some("cgroup"),
            FLAGS,
            Some(opts.as_str()),
        )
        .is_err()
        {
            return;
        }
        let empty = cgfs::children(dir).map(|c| c.is_empty()).unwrap_or(false);
        let _ = umount2(dir, MntFlags::empty());
        if !empty {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert_eq!(v1_options(&[], Some("test")).unwrap(), "none,name=test");
        assert_eq!(
            v1_options(&["cpu".into(), "cpuacct".into()], None).unwrap(),
            "cpu,cpuacct"
        );
        assert!(v1_options(&[], None).is_err());
        assert!(v1_options(&[], Some("a,b")).is_err());
    }
}
