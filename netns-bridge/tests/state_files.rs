//! The state directory as an attacker would meet it: symlinks planted at the names
//! netns-bridge writes, a state directory others can write to, a lock that is a link.
//! Nothing may be written through a symlink, and an unsafe directory is refused (exit 2)
//! before anything is made.

mod common;

use std::os::unix::fs::{symlink, PermissionsExt};

use common::{assert_fails, host_veths, Host};
use testkit::NetnsGuard;

/// A file that must never change, outside the state directory.
fn victim() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("victim");
    std::fs::write(&path, b"precious\n").expect("victim");
    (dir, path)
}

/// Makes `dir` as netns-bridge would: 0700.
fn private_dir(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
}

#[test]
fn a_symlink_at_the_old_temporary_name_is_not_written_through() {
    testkit::require_root!();
    let host = Host::new();
    let (_keep, victim) = victim();
    let first = NetnsGuard::new();
    let second = NetnsGuard::new();
    // Planted before the first attach makes the directory (as issue 16 found, even an
    // attach that then fails must not write through it) and again between attaches.
    let bridge_dir = host.bridge_dir("nsbr0");
    private_dir(&host.host_dir());
    std::fs::create_dir(&bridge_dir).expect("mkdir");
    std::fs::set_permissions(&bridge_dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    symlink(&victim, bridge_dir.join(".state.json.tmp")).expect("plant");
    host.run(["attach", first.name(), "--subnet", "10.81.0.0/24"])
        .expect_code(0);
    host.run(["attach", second.name()]).expect_code(0);
    assert_eq!(std::fs::read(&victim).expect("victim"), b"precious\n");
    assert_eq!(host.lease_count("nsbr0"), 2);
    let mode = std::fs::metadata(&bridge_dir)
        .expect("dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    for entry in std::fs::read_dir(&bridge_dir).expect("list") {
        let entry = entry.expect("entry");
        let meta = std::fs::symlink_metadata(entry.path()).expect("state");
        if entry.file_name() == ".state.json.tmp" {
            continue;
        }
        assert!(meta.file_type().is_file(), "{:?}", entry.file_name());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    // A state file replaced by a symlink: read through it? No: refused, left as is. The
    // bridge's record, and a state file of the earlier format (read first).
    for name in ["bridge.json", "state.json"] {
        let kept = bridge_dir.join(format!("{name}.kept"));
        if bridge_dir.join(name).exists() {
            std::fs::rename(bridge_dir.join(name), &kept).expect("mv");
        }
        symlink(&victim, bridge_dir.join(name)).expect("plant");
        let third = NetnsGuard::new();
        let out = host.run(["attach", third.name()]);
        assert_fails(&out, 1);
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious\n");
        assert!(std::fs::symlink_metadata(bridge_dir.join(name))
            .expect("still there")
            .file_type()
            .is_symlink());
        std::fs::remove_file(bridge_dir.join(name)).expect("rm");
        if kept.exists() {
            std::fs::rename(&kept, bridge_dir.join(name)).expect("mv back");
        }
    }
}

#[test]
fn a_symlink_at_the_lock_is_refused() {
    testkit::require_root!();
    let host = Host::new();
    let (_keep, victim) = victim();
    let target = NetnsGuard::new();
    let bridge_dir = host.bridge_dir("br-lock");
    private_dir(&host.host_dir());
    std::fs::create_dir(&bridge_dir).expect("mkdir");
    std::fs::set_permissions(&bridge_dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    symlink(&victim, bridge_dir.join("lock")).expect("plant");
    let out = host.run(["attach", target.name(), "-b", "br-lock"]);
    assert_fails(&out, 2);
    assert!(out.stderr().contains("symlink"), "{}", out.stderr());
    assert_eq!(std::fs::read(&victim).expect("victim"), b"precious\n");
    assert_eq!(host.links(), ["lo"]);
    // A bridge directory that is itself a symlink is refused too.
    symlink(victim.parent().expect("dir"), host.bridge_dir("br-dir")).expect("plant");
    let out = host.run(["attach", target.name(), "-b", "br-dir"]);
    assert_fails(&out, 2);
    assert_eq!(
        std::fs::read_dir(victim.parent().expect("dir"))
            .expect("list")
            .count(),
        1,
        "nothing made in the symlink's target"
    );
}

#[test]
fn a_state_directory_others_can_write_to_is_refused() {
    testkit::require_root!();
    let host = Host::new();
    let target = NetnsGuard::new();
    let open = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    // The state directory inside a world-writable directory without the sticky bit.
    let inside = open.path().join("state");
    let dir = inside.to_str().expect("utf-8");
    let out = host.run(["--state-dir", dir, "attach", target.name()]);
    assert_fails(&out, 2);
    assert!(
        out.stderr().contains("writable by others"),
        "{}",
        out.stderr()
    );
    assert!(!inside.exists(), "nothing created");
    assert_eq!(host.links(), ["lo"]);
    // The state directory itself world-writable.
    let out = host.run([
        "--state-dir",
        open.path().to_str().expect("utf-8"),
        "attach",
        target.name(),
    ]);
    assert_fails(&out, 2);
    // With the sticky bit (as /tmp has), the parent is fine; the directory made is 0700.
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    host.run(["--state-dir", dir, "attach", target.name()])
        .expect_code(0);
    let mode = std::fs::metadata(&inside)
        .expect("made")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    host.run(["--state-dir", dir, "down", "--force"])
        .expect_code(0);
    assert!(host_veths(&host.links()).is_empty());
}
