//! A system user made for one test (an unprivileged attacker, or a rootless caller),
//! removed again on drop.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

/// A user `nstools-PID-N` made with `useradd --system --no-create-home` (and a group of
/// the same name), deleted with `userdel` when dropped, also when the test panics.
/// Where `/etc` is read-only (the VM lanes boot the host's root read-only), it is a uid
/// and gid no account and no process uses, without a passwd entry: enough for `command`,
/// not for what needs the account by name.
#[derive(Debug)]
pub struct UserGuard {
    name: String,
    uid: u32,
    gid: u32,
    account: bool,
}

/// Whether `/etc` is on a read-only filesystem.
fn etc_read_only() -> bool {
    nix::sys::statvfs::statvfs("/etc")
        .is_ok_and(|v| v.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY))
}

/// A uid (and gid of the same number) in 61000..62000 that no account, group or process
/// uses.
fn unused_id() -> u32 {
    let used: std::collections::BTreeSet<u32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::metadata(e.path()).ok())
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .collect();
    (61000..62000)
        .find(|&id| {
            !used.contains(&id)
                && nix::unistd::User::from_uid(id.into())
                    .ok()
                    .flatten()
                    .is_none()
                && nix::unistd::Group::from_gid(id.into())
                    .ok()
                    .flatten()
                    .is_none()
        })
        .expect("a free uid in 61000..62000")
}

impl UserGuard {
    /// Makes the user, with `shell` as its login shell. Panics when it cannot: callers
    /// check for root and `useradd` first (`require_root!`, `require_program!`).
    pub fn with_shell(shell: &str) -> UserGuard {
        if etc_read_only() {
            let id = unused_id();
            return UserGuard {
                name: format!("uid-{id}"),
                uid: id,
                gid: id,
                account: false,
            };
        }
        let name = crate::unique_name("nstools");
        // useradd takes a lock on /etc/passwd and gives up when another holds it (tests
        // run in parallel): try again a few times.
        let mut tries = 0;
        loop {
            let status = Command::new("useradd")
                .args(["--system", "--no-create-home", "--user-group", "--shell"])
                .arg(shell)
                .arg(&name)
                .status()
                .expect("cannot run useradd");
            if status.success() {
                break;
            }
            tries += 1;
            assert!(tries < 20, "useradd {name} failed: {status}");
            std::thread::sleep(Duration::from_millis(100 * tries));
        }
        let user = nix::unistd::User::from_name(&name)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("useradd made no user {name}"));
        UserGuard {
            name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            account: true,
        }
    }

    /// A user that cannot log in (`/usr/sbin/nologin`).
    pub fn new() -> UserGuard {
        UserGuard::with_shell("/usr/sbin/nologin")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn uid(&self) -> u32 {
        self.uid
    }

    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// `program`, to be run as this user (its uid and gid, no supplementary groups).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.uid(self.uid).gid(self.gid).current_dir("/");
        cmd
    }
}

impl Default for UserGuard {
    fn default() -> Self {
        UserGuard::new()
    }
}

impl Drop for UserGuard {
    fn drop(&mut self) {
        if !self.account {
            return;
        }
        // userdel refuses a user that still runs something: the test waits for its own.
        for tries in 1..=20u64 {
            let removed = Command::new("userdel")
                .arg(&self.name)
                .status()
                .is_ok_and(|s| s.success());
            if removed
                || nix::unistd::User::from_name(&self.name)
                    .ok()
                    .flatten()
                    .is_none()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100 * tries));
        }
        eprintln!("userdel {} failed: the user is left behind", self.name);
    }
}
