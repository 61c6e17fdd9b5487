//! Temporary mounts, and reading the mount table.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// A tmpfs mounted on a fresh temporary directory; unmounted and removed on drop.
pub struct TempMount {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl TempMount {
    pub fn tmpfs() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("nstools-test-")
            .tempdir()
            .expect("cannot create a temporary directory");
        let path = dir.path().to_path_buf();
        mount(
            Some("tmpfs"),
            &path,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("size=16m,mode=755"),
        )
        .unwrap_or_else(|e| panic!("cannot mount tmpfs on {}: {e}", path.display()));
        TempMount {
            dir: Some(dir),
            path,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempMount {
    fn drop(&mut self) {
        // Anything a test mounted below goes with it.
        let _ = umount2(&self.path, MntFlags::MNT_DETACH);
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// The mount points of this process's mount namespace, from /proc/self/mountinfo.
pub fn mount_points() -> Vec<String> {
    let text = std::fs::read("/proc/self/mountinfo").expect("cannot read /proc/self/mountinfo");
    nsproc::mountinfo::parse(&text)
        .map(|m| m.mount_point.to_string_lossy().into_owned())
        .collect()
}
