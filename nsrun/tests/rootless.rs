//! Rootless user namespaces: an unprivileged user with a subordinate range maps it with
//! newuidmap/newgidmap, as the kernel shows it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testkit::{require_program, require_root, UserGuard};

const SUB_FILES: [&str; 2] = ["/etc/subuid", "/etc/subgid"];
const RANGE_START: u32 = 300_000;

/// A system user made for the test (useradd gives system users no subordinate range),
/// removed on drop with every line of it in /etc/subuid and /etc/subgid.
struct TestUser {
    user: UserGuard,
}

impl TestUser {
    fn new() -> TestUser {
        TestUser {
            user: UserGuard::with_shell("/bin/sh"),
        }
    }

    fn uid(&self) -> u32 {
        self.user.uid()
    }

    fn add_ranges(&self) {
        use std::io::Write;
        for file in SUB_FILES {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(file)
                .unwrap();
            writeln!(f, "{}:{RANGE_START}:65536", self.user.name()).unwrap();
        }
    }

    /// Runs `nsrun ARGS` as this user.
    fn nsrun(&self, nsrun: &Path, args: &[&str]) -> Output {
        Command::new("runuser")
            .args(["-u", self.user.name(), "--"])
            .arg(nsrun)
            .args(args)
            .current_dir("/")
            .output()
            .unwrap()
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let prefix = format!("{}:", self.user.name());
        for file in SUB_FILES {
            if let Ok(text) = std::fs::read_to_string(file) {
                let kept: String = text
                    .lines()
                    .filter(|l| !l.starts_with(&prefix))
                    .map(|l| format!("{l}\n"))
                    .collect();
                let _ = std::fs::write(file, kept);
            }
        }
    }
}

/// A copy of nsrun any user can run (the target directory may be private).
fn public_nsrun(dir: &Path) -> PathBuf {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.join("nsrun");
    std::fs::copy(env!("CARGO_BIN_EXE_nsrun"), &bin).unwrap();
    bin
}

#[test]
fn map_auto_gives_root_over_the_subordinate_range() {
    require_root!();
    require_program!("useradd");
    require_program!("runuser");
    require_program!("newuidmap");
    let dir = tempfile::tempdir().unwrap();
    let nsrun = public_nsrun(dir.path());
    let user = TestUser::new();

    // Without a range: a clear error, before anything is made.
    let out = user.nsrun(&nsrun, &["--map-auto", "true"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.contains("no subordinate uids") && err.contains("/etc/subuid"),
        "{err}"
    );

    user.add_ranges();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::os::unix::fs::chown(&work, Some(user.uid()), None).unwrap();
    let script = format!(
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; \
         touch {0}/f && chown 1000:1000 {0}/f",
        work.display()
    );
    let out = user.nsrun(&nsrun, &["--map-auto", "sh", "-c", &script]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["0"]);
    assert_eq!(lines[1], ["0"]);
    let uid = user.uid().to_string();
    let start = RANGE_START.to_string();
    assert_eq!(lines[2], ["0", &uid, "1"]);
    assert_eq!(lines[3], ["1", &start, "65536"]);
    assert_eq!(lines[5], ["1", &start, "65536"]);
    assert_eq!(lines[6], ["allow"]);
    let meta = std::fs::metadata(work.join("f")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (RANGE_START + 999, RANGE_START + 999)
    );

    // A rootless pod: the user joins its own namespaces, the user namespace first.
    let pod = format!(
        "\"$NSRUN\" --map-auto --net --uts --hostname pod --pid-file {0}/pod.pid sleep 60 & \
         until [ -s {0}/pod.pid ]; do sleep 0.01; done; P=$(cat {0}/pod.pid); \
         \"$NSRUN\" --join $P -- sh -c 'id -u; hostname'; echo status=$?; kill $!",
        work.display()
    );
    let out = user.nsrun(
        Path::new("/usr/bin/env"),
        &[&format!("NSRUN={}", nsrun.display()), "sh", "-c", &pod],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0\npod\nstatus=0\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Explicit ranges go through the helpers too, and are checked by them.
    let own = format!("0:{uid}:1");
    let out = user.nsrun(
        &nsrun,
        &[
            "--map-users",
            &own,
            "--map-users",
            "1:300000:10",
            "cat",
            "/proc/self/uid_map",
        ],
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    let out = user.nsrun(&nsrun, &["--map-users", "1:500000:10", "-r", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("newuidmap"));
}
