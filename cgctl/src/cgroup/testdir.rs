//! Test-only: a cgroup directory made of plain files in a temp dir, below a parent
//! with files of its own, to unit-test write plans without root.

use std::path::PathBuf;

use crate::cgroup::CgroupDir;
use crate::error::Result;
use crate::layout::Version;
use crate::resource::{Limit, Resource};

pub struct TestCgroup {
    _tmp: tempfile::TempDir,
    pub path: PathBuf,
    pub dir: CgroupDir,
}

/// A cgroup `parent/child` whose files hold `own` and whose parent's hold `parent`.
pub fn cgroup(own: &[(&str, &str)], parent: &[(&str, &str)]) -> TestCgroup {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("child");
    std::fs::create_dir(&path).unwrap();
    for (file, text) in parent {
        std::fs::write(tmp.path().join(file), text).unwrap();
    }
    for (file, text) in own {
        std::fs::write(path.join(file), text).unwrap();
    }
    let dir = CgroupDir::unchecked(&path).unwrap();
    TestCgroup {
        _tmp: tmp,
        path,
        dir,
    }
}

impl TestCgroup {
    /// A file's text, trimmed.
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.path.join(name))
            .unwrap()
            .trim()
            .to_string()
    }
}

/// VALUE for RESOURCE as the command line gives it (period 100000 µs, 8 GiB of memory).
pub fn limit(res: Resource, s: &str) -> Limit {
    Limit::parse(res, s, 100_000, 8 << 30).unwrap()
}

/// Plans `limit` on `cg`, carries the plan out on its files, and returns the plan as
/// (file, value) in order.
pub fn set(
    cg: &TestCgroup,
    limit: &Limit,
    version: Version,
    force: bool,
) -> Result<Vec<(&'static str, String)>> {
    let writes = crate::cgroup::plan(limit, version, force, &cg.dir)?;
    let (_, restore) =
        crate::cgroup::write::apply_plan(&cg.dir, &writes, limit.resource(), version)?;
    restore.keep();
    for w in &writes {
        assert_eq!(cg.file(w.file), w.value, "{} as written", w.file);
    }
    Ok(writes.into_iter().map(|w| (w.file, w.value)).collect())
}

/// The plan as (file, value) with owned strings, for comparing with literals.
pub fn pairs(p: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    p.iter().map(|(f, v)| (*f, v.to_string())).collect()
}
