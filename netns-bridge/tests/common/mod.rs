//! Shared support for netns-bridge's integration tests: a throwaway namespace that plays
//! the host (the tool runs inside it, with its state in a temporary directory), target
//! namespaces, and TCP checks from inside namespaces.
#![allow(dead_code)]

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use testkit::{NetnsGuard, Outcome, Tool};

pub fn tool() -> Tool {
    Tool::new(env!("CARGO_BIN_EXE_netns-bridge"))
}

/// A namespace playing the host, with a private state directory. Dropping it deletes the
/// namespace, which takes the bridge, the host veths and the NAT table with it.
pub struct Host {
    pub ns: NetnsGuard,
    file: File,
    /// The state directory; shared by the hosts made with [`Host::sharing`].
    pub state: std::sync::Arc<tempfile::TempDir>,
}

impl Host {
    pub fn new() -> Host {
        let ns = NetnsGuard::new();
        let file = File::open(ns.path()).expect("open the host namespace");
        let state = std::sync::Arc::new(tempfile::tempdir().expect("state dir"));
        Host { ns, file, state }
    }

    /// Another host namespace, with the same state directory as `other`.
    pub fn sharing(other: &Host) -> Host {
        let ns = NetnsGuard::new();
        let file = File::open(ns.path()).expect("open the host namespace");
        Host {
            ns,
            file,
            state: other.state.clone(),
        }
    }

    /// This host namespace's directory in the state directory: `netns-DEV-INO`.
    pub fn host_dir(&self) -> PathBuf {
        let meta = self.file.metadata().expect("stat the host namespace");
        self.state
            .path()
            .join(format!("netns-{}-{}", meta.dev(), meta.ino()))
    }

    /// The state directory of `bridge` in this host namespace.
    pub fn bridge_dir(&self, bridge: &str) -> PathBuf {
        self.host_dir().join(bridge)
    }

    /// netns-bridge with `args`, run inside the host namespace.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = tool().command(args);
        cmd.env("NETNS_BRIDGE_STATE_DIR", self.state.path());
        enter(&mut cmd, &self.file);
        cmd
    }

    pub fn run<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Outcome::of(&mut self.command(args))
    }

    /// A program (not netns-bridge) run inside the host namespace.
    pub fn program(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        enter(&mut cmd, &self.file);
        cmd
    }

    /// The names of the host namespace's links, as the kernel reports them.
    pub fn links(&self) -> Vec<String> {
        links_of(self.ns.name())
    }

    /// The leases in the state directory of `bridge` (0 when it has none): one file
    /// each, `lease-DEV-INO` or `pending-DEV-INO`, or those of a `state.json` of the
    /// earlier format.
    pub fn lease_count(&self, bridge: &str) -> usize {
        if let Ok(text) = std::fs::read(self.bridge_dir(bridge).join("state.json")) {
            let v: serde_json::Value = serde_json::from_slice(&text).expect("state json");
            return v["leases"].as_array().map_or(0, |a| a.len());
        }
        self.lease_files(bridge).len()
    }

    /// The lease files of `bridge`, sorted.
    pub fn lease_files(&self, bridge: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.bridge_dir(bridge))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("lease-") || name.starts_with("pending-")
            })
            .map(|e| e.path())
            .collect();
        files.sort();
        files
    }

    /// The state of `bridge` as one JSON document in the earlier format (`state.json`:
    /// `{"bridge": RECORD, "leases": [LEASE…]}`), made from its files.
    pub fn state_json(&self, bridge: &str) -> serde_json::Value {
        let read = |path: &Path| -> serde_json::Value {
            let text = std::fs::read(path).expect("state file");
            serde_json::from_slice(&text).expect("state json")
        };
        let record = self.bridge_dir(bridge).join("bridge.json");
        // A lease under way (`pending-DEV-INO`) says so, as it did in `state.json`.
        let leases: Vec<serde_json::Value> = self
            .lease_files(bridge)
            .iter()
            .map(|p| {
                let mut lease = read(p);
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                if name.is_some_and(|n| n.starts_with("pending-")) {
                    lease["pending"] = serde_json::Value::Bool(true);
                }
                lease
            })
            .collect();
        serde_json::json!({
            "bridge": if record.exists() { read(&record) } else { serde_json::Value::Null },
            "leases": leases,
        })
    }

    pub fn path(&self) -> &Path {
        self.state.path()
    }

    /// Waits until the host has `n` host veths (a dying namespace takes its own with
    /// it, a little later); whether it came to that within `timeout`.
    pub fn wait_for_host_veths(&self, n: usize, timeout: Duration) -> bool {
        wait_for(timeout, || host_veths(&self.links()).len() == n)
    }
}

/// Makes `cmd` run in the network namespace `ns`.
pub fn enter(cmd: &mut Command, ns: &File) {
    let fd = ns.as_raw_fd();
    // SAFETY: setns is async-signal-safe; the fd stays open in the parent until spawn.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The link names of the named namespace.
pub fn links_of(netns: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-n", netns, "-o", "link", "show"])
        .output()
        .expect("run ip");
    assert!(out.status.success(), "ip -n {netns} link failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

/// The IPv4 addresses (CIDR) on `ifname` in the named namespace.
pub fn addresses_of(netns: &str, ifname: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-n", netns, "-o", "-4", "addr", "show", "dev", ifname])
        .output()
        .expect("run ip");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "inet").nth(1))
        .map(str::to_string)
        .collect()
}

/// Runs `f` on a thread inside the namespace at `path` (sockets made there stay there).
pub fn in_netns<T: Send>(path: &str, f: impl FnOnce() -> T + Send) -> T {
    let file = File::open(path).expect("open namespace");
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .expect("thread in namespace")
    })
}

/// A TCP listener bound inside a namespace; answers each connection with "ok".
pub struct Listener {
    pub addr: SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    pub fn start(netns_path: &str, ip: &str) -> Listener {
        let listener = in_netns(netns_path, || {
            TcpListener::bind(format!("{ip}:0")).expect("bind listener")
        });
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        use std::io::Write;
                        let _ = s.write_all(b"ok");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Listener {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether a TCP connection from inside the namespace reaches `addr` and reads "ok".
pub fn connects(netns_path: &str, addr: SocketAddr) -> bool {
    in_netns(netns_path, || {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(3)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
        let mut buf = [0u8; 2];
        use std::io::Read;
        s.read_exact(&mut buf).is_ok() && &buf == b"ok"
    })
}

/// Polls `cond` until it holds or `timeout` passes.
pub use testkit::wait_until as wait_for;

/// The host veths (our naming) among `links`.
pub fn host_veths(links: &[String]) -> Vec<String> {
    links
        .iter()
        .filter(|l| l.starts_with("nb") && l.len() == 14)
        .cloned()
        .collect()
}

/// Asserts a failed run: the exit status, and one line on stderr naming the tool.
#[track_caller]
pub fn assert_fails(outcome: &Outcome, code: i32) {
    assert_eq!(
        outcome.code(),
        code,
        "stdout: {}\nstderr: {}",
        outcome.stdout(),
        outcome.stderr()
    );
    let err = outcome.stderr();
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err:?}");
    assert!(err.starts_with("netns-bridge: "), "{err:?}");
    assert!(
        outcome.stdout().is_empty(),
        "nothing on stdout: {}",
        outcome.stdout()
    );
}
