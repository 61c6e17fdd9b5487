//! The v2 freezer: `cgroup.freeze`, and `frozen` in `cgroup.events`.

use crate::cgroup::freezer::Step;
use crate::cgroup::CgroupDir;
use crate::error::{Error, Result};

/// Asks the kernel to freeze or thaw.
pub fn start(dir: &CgroupDir, frozen: bool) -> Result<()> {
    dir.write("cgroup.freeze", if frozen { "1" } else { "0" })
}

/// Whether cgroup.events says the cgroup got there.
pub fn step(dir: &CgroupDir, frozen: bool) -> std::result::Result<(), Step> {
    let now = dir
        .read_key("cgroup.events", "frozen")
        .ok_or_else(|| Error::Parse {
            path: dir.path().join("cgroup.events"),
            why: "no 'frozen' line".to_string(),
        })?;
    if (now == 1) == frozen {
        Ok(())
    } else {
        Err(Step::Seen(format!("frozen {now}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freezes_through_cgroup_freeze() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("cgroup.freeze"), "0\n").unwrap();
        std::fs::write(tmp.path().join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        let dir = CgroupDir::unchecked(tmp.path()).unwrap();
        start(&dir, true).unwrap();
        assert_eq!(dir.read("cgroup.freeze").unwrap(), "1");
        assert!(matches!(step(&dir, true), Err(Step::Seen(s)) if s == "frozen 0"));
        std::fs::write(tmp.path().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        assert!(step(&dir, true).is_ok());
    }
}
