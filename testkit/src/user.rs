//! A system user made for one test (an unprivileged attacker, or a rootless caller),
//! removed again on drop.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

/// A user `nstools-PID-N` made with `useradd --system --no-create-home` (and a group of
/// the same name), deleted with `userdel` when dropped, also when the test panics.
#[derive(Debug)]
pub struct UserGuard {
    name: String,
    uid: u32,
    gid: u32,
}

impl UserGuard {
    /// Makes the user, with `shell` as its login shell. Panics when it cannot: callers
    /// check for root and `useradd` first (`require_root!`, `require_program!`).
    pub fn with_shell(shell: &str) -> UserGuard {
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
