//! Whether systemd manages this host's cgroup tree, and which subtrees it delegated:
//! read from files only (no bus), so that detection costs a few syscalls.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::layout::{Layout, Mode};

/// What sd_booted(3) checks: the directory systemd makes at boot, below /run.
pub const BOOTED_DIR: &str = "systemd/system";

/// The xattrs systemd (since 251/252) sets to "1" on the cgroup of a unit with
/// `Delegate=yes`: `trusted.` by the system manager, `user.` also by user managers.
pub const DELEGATE_XATTRS: &[&str] = &["trusted.delegate", "user.delegate"];

/// Whether systemd is PID 1's manager of the cgroup tree: booted with systemd (`RUN`
/// `/systemd/system` is a directory) and the host is cgroup v2 only (cgctl leaves v1
/// and hybrid hosts to the files, as before).
pub fn manages(run: &Path, layout: &Layout) -> bool {
    let booted = std::fs::symlink_metadata(run.join(BOOTED_DIR)).is_ok_and(|m| m.is_dir());
    booted && layout.mode == Mode::V2
}

/// Whether systemd delegated the cgroup directory `dir`: one of [`DELEGATE_XATTRS`]
/// is "1", or (for an unprivileged caller) the directory belongs to the caller, as
/// systemd chowns a delegated unit's cgroup to its user.
pub fn is_delegated(dir: &Path, uid: u32) -> bool {
    if DELEGATE_XATTRS
        .iter()
        .any(|x| xattr(dir, x).as_deref() == Some(b"1"))
    {
        return true;
    }
    uid != 0 && std::fs::metadata(dir).is_ok_and(|m| m.uid() == uid)
}

/// The deepest delegated cgroup directory from `dir` up to (not including) `top`, the
/// hierarchy's mount point. Only a unit's own cgroup counts (systemd delegates units):
/// not a cgroup made inside the subtree, which its maker owns too.
pub fn delegated_ancestor(dir: &Path, top: &Path, uid: u32) -> Option<PathBuf> {
    let mut d = dir;
    while d.starts_with(top) && d != top {
        let name = d.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if unit_of(name) == Some(name) && is_delegated(d, uid) {
            return Some(d.to_path_buf());
        }
        d = d.parent()?;
    }
    None
}

/// The unit a cgroup path belongs to (`/system.slice/cgctl-1.scope/sub` →
/// `cgctl-1.scope`): its deepest component that names a unit.
pub fn unit_of(cgroup_path: &str) -> Option<&str> {
    const KINDS: &[&str] = &[".scope", ".service", ".slice", ".socket", ".mount", ".swap"];
    cgroup_path
        .split('/')
        .rfind(|c| KINDS.iter().any(|k| c.len() > k.len() && c.ends_with(k)))
}

/// The value of an extended attribute, if it has one of at most 16 bytes.
fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let p = CString::new(path.as_os_str().as_bytes()).ok()?;
    let n = CString::new(name).ok()?;
    let mut buf = [0u8; 16];
    // SAFETY: both names are NUL-terminated and buf is valid for buf.len() bytes.
    let len =
        unsafe { libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    let len = usize::try_from(len).ok()?;
    Some(buf.get(..len)?.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests::{layout, HYBRID, V2};

    #[test]
    fn manages_only_when_booted_and_v2() {
        let run = tempfile::tempdir().unwrap();
        let v2 = layout(V2, "cpu memory pids");
        let hybrid = layout(HYBRID, "");
        assert!(!manages(run.path(), &v2), "no /run/systemd/system");
        std::fs::create_dir_all(run.path().join("systemd")).unwrap();
        std::fs::write(run.path().join(BOOTED_DIR), "").unwrap();
        assert!(!manages(run.path(), &v2), "a file is not the directory");
        std::fs::remove_file(run.path().join(BOOTED_DIR)).unwrap();
        std::fs::create_dir(run.path().join(BOOTED_DIR)).unwrap();
        assert!(manages(run.path(), &v2));
        assert!(!manages(run.path(), &hybrid), "hybrid stays with the files");
    }

    #[test]
    fn this_host_is_not_managed_by_systemd() {
        // The host the tests run on (and the busybox VM lanes) have no systemd as PID 1.
        if Path::new("/run/systemd/system").exists() {
            return;
        }
        if let Ok(l) = Layout::detect() {
            assert!(!manages(Path::new("/run"), &l));
        }
    }

    #[test]
    fn delegation_by_owner_for_users_only() {
        let top = tempfile::tempdir().unwrap();
        let deep = top.path().join("user.slice/user@1000.service/app.slice");
        std::fs::create_dir_all(&deep).unwrap();
        let owner = std::fs::metadata(&deep).unwrap().uid();
        // the caller owns everything below top: the deepest directory is the answer
        if owner != 0 {
            assert_eq!(
                delegated_ancestor(&deep, top.path(), owner).as_deref(),
                Some(deep.as_path())
            );
        }
        // root owns everything: ownership says nothing, and no xattr is set here
        assert_eq!(delegated_ancestor(&deep, top.path(), 0), None);
        assert_eq!(delegated_ancestor(&deep, top.path(), owner + 1), None);
        // never above top
        assert_eq!(delegated_ancestor(top.path(), top.path(), owner), None);
        // a cgroup made inside the subtree is not where it was delegated
        let inner = deep.join("run-1.scope/nstools-leaf-1");
        std::fs::create_dir_all(&inner).unwrap();
        if owner != 0 {
            assert_eq!(
                delegated_ancestor(&inner, top.path(), owner).as_deref(),
                Some(deep.join("run-1.scope").as_path())
            );
        }
    }

    #[test]
    fn units_of_cgroup_paths() {
        assert_eq!(
            unit_of("/system.slice/cgctl-1.scope"),
            Some("cgctl-1.scope")
        );
        assert_eq!(
            unit_of("/user.slice/user-1000.slice/user@1000.service/app.slice/x/payload"),
            Some("app.slice")
        );
        assert_eq!(
            unit_of("/system.slice/cgctl-b.scope/sub"),
            Some("cgctl-b.scope")
        );
        assert_eq!(unit_of("/box/web"), None);
        assert_eq!(unit_of("/"), None);
        assert_eq!(unit_of("/.scope"), None);
    }
}
