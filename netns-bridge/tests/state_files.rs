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

/// A world-writable sticky directory as /tmp is (root's, mode 1777), a user made for the
/// test, and a root-owned file and directory that must never change.
struct Sticky {
    attacker: testkit::UserGuard,
    dir: tempfile::TempDir,
    victim: std::path::PathBuf,
    _victims: tempfile::TempDir,
}

impl Sticky {
    fn new() -> Sticky {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777))
            .expect("chmod");
        let victims = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(victims.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let victim = victims.path().join("victim");
        std::fs::write(&victim, b"precious\n").expect("victim");
        Sticky {
            attacker: testkit::UserGuard::new(),
            dir,
            victim,
            _victims: victims,
        }
    }

    /// `sh -c SCRIPT` as the attacker, in the sticky directory, with $VICTIM and
    /// $VICTIMS (the victim's directory) set.
    fn plant(&self, script: &str) {
        let status = self
            .attacker
            .command("/bin/sh")
            .args(["-ec", script])
            .current_dir(self.dir.path())
            .env("VICTIM", &self.victim)
            .env("VICTIMS", self.victims())
            .status()
            .expect("sh");
        assert!(status.success(), "{script}: {status}");
    }

    fn victims(&self) -> &std::path::Path {
        self.victim.parent().expect("victims")
    }

    fn path(&self, name: &str) -> String {
        self.dir
            .path()
            .join(name)
            .to_str()
            .expect("utf-8")
            .to_string()
    }

    /// The victim, and the directory it is in, as they were.
    fn assert_untouched(&self) {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::read(&self.victim).expect("victim"), b"precious\n");
        let meta = std::fs::metadata(&self.victim).expect("victim");
        assert_eq!((meta.uid(), meta.nlink()), (0, 1));
        let names: Vec<_> = std::fs::read_dir(self.victims())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["victim"], "something was made beside the victim");
    }
}

#[test]
fn an_unprivileged_users_links_at_the_state_directory_are_refused() {
    testkit::require_root!();
    testkit::require_program!("useradd");
    let host = Host::new();
    let target = NetnsGuard::new();
    let sticky = Sticky::new();
    // The state directory's name a link to a root-owned file, to a root-owned directory,
    // or a parent of it such a link: refused (exit 2), nothing made, neither written to.
    for (name, to, state) in [
        ("file", "$VICTIM", "file"),
        ("dir", "$VICTIMS", "dir"),
        ("via", "$VICTIMS", "via/state"),
    ] {
        sticky.plant(&format!("ln -s \"{to}\" {name}"));
        let state = sticky.path(state);
        let out = host.run(["--state-dir", &state, "attach", target.name()]);
        assert_fails(&out, 2);
        assert!(out.stderr().contains("symbolic link"), "{}", out.stderr());
        sticky.assert_untouched();
        assert_eq!(host.links(), ["lo"]);
    }
    // The state directory made by the attacker in advance, with links at the lock, the
    // state file and the temporary names, even world-writable and sticky itself:
    // refused (exit 2) as another user's, nothing written in it.
    sticky.plant(
        "mkdir -p own/netns; for n in lock state.json .state.json.tmp .tmp-state; do \
         ln -s \"$VICTIM\" own/$n; ln -s \"$VICTIM\" own/netns/$n; done; chmod 1777 own",
    );
    let out = host.run(["--state-dir", &sticky.path("own"), "attach", target.name()]);
    assert_fails(&out, 2);
    assert!(out.stderr().contains("owned by uid"), "{}", out.stderr());
    sticky.assert_untouched();
    assert_eq!(
        std::fs::read_dir(sticky.path("own")).expect("list").count(),
        5
    );
    assert_eq!(host.links(), ["lo"]);
}

#[test]
fn an_unprivileged_users_parent_directory_is_refused() {
    testkit::require_root!();
    testkit::require_program!("useradd");
    let host = Host::new();
    let target = NetnsGuard::new();
    let sticky = Sticky::new();
    // A parent the attacker made: world-writable without the sticky bit, or theirs
    // alone (they could rename the state directory away and plant their own, or a link).
    sticky.plant("mkdir open mine; chmod 777 open; chmod 755 mine");
    for parent in ["open", "mine"] {
        let state = format!("{}/state", sticky.path(parent));
        let out = host.run(["--state-dir", &state, "attach", target.name()]);
        assert_fails(&out, 2);
        assert!(
            out.stderr()
                .contains(&format!("its parent {}", sticky.path(parent))),
            "{}",
            out.stderr()
        );
        assert!(!std::path::Path::new(&state).exists(), "nothing created");
    }
    // The sticky directory itself is a fine parent: the state directory made is 0700 and
    // root's, and the attach works; the attacker can no longer plant anything in it.
    let state = sticky.path("state");
    host.run(["--state-dir", &state, "attach", target.name()])
        .expect_code(0);
    let meta = std::fs::symlink_metadata(&state).expect("made");
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o700);
    let status = sticky
        .attacker
        .command("/bin/sh")
        .args(["-c", "ln -s \"$0\" \"$1/lock\""])
        .args([sticky.victim.as_os_str(), std::ffi::OsStr::new(&state)])
        .status()
        .expect("sh");
    assert!(
        !status.success(),
        "the attacker planted a link in the state directory"
    );
    host.run(["--state-dir", &state, "down", "--force"])
        .expect_code(0);
    sticky.assert_untouched();
    assert!(host_veths(&host.links()).is_empty());
}
