//! `--pid-file`: the child's PID, written atomically and removed when nsrun ends.

use std::path::{Path, PathBuf};

use nix::unistd::Pid;

use crate::error::Error;

pub struct PidFile {
    path: PathBuf,
    contents: String,
}

impl PidFile {
    /// Writes `pid` to a temporary file beside `path`, then renames it into place, so a
    /// reader never sees a partial file.
    pub fn create(path: &Path, pid: Pid) -> Result<Self, Error> {
        let contents = format!("{pid}\n");
        let name = path.file_name().ok_or_else(|| {
            Error::Usage(format!(
                "--pid-file {} does not name a file",
                path.display()
            ))
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".nsrun-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let fail = |path: &Path, source| Error::Write {
            path: path.to_path_buf(),
            source,
            hint: "",
        };
        std::fs::write(&tmp, &contents).map_err(|e| fail(&tmp, e))?;
        if let Err(e) = std::fs::rename(&tmp, path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(path, e));
        }
        Ok(PidFile {
            path: path.to_path_buf(),
            contents,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Leave the file alone if something else has replaced it since.
        if std::fs::read_to_string(&self.path).is_ok_and(|c| c == self.contents) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
