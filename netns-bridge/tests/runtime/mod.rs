//! Real container runtimes (Podman with its CNI backend, containerd's `ctr run --cni`)
//! with netns-bridge as their network plugin, each confined to what a test owns:
//! - a network namespace that plays the host ([`Host`]), entered with `nsenter --net=`;
//! - a private mount namespace held by a `sleep` the test started, with tmpfs over
//!   /run, /dev/shm, /var/lib, /var/tmp, /opt and /etc/cni/net.d, so that what the
//!   runtimes keep at fixed paths (runc's and containerd's state in /run, Podman's
//!   shared-memory locks, the CNI cache in /var/lib/cni, `ctr`'s plugins in /opt/cni/bin
//!   and its configuration in /etc/cni/net.d) never reaches the machine;
//! - a private containers.conf (`CONTAINERS_CONF`), storage (`--root`, `--runroot`,
//!   `--tmpdir`), CNI configuration directory and plugin directory;
//! - cgroups below the test's own ([`CgroupParent`]), removed on drop.
//!
//! netns-bridge serves as the plugin type `bridge` (a link of that name), so that Podman
//! reads the networks' subnets (it does so only for the types it knows) and `--ip` works;
//! its state directory is the host's, named by the `stateDir` key, since Podman's cleanup
//! process does not pass on the test's environment.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use testkit::{CgroupParent, ProcessGuard};

use crate::common::Host;

/// The busybox image every container runs.
pub const IMAGE: &str = "localhost/nstools-busybox:1";

/// The reference plugins linked next to netns-bridge (`loopback` for `ctr`'s `lo`).
const REFERENCE_PLUGINS: &[&str] = &["loopback"];

/// The runtimes' world: host namespace, mounts, configuration, storage, cgroups.
pub struct Sandbox {
    /// Removes containers, images and containerd first (see `Drop`), then, in this order:
    /// the mount namespace, the cgroups, the host namespace, the files.
    mounts: ProcessGuard,
    pub cgroup: CgroupParent,
    pub host: Host,
    dir: tempfile::TempDir,
    /// Kept alive for the sandbox's lifetime: examples/rootfs.sh's busybox root.
    pub rootfs: tempfile::TempDir,
    containerd: Option<ProcessGuard>,
}

/// A CNI network: its name, bridge and subnets (IPv4 /24, IPv6 /64).
pub struct Network {
    pub name: String,
    pub bridge: String,
    /// The first three octets, e.g. `10.71.3`.
    pub prefix4: String,
    /// e.g. `fd71:3::`.
    pub prefix6: String,
}

impl Network {
    pub fn gateway(&self) -> String {
        format!("{}.1", self.prefix4)
    }
}

impl Sandbox {
    /// A sandbox with the busybox image imported into Podman's storage; None (skipped, or
    /// a failure under CI=true) without root, busybox, or the cgroups to confine it.
    pub fn new() -> Option<Sandbox> {
        let rootfs = testkit::busybox_rootfs()?;
        let Some(cgroup) = CgroupParent::new() else {
            testkit::skip("this process's cgroups are not on one path");
            return None;
        };
        let host = Host::new();
        let dir = tempfile::tempdir().expect("sandbox dir");
        for sub in ["plugins", "net.d", "root", "runroot", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).expect("sandbox subdir");
        }
        let plugins = dir.path().join("plugins");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_netns-bridge"), plugins.join("bridge"))
            .expect("link netns-bridge as bridge");
        for p in REFERENCE_PLUGINS {
            std::os::unix::fs::symlink(Path::new("/usr/lib/cni").join(p), plugins.join(p))
                .expect("link a reference plugin");
        }
        std::fs::write(
            dir.path().join("containers.conf"),
            containers_conf(&plugins, dir.path()),
        )
        .expect("write containers.conf");
        let mounts = private_mounts(&plugins);
        let sandbox = Sandbox {
            mounts,
            cgroup,
            host,
            dir,
            rootfs,
            containerd: None,
        };
        let tarball = sandbox.dir.path().join("rootfs.tar");
        let out = Command::new("tar")
            .arg("-C")
            .arg(sandbox.rootfs.path())
            .arg("-cf")
            .arg(&tarball)
            .arg(".")
            .output()
            .expect("run tar");
        check(&out, "tar of the busybox root");
        let out = sandbox
            .podman(["import".as_ref(), tarball.as_os_str(), IMAGE.as_ref()])
            .output()
            .expect("run podman import");
        check(&out, "podman import");
        Some(sandbox)
    }

    /// A CNI network in Podman's configuration directory and in /etc/cni/net.d of the
    /// mount namespace (where `ctr` looks): IPv4 10.71.N.0/24 and IPv6 fd71:N::/64.
    pub fn network(&self, n: u8) -> Network {
        let name = format!("nbrt{n}");
        let net = Network {
            bridge: format!("nbrt{n}"),
            prefix4: format!("10.71.{n}"),
            prefix6: format!("fd71:{n}::"),
            name,
        };
        let conf = serde_json::json!({
            "cniVersion": "1.0.0",
            "name": net.name,
            "plugins": [{
                "type": "bridge",
                "bridge": net.bridge,
                "isGateway": true,
                "hairpinMode": true,
                "stateDir": self.host.path(),
                "capabilities": { "portMappings": true, "ips": true },
                "ipam": {
                    "type": "host-local",
                    "ranges": [
                        [{ "subnet": format!("{}.0/24", net.prefix4), "gateway": net.gateway() }],
                        [{ "subnet": format!("{}/64", net.prefix6) }]
                    ],
                    "routes": [{ "dst": "0.0.0.0/0" }, { "dst": "::/0" }]
                }
            }]
        })
        .to_string();
        let file = format!("{}.conflist", net.name);
        std::fs::write(self.dir.path().join("net.d").join(&file), &conf).expect("conflist");
        let etc = PathBuf::from(format!("/proc/{}/root/etc/cni/net.d", self.mounts.pid()));
        std::fs::write(etc.join(&file), &conf).expect("conflist in /etc/cni/net.d");
        net
    }

    /// Runs `args` (after `nsenter --net=HOST --mount=PRIVATE`) in the sandbox's namespaces.
    pub fn inside<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--mount=/proc/{}/ns/mnt", self.mounts.pid()))
            .arg(format!("--net={}", self.host.ns.path()))
            .arg("--wd=/")
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// podman with the sandbox's configuration and storage.
    pub fn podman<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let d = self.dir.path();
        let mut cmd = self.inside(["podman"]);
        cmd.arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("runroot"))
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .env("CONTAINERS_CONF", d.join("containers.conf"))
            .env("TMPDIR", d.join("tmp"));
        cmd
    }

    /// `podman ARGS`, which must succeed; its stdout, trimmed.
    pub fn podman_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.podman(args);
        let what = format!("{cmd:?}");
        let out = cmd.output().expect("run podman");
        check(&out, &what);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `podman run --cgroup-parent PARENT --network NET ARGS…`, which must succeed.
    pub fn run(&self, net: &Network, args: &[&str]) -> String {
        let mut all = vec!["run", "--cgroup-parent", &self.cgroup.path, "--network"];
        all.push(&net.name);
        all.extend_from_slice(args);
        self.podman_ok(all)
    }

    /// The IPv4 address of a container on `net`, as Podman reports it.
    pub fn address_of(&self, container: &str, net: &Network) -> String {
        let format = format!(
            "{{{{(index .NetworkSettings.Networks \"{}\").IPAddress}}}}",
            net.name
        );
        self.podman_ok(["inspect", "--format", &format, container])
    }

    /// Starts containerd inside the sandbox with a private root, state, socket and
    /// configuration; `ctr` then talks to it. Killed and reaped on drop.
    pub fn start_containerd(&mut self) {
        let d = self.dir.path().join("containerd");
        std::fs::create_dir(&d).expect("containerd dir");
        let config = format!(
            "version = 2\nroot = \"{root}\"\nstate = \"{state}\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{sock}\"\n[ttrpc]\n  address = \"{sock}.ttrpc\"\n",
            root = d.join("root").display(),
            state = d.join("state").display(),
            sock = d.join("sock").display(),
        );
        std::fs::write(d.join("config.toml"), config).expect("containerd config");
        let log = File::create(d.join("log")).expect("containerd log");
        let child = self
            .inside(["containerd", "--config"])
            .arg(d.join("config.toml"))
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            .spawn()
            .expect("run containerd");
        self.containerd = Some(ProcessGuard::new(child));
        let ready = testkit::wait_until(Duration::from_secs(10), || {
            self.ctr(["version"])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        assert!(
            ready,
            "containerd did not answer: {}",
            self.containerd_log()
        );
    }

    /// ctr talking to the sandbox's containerd, in namespace `nstools`.
    pub fn ctr<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = self.inside(["ctr", "--address"]);
        cmd.arg(self.dir.path().join("containerd/sock"))
            .args(["--namespace", "nstools"])
            .args(args);
        cmd
    }

    pub fn containerd_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd/log")).unwrap_or_default()
    }

    /// The nft rules of the host namespace.
    pub fn nft_rules(&self) -> String {
        let out = self
            .host
            .program("nft")
            .args(["list", "ruleset"])
            .output()
            .expect("run nft");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self
            .podman(["rm", "--all", "--force", "--time", "0"])
            .output();
        let _ = self.podman(["rmi", "--all", "--force"]).output();
        if self.containerd.is_some() {
            for args in [
                &["tasks", "kill", "--signal", "SIGKILL", "c1"][..],
                &["tasks", "delete", "--force", "c1"][..],
                &["containers", "delete", "c1"][..],
            ] {
                let _ = self.ctr(args).output();
            }
        }
        self.containerd = None;
    }
}

/// The sandbox's containers.conf: the CNI backend with netns-bridge, cgroupfs, runc (crun
/// refuses a hybrid cgroup layout), events to a file, and ulimits within this process's
/// hard limits (Podman's defaults exceed them, and runc cannot raise them), at most 4096
/// (runc was refused an RLIMIT_NPROC equal to this machine's hard limit).
fn containers_conf(plugins: &Path, dir: &Path) -> String {
    let hard = |resource| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit into the struct it is given.
        if unsafe { libc::getrlimit(resource, &mut limit) } == 0 {
            limit.rlim_max.min(4096)
        } else {
            1024
        }
    };
    let nofile = hard(libc::RLIMIT_NOFILE);
    let nproc = hard(libc::RLIMIT_NPROC);
    format!(
        "[containers]\n\
         default_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"]\n\
         [engine]\n\
         cgroup_manager = \"cgroupfs\"\n\
         events_logger = \"file\"\n\
         events_logfile_path = \"{events}\"\n\
         runtime = \"runc\"\n\
         [network]\n\
         network_backend = \"cni\"\n\
         cni_plugin_dirs = [\"{plugins}\"]\n\
         network_config_dir = \"{netd}\"\n",
        events = dir.join("events.log").display(),
        plugins = plugins.display(),
        netd = dir.join("net.d").display(),
    )
}

/// The holder of the private mount namespace: `unshare --mount` running a shell that
/// mounts the tmpfs, links the plugins into /opt/cni/bin, says "ready" and becomes `sleep`.
fn private_mounts(plugins: &Path) -> ProcessGuard {
    let script = format!(
        "set -e\n\
         for d in /run /var/lib /var/tmp /opt /etc/cni/net.d; do\n\
           mount -t tmpfs -o mode=0755 nstools-test \"$d\"\n\
         done\n\
         mount -t tmpfs -o mode=1777 nstools-test /dev/shm\n\
         mkdir -p /opt/cni/bin\n\
         ln -s {plugins}/* /opt/cni/bin/\n\
         echo ready\n\
         exec sleep 2147483647\n",
        plugins = plugins.display()
    );
    let child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run unshare");
    let mut guard = ProcessGuard::new(child);
    let stdout = guard.child().stdout.take().expect("unshare's stdout");
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    assert_eq!(
        line.trim(),
        "ready",
        "the private mounts failed (needs /etc/cni/net.d)"
    );
    guard
}

/// Panics with the command and its stderr unless it succeeded.
pub fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}
