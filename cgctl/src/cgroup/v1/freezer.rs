//! The v1 freezer controller: `freezer.state`.

use crate::cgroup::freezer::Step;
use crate::cgroup::CgroupDir;

/// The state to write and wait for.
pub fn state(frozen: bool) -> &'static str {
    if frozen {
        "FROZEN"
    } else {
        "THAWED"
    }
}

/// Writes the wanted state and reads where the cgroup is. Writing again moves a
/// FREEZING cgroup on (new tasks get frozen too).
pub fn step(dir: &CgroupDir, frozen: bool) -> Result<(), Step> {
    let want = state(frozen);
    dir.write("freezer.state", want)?;
    let now = dir.read("freezer.state")?;
    if now.trim() == want {
        Ok(())
    } else {
        Err(Step::Seen(now.trim().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_waits_for_the_state() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("freezer.state"), "THAWED\n").unwrap();
        let dir = CgroupDir::unchecked(tmp.path()).unwrap();
        assert!(step(&dir, true).is_ok());
        assert_eq!(dir.read("freezer.state").unwrap(), "FROZEN");
    }
}
