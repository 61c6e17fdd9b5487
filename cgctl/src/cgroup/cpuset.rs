//! The cpuset plan both versions share: a CPU or memory node list checked against
//! what the parent has, and "max" meaning all of it. The file names differ per
//! version ([`crate::cgroup::v1::cpuset`], [`crate::cgroup::v2::cpuset`]).

use crate::cgroup::write::{w, Write};
use crate::cgroup::CgroupDir;
use crate::error::{Error, Result};
use crate::resource::Ranges;
use crate::value::{self, OrMax};

/// One cpuset list and where a version keeps it.
pub struct ListFile {
    /// The file to write (`cpuset.cpus`).
    pub file: &'static str,
    /// The parent's file saying what it really has (`cpuset.effective_cpus` on v1).
    pub effective: &'static str,
    /// What the list holds, for messages ("CPU").
    pub what: &'static str,
    /// What the list is called in a value error ("CPU list").
    pub list: &'static str,
}

impl ListFile {
    /// Sets the list to `l`, which must be within the parent's; `Max` copies the
    /// parent's.
    pub fn plan(&self, l: &OrMax<Ranges>, dir: &CgroupDir) -> Result<Vec<Write>> {
        let parent = dir.parent().ok().flatten();
        let parent = parent
            .as_ref()
            .and_then(|p| p.read_opt(self.effective).or_else(|| p.read_opt(self.file)))
            .map(|s| s.trim().to_string());
        let what = self.what;
        match l {
            OrMax::Max => match parent {
                Some(p) if !p.is_empty() => Ok(vec![w(self.file, p)]),
                _ => Err(Error::Refused(format!(
                    "cannot tell which {what}s the parent cgroup has (its {} is empty or missing)",
                    self.effective
                ))),
            },
            OrMax::Value(ranges) => {
                let available = parent
                    .as_deref()
                    .and_then(|p| value::parse_list(p, what).ok());
                if let Some(avail) = &available {
                    if !value::list_within(ranges, avail) {
                        return Err(Error::value(
                            self.list,
                            value::format_list(ranges),
                            format!(
                                "the parent cgroup only has {what}s {}",
                                value::format_list(avail)
                            ),
                        ));
                    }
                }
                Ok(vec![w(self.file, value::format_list(ranges))])
            }
        }
    }
}
