//! The container flags, checked from inside the way the kernel shows them: the mounts
//! in /proc/self/mountinfo (type, options, read-only), device numbers, the capability
//! sets, NoNewPrivs and Seccomp in /proc/self/status, and what a filter answers.

use std::path::Path;

use nsproc::mountinfo::{self, Mount};
use testkit::{busybox_rootfs, require_program, require_root, Tool};

fn nsrun() -> Tool {
    Tool::new(env!("CARGO_BIN_EXE_nsrun"))
}

/// The mounts COMMAND sees, from its mountinfo printed on stdout.
fn mounts(stdout: &str) -> Vec<Mount> {
    mountinfo::parse(stdout.as_bytes()).collect()
}

fn at<'a>(mounts: &'a [Mount], point: &str) -> &'a Mount {
    mounts
        .iter()
        .rev()
        .find(|m| m.mount_point == Path::new(point))
        .unwrap_or_else(|| panic!("nothing is mounted on {point}: {mounts:#?}"))
}

/// Whether the mount (not its superblock) has `option`.
fn has_option(m: &Mount, option: &str) -> bool {
    m.mount_options.split(',').any(|o| o == option)
}

/// A field of /proc/self/status in COMMAND's output (`Name:\tvalue` lines).
fn status_field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(":\t"))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

#[test]
fn root_is_pivoted_into_and_the_old_root_is_gone() {
    require_root!();
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    let root = rootfs.path().to_str().expect("a UTF-8 path");
    let out = nsrun()
        .run([
            "--mount",
            "--pid",
            "--root",
            root,
            "--proc",
            "/proc",
            "sh",
            "-c",
            "cat /proc/self/mountinfo; echo; ls -a /",
        ])
        .success();
    let (info, listing) = out.split_once("\n\n").expect("mountinfo, then the listing");
    let seen = mounts(info);
    let points: Vec<&Path> = seen.iter().map(|m| m.mount_point.as_path()).collect();
    assert_eq!(points[..2], [Path::new("/"), Path::new("/proc")]);
    assert!(
        points[2..].iter().all(|p| p.starts_with("/proc/")),
        "only the new root's mounts (and the masks on /proc): {points:?}"
    );
    // The root is the rootfs directory, bound on itself.
    let canonical = rootfs.path().canonicalize().expect("canonical path");
    // mountinfo's root is relative to the filesystem's own root (a tmpfs /tmp: "/.tmpX")
    let root_in_fs = seen[0].root.strip_prefix("/").unwrap_or(&seen[0].root);
    assert!(
        canonical.ends_with(root_in_fs),
        "{} is not the rootfs",
        seen[0].root.display()
    );
    let mut names: Vec<&str> = listing.split_whitespace().collect();
    names.sort();
    let mut expected: Vec<String> = std::fs::read_dir(rootfs.path())
        .expect("cannot list the rootfs")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .chain([".".to_string(), "..".to_string()])
        .collect();
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn every_mount_flag_shows_in_mountinfo() {
    require_root!();
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    let root = rootfs.path().to_str().expect("a UTF-8 path");
    let shared = tempfile::tempdir().expect("cannot create a temporary directory");
    std::fs::write(shared.path().join("file"), "outside").expect("cannot write");
    let src = shared.path().to_str().expect("a UTF-8 path");
    let out = nsrun()
        .run([
            "--mount",
            "--pid",
            "--root",
            root,
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--bind",
            src,
            "/rw",
            "--ro-bind",
            src,
            "/ro",
            "--ro-bind",
            "/sys",
            "/sys",
            "--tmpfs",
            "/t",
            "--size",
            "1m",
            "--tmpfs",
            "/t2",
            "--mkdir",
            "/m/n",
            "--symlink",
            "/m",
            "/deep/link",
            "--read-only",
            "--no-mask-defaults",
            "sh",
            "-c",
            "cat /proc/self/mountinfo; echo; readlink /deep/link; test -d /m/n && echo dir; \
             echo new > /rw/new && cat /rw/new; echo x > /ro/x || echo ro-refused; \
             echo x > /x || echo root-refused; echo x > /t/x && echo t-written",
        ])
        .success();
    let (info, rest) = out.split_once("\n\n").expect("mountinfo, then the rest");
    let seen = mounts(info);
    assert!(
        has_option(at(&seen, "/"), "ro"),
        "--read-only: / is read-only"
    );
    let rw = at(&seen, "/rw");
    assert!(has_option(rw, "rw"), "--bind is writable: {rw:?}");
    assert!(has_option(at(&seen, "/ro"), "ro"), "--ro-bind is read-only");
    let sys = at(&seen, "/sys");
    assert_eq!(sys.fstype, "sysfs");
    assert!(has_option(sys, "ro"), "--ro-bind /sys is read-only");
    for sub in seen.iter().filter(|m| m.mount_point.starts_with("/sys/")) {
        assert!(has_option(sub, "ro"), "--ro-bind is recursive: {sub:?}");
    }
    let t = at(&seen, "/t");
    assert_eq!(t.fstype, "tmpfs");
    assert!(has_option(t, "nosuid") && has_option(t, "nodev"));
    assert!(
        !t.super_options.contains("size="),
        "--size applies to the next --tmpfs only"
    );
    let t2 = at(&seen, "/t2");
    assert!(t2.super_options.contains("size=1024k"), "{t2:?}");
    assert_eq!(at(&seen, "/proc").fstype, "proc");
    let dev = at(&seen, "/dev");
    assert_eq!(dev.fstype, "tmpfs");
    assert!(
        has_option(dev, "nosuid") && has_option(dev, "nodev"),
        "{dev:?}"
    );
    assert_eq!(at(&seen, "/dev/pts").fstype, "devpts");
    assert_eq!(at(&seen, "/dev/shm").fstype, "tmpfs");
    assert_eq!(
        at(&seen, "/dev/null").root,
        Path::new("/null"),
        "bound from the host"
    );
    assert_eq!(
        rest.lines().collect::<Vec<_>>(),
        [
            "/m",
            "dir",
            "new",
            "ro-refused",
            "root-refused",
            "t-written"
        ]
    );
    // --rw wrote through to the source outside.
    assert_eq!(
        std::fs::read_to_string(shared.path().join("new"))
            .ok()
            .as_deref(),
        Some("new\n")
    );
}

#[test]
fn dev_has_the_host_device_numbers() {
    require_root!();
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    let root = rootfs.path().to_str().expect("a UTF-8 path");
    let out = nsrun()
        .run([
            "--mount",
            "--root",
            root,
            "--dev",
            "/dev",
            "sh",
            "-c",
            "for d in null zero full random urandom tty; do stat -c '%n %t:%T' /dev/$d; done; \
             for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done; ls /dev/pts",
        ])
        .success();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "/dev/null 1:3",
            "/dev/zero 1:5",
            "/dev/full 1:7",
            "/dev/random 1:8",
            "/dev/urandom 1:9",
            "/dev/tty 5:0",
            "pts/ptmx",
            "/proc/self/fd",
            "/proc/self/fd/0",
            "/proc/self/fd/1",
            "/proc/self/fd/2",
            "ptmx",
        ]
    );
}

#[test]
fn default_paths_are_masked_unless_told_not_to() {
    require_root!();
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    let root = rootfs.path().to_str().expect("a UTF-8 path");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--mount", "--pid", "--root", root, "--proc", "/proc", "--bind", "/sys", "/sys",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["cat", "/proc/self/mountinfo"]);
        mounts(&nsrun().run(&args).success())
    };
    let seen = run(&[]);
    for path in nsrun::mask::MASKED {
        let host = Path::new(path);
        let Ok(meta) = std::fs::metadata(host) else {
            continue;
        };
        let m = at(&seen, path);
        if meta.is_dir() {
            assert_eq!(m.fstype, "tmpfs", "{path}");
            assert!(has_option(m, "ro"), "{path} is read-only");
        } else {
            assert_eq!(m.root, Path::new("/null"), "{path} is /dev/null");
        }
    }
    for path in nsrun::mask::READ_ONLY
        .into_iter()
        .filter(|p| Path::new(p).exists())
    {
        let m = at(&seen, path);
        assert_eq!(m.fstype, "proc", "{path}");
        assert!(has_option(m, "ro"), "{path} is read-only");
    }
    let unmasked = run(&["--no-mask-defaults"]);
    let points: Vec<&Path> = unmasked.iter().map(|m| m.mount_point.as_path()).collect();
    for path in nsrun::mask::MASKED
        .iter()
        .chain(nsrun::mask::READ_ONLY.iter())
    {
        assert!(
            !points.contains(&Path::new(path)),
            "{path} is masked all the same"
        );
    }
}

#[test]
fn capability_sets_follow_cap_drop_and_cap_add() {
    require_root!();
    let show = "grep -E '^Cap' /proc/self/status";
    // Root keeps what the bounding set allows; nothing is ambient.
    let out = nsrun()
        .run([
            "--cap-drop",
            "all",
            "--cap-add",
            "CAP_KILL,chown",
            "sh",
            "-c",
            show,
        ])
        .success();
    for set in ["CapBnd", "CapPrm", "CapEff"] {
        assert_eq!(status_field(&out, set), "0000000000000021", "{set}");
    }
    assert_eq!(status_field(&out, "CapInh"), "0000000000000000");
    assert_eq!(status_field(&out, "CapAmb"), "0000000000000000");
    let out = nsrun()
        .run(["--cap-drop", "sys_admin", "sh", "-c", show])
        .success();
    let bounding = u64::from_str_radix(status_field(&out, "CapBnd"), 16).expect("hex");
    assert_eq!(bounding & (1 << 21), 0, "CAP_SYS_ADMIN is dropped");
    assert_ne!(bounding & (1 << 0), 0, "CAP_CHOWN is kept");
    // A COMMAND that is not root inside keeps its capabilities as ambient ones.
    let out = nsrun()
        .run([
            "--user",
            "--map-user",
            "1000",
            "--map-group",
            "1000",
            "--cap-drop",
            "all",
            "--cap-add",
            "net_raw",
            "sh",
            "-c",
            show,
        ])
        .success();
    for set in ["CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"] {
        assert_eq!(status_field(&out, set), "0000000000002000", "{set}");
    }
    nsrun().run(["--cap-add", "nothing", "true"]).expect_code(2);
}

#[test]
fn no_new_privs_and_the_default_filter() {
    require_root!();
    require_program!("unshare");
    let script = "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; unshare -U true";
    let out = nsrun().run(["--no-new-privs", "--seccomp", "default", "sh", "-c", script]);
    out.expect_code(1);
    assert_eq!(status_field(&out.stdout(), "NoNewPrivs"), "1");
    assert_eq!(status_field(&out.stdout(), "Seccomp"), "2");
    assert!(
        out.stderr().contains("Operation not permitted"),
        "a new user namespace is refused with EPERM: {}",
        out.stderr()
    );
    // Without no_new_privs root installs it with CAP_SYS_ADMIN; without the filter the
    // same call succeeds.
    let out = nsrun().run(["--seccomp", "default", "sh", "-c", script]);
    out.expect_code(1);
    assert_eq!(status_field(&out.stdout(), "NoNewPrivs"), "0");
    assert_eq!(status_field(&out.stdout(), "Seccomp"), "2");
    let out = nsrun().run(["sh", "-c", script]).success();
    assert_eq!(status_field(&out, "Seccomp"), "0");
}

#[test]
fn an_oci_profile_allows_and_denies_what_it_says() {
    require_root!();
    require_program!("unshare");
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let profile = dir.path().join("profile.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                          "errnoRet": 13}]}"#,
    )
    .expect("cannot write the profile");
    let target = dir.path().join("made");
    let script = format!(
        "unshare -U true && echo unshare-allowed; mkdir {} || echo mkdir-refused",
        target.display()
    );
    let out = nsrun().run([
        "--no-new-privs",
        "--seccomp",
        profile.to_str().expect("UTF-8"),
        "sh",
        "-c",
        &script,
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout(), "unshare-allowed\nmkdir-refused\n");
    assert!(
        out.stderr().contains("Permission denied"),
        "EACCES, the profile's errnoRet: {}",
        out.stderr()
    );
    assert!(!target.exists());
}

#[test]
fn bad_container_options_are_refused_before_anything_is_made() {
    require_root!();
    let out = nsrun().run(["--size", "1m", "true"]);
    out.expect_code(2);
    let out = nsrun().run(["--seccomp", "/nonexistent/profile.json", "true"]);
    out.expect_code(125);
    assert_eq!(
        out.stderr(),
        "nsrun: cannot read the seccomp profile /nonexistent/profile.json: No such file or directory\n"
    );
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#).expect("cannot write");
    let out = nsrun().run(["--seccomp", bad.to_str().expect("UTF-8"), "true"]);
    out.expect_code(2);
    assert!(
        out.stderr().starts_with("nsrun: --seccomp "),
        "{}",
        out.stderr()
    );
    let out = nsrun().run(["--mount", "--bind", "/nonexistent", "/x", "true"]);
    out.expect_code(125);
    assert_eq!(
        out.stderr(),
        "nsrun: --bind /nonexistent /x: cannot mount: No such file or directory\n"
    );
}

#[test]
fn new_session_leads_its_own_session() {
    require_root!();
    let out = nsrun()
        .run(["--new-session", "sh", "-c", "cut -d' ' -f1,6 /proc/$$/stat"])
        .success();
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(fields.len(), 2, "{out}");
    assert_eq!(fields[0], fields[1], "COMMAND is the leader of its session");
}

#[test]
fn a_rootless_container_pivots_masks_and_filters() {
    require_root!();
    require_program!("setpriv");
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(rootfs.path(), std::fs::Permissions::from_mode(0o755))
        .expect("cannot open the rootfs to others");
    let root = rootfs.path().to_str().expect("a UTF-8 path");
    // A copy nobody can reach (the build may be below a directory only root enters).
    let bin = tempfile::tempdir().expect("cannot create a temporary directory");
    std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755))
        .expect("cannot open the directory to others");
    let nsrun_copy = bin.path().join("nsrun");
    std::fs::copy(env!("CARGO_BIN_EXE_nsrun"), &nsrun_copy).expect("cannot copy nsrun");
    // nobody outside, root inside its own user namespace.
    let out = Tool::new("setpriv")
        .run([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_nsrun"),
            "--user",
            "--map-root-user",
            "--pid",
            "--net",
            "--uts",
            "--ipc",
            "--root",
            root,
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--cap-drop",
            "all",
            "--cap-add",
            "chown,kill",
            "--no-new-privs",
            "--seccomp",
            "default",
            "--new-session",
            "--hostname",
            "rootless",
            "sh",
            "-c",
            "id -u; hostname; grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; \
             cat /proc/self/mountinfo",
        ])
        .success();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("0"), "root inside");
    assert_eq!(lines.next(), Some("rootless"));
    assert_eq!(status_field(&out, "CapBnd"), "0000000000000021");
    assert_eq!(status_field(&out, "NoNewPrivs"), "1");
    assert_eq!(status_field(&out, "Seccomp"), "2");
    let info: String = out.lines().skip(5).map(|l| format!("{l}\n")).collect();
    let seen = mounts(&info);
    assert_eq!(seen[0].mount_point, Path::new("/"));
    assert_eq!(at(&seen, "/dev/pts").fstype, "devpts");
    assert_eq!(at(&seen, "/tmp").fstype, "tmpfs");
    assert!(
        has_option(at(&seen, "/proc/sys"), "ro"),
        "masked defaults, rootless too"
    );
}
