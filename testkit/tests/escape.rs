//! The escape suite: inside the container of examples/container.sh (a busybox root, as
//! root inside), every way out a container must close is tried, and the kernel's answer
//! is asserted. The attacks are made by this very test binary, copied into the root
//! (the host's libraries bound in) and run there as COMMAND (`escape_probe`); it
//! prints `attack=answer` lines that the test on the host checks. Needs root and
//! busybox-static; fails (never skips) under CI=true without them.

use std::collections::HashMap;
use std::ffi::CString;
use std::path::Path;

use nix::errno::Errno;
use testkit::{busybox_rootfs, require_root, run_container_sh, NetnsGuard};

/// The environment variable that makes `escape_probe` attack instead of returning.
const PROBE: &str = "NSTOOLS_ESCAPE_PROBE";
const SUBNET: &str = "10.213.81.0/24";
/// The host uid and gid of root inside.
const SUBIDS: u32 = 200_000;

/// The kernel's answer: `ok`, or the errno's name.
fn answer<T>(result: Result<T, Errno>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

fn errno_of(rc: libc::c_long) -> String {
    answer(Errno::result(rc))
}

fn say(key: &str, value: impl std::fmt::Display) {
    println!("{key}={value}");
}

fn env_of(key: &str) -> String {
    std::env::var(key).unwrap_or_default()
}

/// Runs inside the container (only when NSTOOLS_ESCAPE_PROBE is set): each attack, and
/// what the kernel answered.
#[test]
fn escape_probe() {
    match std::env::var(PROBE).as_deref() {
        Ok("attack") => attack(),
        Ok("euid") => println!("\nsuid_euid={}", nix::unistd::geteuid()),
        Ok("tty") => {
            println!();
            say(
                "stdin_is_tty",
                nix::unistd::isatty(std::io::stdin()).unwrap_or(false),
            );
            let byte = b'x';
            // SAFETY: TIOCSTI reads one byte from the pointer.
            let rc = unsafe { libc::ioctl(0, libc::TIOCSTI, &byte as *const u8) };
            say("tiocsti_stdin", errno_of(rc.into()));
        }
        _ => {}
    }
}

fn attack() {
    // libtest's "test escape_probe ... " has no newline yet.
    println!();
    let host_pid: i32 = env_of("HOST_PID").parse().unwrap_or(0);
    let marker = env_of("MARKER");
    let host = nix::unistd::Pid::from_raw(host_pid);

    say("signal_host", answer(nix::sys::signal::kill(host, None)));
    say(
        "see_host_proc",
        answer(nix::sys::stat::stat(format!("/proc/{host_pid}").as_str())),
    );
    // SAFETY: ptrace with integer arguments only.
    let rc = unsafe { libc::ptrace(libc::PTRACE_ATTACH, host_pid, 0usize, 0usize) };
    say("ptrace_host", errno_of(rc));
    say(
        "old_root_marker",
        answer(nix::sys::stat::stat(marker.as_str())),
    );
    let via_proc = format!("/proc/1/root/../../..{marker}");
    say(
        "old_root_via_proc",
        answer(nix::sys::stat::stat(via_proc.as_str())),
    );

    say(
        "write_hostname",
        answer(std::fs::write("/proc/sys/kernel/hostname", "evil").map_err(io)),
    );
    say(
        "write_sysrq",
        answer(std::fs::write("/proc/sysrq-trigger", "h").map_err(io)),
    );
    say(
        "read_kcore",
        match std::fs::read("/proc/kcore") {
            Ok(bytes) if bytes.is_empty() => "empty".to_string(),
            other => answer(other.map_err(io)),
        },
    );

    let blk = nix::sys::stat::SFlag::S_IFBLK;
    let mode = nix::sys::stat::Mode::from_bits_truncate(0o600);
    let dev = nix::sys::stat::makedev(8, 0);
    say(
        "mknod_block",
        answer(nix::sys::stat::mknod("/tmp/sda", blk, mode, dev)),
    );
    say(
        "open_block",
        answer(std::fs::File::open("/tmp/sda").map_err(io)),
    );
    say(
        "mount_tmpfs",
        answer(nix::mount::mount(
            Some("none"),
            "/tmp",
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )),
    );
    // SAFETY: init_module with an empty image: the kernel reads nothing before refusing.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_init_module,
            std::ptr::null::<u8>(),
            0usize,
            c"".as_ptr(),
        )
    };
    say("init_module", errno_of(rc));
    // KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING, creating it.
    // SAFETY: keyctl with integer arguments only.
    let rc = unsafe { libc::syscall(libc::SYS_keyctl, 0, -3, 1) };
    say("keyctl", errno_of(rc));
    say("sethostname", answer(nix::unistd::sethostname("evil")));

    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let points: Vec<&str> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .collect();
    say("mount_points", points.join(","));
    let key: i32 = env_of("HOST_QUEUE_KEY").parse().unwrap_or(0);
    // SAFETY: msgget with integer arguments only.
    say(
        "host_queue",
        errno_of(unsafe { libc::msgget(key, 0) }.into()),
    );
    let links: Vec<String> = std::fs::read_to_string("/proc/net/dev")
        .unwrap_or_default()
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next().map(|n| n.trim().to_string()))
        .collect();
    say("links", links.join(","));

    say("tiocsti", tiocsti());
    say("memory_hog", memory_hog());
    say("fork_bomb", fork_bomb());
    setuid_binary();
    // Last: it changes this process's root.
    say("chroot_walkout_marker", chroot_walkout(&marker));
}

fn io(e: std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

/// TIOCSTI on the terminal of a new pty pair.
fn tiocsti() -> String {
    let Ok(master) =
        nix::pty::posix_openpt(nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_NOCTTY)
    else {
        return "no pty".into();
    };
    let _ = nix::pty::grantpt(&master);
    let _ = nix::pty::unlockpt(&master);
    let Ok(name) = nix::pty::ptsname_r(&master) else {
        return "no pty name".into();
    };
    let Ok(slave) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&name)
    else {
        return "cannot open the pty".into();
    };
    use std::os::fd::AsRawFd;
    let byte = b'x';
    // SAFETY: TIOCSTI reads one byte from the pointer.
    let rc = unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSTI, &byte as *const u8) };
    errno_of(rc.into())
}

/// A child that touches 512 MiB: `killed` when the memory limit stops it.
fn memory_hog() -> String {
    // SAFETY: the child only allocates, writes and exits.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            let mut v = vec![0u8; 512 << 20];
            for i in (0..v.len()).step_by(4096) {
                v[i] = 1;
            }
            std::hint::black_box(&v);
            // SAFETY: _exit is always safe.
            unsafe { libc::_exit(0) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => match nix::sys::wait::waitpid(child, None)
        {
            Ok(nix::sys::wait::WaitStatus::Signaled(_, nix::sys::signal::SIGKILL, _)) => {
                "killed".into()
            }
            other => format!("{other:?}"),
        },
        Err(e) => format!("fork {e:?}"),
    }
}

/// Forks sleeping children until fork fails; the answer of the failing fork.
fn fork_bomb() -> String {
    let mut children = Vec::new();
    let result = loop {
        if children.len() > 1000 {
            break "1000 children".to_string();
        }
        // SAFETY: the child only pauses until killed.
        match unsafe { nix::unistd::fork() } {
            Ok(nix::unistd::ForkResult::Child) => loop {
                nix::unistd::pause();
            },
            Ok(nix::unistd::ForkResult::Parent { child }) => children.push(child),
            Err(e) => break format!("{e:?}"),
        }
    };
    for child in children {
        let _ = nix::sys::signal::kill(child, nix::sys::signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(child, None);
    }
    result
}

/// The setuid-root (inside) copy of this binary the test put in the root, run as uid
/// 1000: prints `suid_euid`.
fn setuid_binary() {
    // SAFETY: the child only changes its ids and executes.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            let id = nix::unistd::Gid::from_raw(1000);
            let dropped = nix::unistd::setgroups(&[])
                .map_err(|e| format!("setgroups {e:?}"))
                .and_then(|()| nix::unistd::setgid(id).map_err(|e| format!("setgid {e:?}")))
                .and_then(|()| {
                    nix::unistd::setuid(nix::unistd::Uid::from_raw(1000))
                        .map_err(|e| format!("setuid {e:?}"))
                });
            if let Err(e) = dropped {
                say("suid_euid", format!("cannot become uid 1000: {e}"));
                // SAFETY: _exit is always safe.
                unsafe { libc::_exit(1) }
            }
            std::env::set_var(PROBE, "euid");
            let args: Vec<CString> = [
                "/probe-suid",
                "--exact",
                "escape_probe",
                "--nocapture",
                "--quiet",
            ]
            .iter()
            .filter_map(|a| CString::new(*a).ok())
            .collect();
            let _ = nix::unistd::execv(&args[0], &args);
            // SAFETY: _exit is always safe.
            unsafe { libc::_exit(127) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            let _ = nix::sys::wait::waitpid(child, None);
        }
        Err(e) => say("suid_euid", format!("fork {e:?}")),
    }
}

/// The classic walk-out: chroot into a subdirectory while holding the old root open,
/// go back to it, climb `..` and chroot there. The answer is that of looking up the
/// host's marker afterwards.
fn chroot_walkout(marker: &str) -> String {
    let _ = std::fs::create_dir("/tmp/jail");
    let Ok(old) = nix::fcntl::open(
        "/",
        nix::fcntl::OFlag::O_DIRECTORY,
        nix::sys::stat::Mode::empty(),
    ) else {
        return "cannot open /".into();
    };
    if let Err(e) = nix::unistd::chroot("/tmp/jail") {
        return format!("chroot {e:?}");
    }
    let _ = nix::unistd::fchdir(&old);
    for _ in 0..64 {
        let _ = nix::unistd::chdir("..");
    }
    let _ = nix::unistd::chroot(".");
    answer(nix::sys::stat::stat(marker))
}

/// `key=value` lines of the probe's output.
fn report(stdout: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// A System V message queue in the host's IPC namespace, removed when dropped.
struct HostQueue(i32);

impl Drop for HostQueue {
    fn drop(&mut self) {
        // SAFETY: IPC_RMID takes no buffer.
        unsafe { libc::msgctl(self.0, libc::IPC_RMID, std::ptr::null_mut()) };
    }
}

#[test]
fn nothing_gets_out_of_container_sh() {
    require_root!();
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    let host = NetnsGuard::new();
    let state = tempfile::tempdir().expect("cannot create a temporary directory");
    let name = testkit::unique_name("esc");
    // A host process, a host file and a host message queue the container must not reach.
    let mut sleeper = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("cannot start sleep");
    let marker_dir = tempfile::tempdir_in("/var/tmp").expect("cannot create a directory");
    let marker = marker_dir.path().join("host-marker");
    std::fs::write(&marker, "host").expect("cannot write the marker");
    let key = 0x6e73_0000 | (std::process::id() as i32 & 0xffff);
    // SAFETY: msgget with integer arguments only.
    let queue = unsafe { libc::msgget(key, libc::IPC_CREAT | 0o600) };
    assert!(queue >= 0, "cannot create a host message queue");
    let _queue = HostQueue(queue);
    let hostname = nix::unistd::gethostname().expect("cannot read the hostname");

    let exe = std::env::current_exe().expect("cannot find this test binary");
    // Root inside cannot create files in the rootfs (host root's): put the probe there.
    std::fs::copy(&exe, rootfs.path().join("probe")).expect("cannot copy the probe");
    // Root inside is SUBIDS outside: a setuid-root binary inside is one owned by it.
    let suid = rootfs.path().join("probe-suid");
    std::fs::copy(&exe, &suid).expect("cannot copy the probe");
    std::os::unix::fs::chown(&suid, Some(SUBIDS), Some(SUBIDS)).expect("cannot chown");
    std::fs::set_permissions(&suid, std::os::unix::fs::PermissionsExt::from_mode(0o4755))
        .expect("cannot chmod");
    let host_pid = sleeper.id().to_string();
    let subids = SUBIDS.to_string();
    let key_text = key.to_string();
    let marker_text = marker.to_str().expect("a UTF-8 path");
    let out = run_container_sh(
        &host,
        state.path(),
        &name,
        &[
            "--memory",
            "64M",
            "--pids",
            "32",
            "--subnet",
            SUBNET,
            "--subids",
            &subids,
            "--volume",
            "/usr/lib:/usr/lib:ro",
            "--volume",
            "/usr/lib64:/usr/lib64:ro",
            rootfs.path().to_str().expect("a UTF-8 path"),
            "--",
            "/probe",
            "--exact",
            "escape_probe",
            "--nocapture",
            "--test-threads=1",
        ],
        &[
            (PROBE, "attack"),
            ("HOST_PID", &host_pid),
            ("MARKER", marker_text),
            ("HOST_QUEUE_KEY", &key_text),
        ],
    );
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    // Shown when an assertion fails.
    eprintln!("the probe's report:\n{stdout}\nstderr: {stderr}");
    let seen = report(&out.stdout);
    let get = |k: &str| match seen.get(k) {
        Some(v) => v.as_str(),
        None => panic!("the probe did not say {k}\nstdout: {stdout}\nstderr: {stderr}"),
    };
    let has = |path: &str| Path::new(path).exists();

    // Processes: the host's are in another PID namespace.
    assert_eq!(get("signal_host"), "ESRCH", "kill(HOST_PID, 0)");
    assert_eq!(get("see_host_proc"), "ENOENT", "/proc/HOST_PID");
    assert_eq!(
        get("ptrace_host"),
        "ESRCH",
        "ptrace(PTRACE_ATTACH, HOST_PID)"
    );
    // Files: the old root is detached; a chroot walk-out ends at the container's root.
    assert_eq!(get("old_root_marker"), "ENOENT");
    assert_eq!(get("old_root_via_proc"), "ENOENT");
    assert_eq!(get("chroot_walkout_marker"), "ENOENT");
    // /proc: read-only where it could change the host, masked where it shows it.
    assert_eq!(get("write_hostname"), "EROFS", "/proc/sys/kernel/hostname");
    let sysrq = if has("/proc/sysrq-trigger") {
        "EROFS"
    } else {
        "ENOENT"
    };
    assert_eq!(get("write_sysrq"), sysrq, "/proc/sysrq-trigger");
    let kcore = if has("/proc/kcore") {
        "empty"
    } else {
        "ENOENT"
    };
    assert_eq!(get("read_kcore"), kcore, "/proc/kcore");
    // Devices, mounts, modules, keys, hostname: refused by the kernel or the filter.
    assert_eq!(get("mknod_block"), "EPERM", "mknod of a block device");
    assert_eq!(get("open_block"), "ENOENT", "the block device was not made");
    assert_eq!(get("mount_tmpfs"), "EPERM", "mount (seccomp)");
    assert_eq!(get("init_module"), "EPERM", "init_module (seccomp)");
    assert_eq!(get("keyctl"), "EPERM", "keyctl (seccomp)");
    assert_eq!(get("sethostname"), "EPERM", "no CAP_SYS_ADMIN");
    assert_eq!(nix::unistd::gethostname().ok(), Some(hostname));
    assert_eq!(get("tiocsti"), "EPERM", "ioctl TIOCSTI (seccomp)");
    // The host's mounts, message queues and links are not seen.
    for point in get("mount_points").split(',') {
        let ours = [
            "/",
            "/dev",
            "/proc",
            "/tmp",
            "/usr/lib",
            "/usr/lib64",
            "/probe",
        ]
        .iter()
        .any(|p| point == *p || point.starts_with(&format!("{p}/")));
        assert!(ours, "a mount of the host is seen: {point}");
    }
    assert_eq!(get("host_queue"), "ENOENT", "the host's message queue");
    assert_eq!(get("links"), "lo,eth0");
    // Limits.
    assert_eq!(get("memory_hog"), "killed", "the memory limit");
    assert_eq!(get("fork_bomb"), "EAGAIN", "the pids limit");
    // no_new_privs: a setuid-root binary run by uid 1000 stays uid 1000.
    assert_eq!(get("suid_euid"), "1000");
}

/// `'text'` for sh.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[test]
fn tiocsti_into_the_callers_terminal_is_refused() {
    require_root!();
    testkit::require_program!("script");
    let Some(rootfs) = busybox_rootfs() else {
        return;
    };
    let host = NetnsGuard::new();
    let state = tempfile::tempdir().expect("cannot create a temporary directory");
    let exe = std::env::current_exe().expect("cannot find this test binary");
    std::fs::copy(&exe, rootfs.path().join("probe")).expect("cannot copy the probe");
    let words = [
        "bash".to_string(),
        testkit::examples_dir()
            .join("container.sh")
            .display()
            .to_string(),
        "--subnet".into(),
        "10.213.83.0/24".into(),
        "--volume".into(),
        "/usr/lib:/usr/lib:ro".into(),
        "--volume".into(),
        "/usr/lib64:/usr/lib64:ro".into(),
        rootfs.path().display().to_string(),
        "--".into(),
        "/probe".into(),
        "--exact".into(),
        "escape_probe".into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ];
    let line: Vec<String> = words.iter().map(|w| sh_quote(w)).collect();
    // script(1) gives container.sh a pseudo-terminal as its controlling terminal, as
    // an interactive caller's; COMMAND inherits it as stdin.
    let out = std::process::Command::new("script")
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env("NSTOOLS_BIN", testkit::container_bin_dir())
        .env("CONTAINER_HOST_NETNS", host.name())
        .env("CONTAINER_NAME", testkit::unique_name("tty"))
        .env("NETNS_BRIDGE_STATE_DIR", state.path())
        .env(PROBE, "tty")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cannot run script");
    let stdout = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let seen = report(stdout.as_bytes());
    let get = |k: &str| match seen.get(k) {
        Some(v) => v.as_str(),
        None => panic!("the probe did not say {k}\nstdout: {stdout}"),
    };
    assert_eq!(
        get("stdin_is_tty"),
        "true",
        "COMMAND's stdin is the caller's terminal"
    );
    assert_eq!(get("tiocsti_stdin"), "EPERM", "ioctl(0, TIOCSTI)");
}
