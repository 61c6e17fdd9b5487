//! The command line: clap's definition of nsrun's options and their translation into
//! a [`Config`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;
use nix::sys::signal::Signal;

use crate::caps::{CapChange, CapSet};
use crate::error::io_errno;
use crate::fsplan::{FsArgs, FsOp};
use crate::idmap::{Caller, IdRange, MapArg, MapOptions, SetGroups};
use crate::join::JoinSpec;
use crate::lockdown::Lockdown;
use crate::mounts::Propagation;
use crate::seccomp::{self, Filters};
use crate::subid::{self, Ids};
use crate::timens::TimeOffsets;
use crate::{Config, Error};
use nsproc::Kind;

pub(crate) const FS_HEADING: &str =
    "Filesystem (DST is inside the new root; applied in the order given)";

const AFTER_HELP: &str = "\
COMMAND defaults to $SHELL, else /bin/sh. A namespace flag given as --KIND=FILE also
keeps that namespace alive by bind-mounting it on FILE (which must exist), so that
another process can enter it later (--join FILE, nsenter --net=FILE); unmount FILE to
release it. A FILE that already holds a namespace is refused: --join it instead.

With --join, namespaces are joined first and new ones made after, inside them (the pod
pattern: --join POD:net,ipc,uts --pid --mount-proc). COMMAND starts where the joined
mount namespace puts it: its root is that namespace's root and so is its working
directory, as with nsenter -m without -r/-w; give --wd DIR (and --root DIR) to start
elsewhere. nsrun itself returns to its own namespaces before the PID file, =FILE and
--setup, unless it joined a user namespace, which cannot be left.

Without --init, COMMAND is PID 1 of a new PID namespace, and the kernel drops every
signal PID 1 has no handler for (only SIGKILL gets through). Use --init for commands
that do not handle SIGTERM or do not reap orphans.

Examples:
  nsrun --pid --mount-proc --hostname box bash        a shell with its own PIDs and /proc
  nsrun --map-root-user --net sh -c 'id -u'           root inside, your uid outside
  nsrun --join $(cat /run/pod.pid):net --pid true     enter a pod's network, new PIDs

Exit status:
  N        COMMAND's own exit status
  128+N    COMMAND was killed by signal N, or nsrun was before COMMAND started
  125      nsrun itself failed (nothing of what it made is left behind)
  126      COMMAND was found but cannot be executed
  127      COMMAND was not found
  2        usage error";

/// Run a command in new Linux namespaces.
///
/// With --pid, --user, --init, --kill-child, --pid-file, --setup or a --KIND=FILE, COMMAND
/// runs as nsrun's child: nsrun knows its PID, forwards signals to it and exits with its
/// status. Otherwise nsrun enters the namespaces itself and becomes COMMAND, as unshare
/// does, which saves a fork; the exit status and signals are the same either way.
#[derive(Parser, Debug)]
#[command(name = "nsrun", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// New mount namespace
    #[arg(short = 'm', long, value_name = "FILE", num_args = 0..=1, require_equals = true, help_heading = "Namespaces")]
    mount: Option<Option<PathBuf>>,
    /// New UTS namespace (hostname and domain name)
    #[arg(short = 'u', long, value_name = "FILE", num_args = 0..=1, require_equals = true, help_heading = "Namespaces")]
    uts: Option<Option<PathBuf>>,
    /// New IPC namespace (System V IPC, POSIX message queues)
    #[arg(short = 'i', long, value_name = "FILE", num_args = 0..=1, require_equals = true, help_heading = "Namespaces")]
    ipc: Option<Option<PathBuf>>,
    /// New network namespace (only a loopback link, down)
    #[arg(short = 'n', long, value_name = "FILE", num_args = 0..=1, require_equals = true, help_heading = "Namespaces")]
    net: Option<Option<PathBuf>>,
    /// New PID namespace; COMMAND (or the init, with --init) is its PID 1
    #[arg(short = 'p', long, value_name = "FILE", num_args = 0..=1, require_equals = true, help_heading = "Namespaces")]
    pid: Option<Option<PathBuf>>,
    /// New user namespace; without a map COMMAND runs as uid and gid 65534
    #[arg(short = 'U', long, value_name = "FILE", num_args = 0..=1, require_equals = true, help_heading = "Namespaces")]
    user: Option<Option<PathBuf>>,
    /// New cgroup namespace: COMMAND's cgroups look like the root. With --setup it is made
    /// after CMD ran, so its root is the cgroup CMD moved the child into
    #[arg(short = 'C', long, value_name = "FILE", num_args = 0..=1, require_equals = true, help_heading = "Namespaces")]
    cgroup: Option<Option<PathBuf>>,
    /// New time namespace (see --monotonic, --boottime)
    #[arg(short = 'T', long, value_name = "FILE", num_args = 0..=1, require_equals = true, help_heading = "Namespaces")]
    time: Option<Option<PathBuf>>,
    /// Enter the namespaces of TARGET first (repeatable): a PID, a namespace file or a
    /// name under /run/netns. TYPES (net,ipc,...) default to every namespace of a PID
    /// that differs from nsrun's own (nsenter -a), or to a file's one type. New
    /// namespaces asked for are made after, inside the joined ones
    #[arg(long, value_name = "TARGET[:TYPES]", help_heading = "Namespaces")]
    join: Vec<JoinSpec>,
    /// Accepted for unshare compatibility: nsrun forks whenever it is needed
    #[arg(short = 'f', long, help_heading = "Namespaces")]
    fork: bool,

    /// Set the hostname inside (implies --uts)
    #[arg(long, value_name = "NAME", help_heading = "Inside")]
    hostname: Option<String>,
    /// Set the NIS domain name inside (implies --uts)
    #[arg(long, value_name = "NAME", help_heading = "Inside")]
    domainname: Option<String>,
    /// Mount a fresh proc on DIR [default: /proc] (implies --mount)
    #[arg(long, value_name = "DIR", num_args = 0..=1, require_equals = true, default_missing_value = "/proc", help_heading = "Inside")]
    mount_proc: Option<PathBuf>,
    /// Propagation of all mounts in the new mount namespace
    #[arg(long, value_enum, value_name = "MODE", default_value_t = Propagation::Private, help_heading = "Inside")]
    propagation: Propagation,
    /// Make DIR the root: with --mount (or any filesystem option) by pivot_root, the old
    /// root detached; without, by chroot, which a root process can escape
    #[arg(short = 'R', long, value_name = "DIR", help_heading = "Inside")]
    root: Option<PathBuf>,
    /// Change the working directory to DIR (inside the new root, with --root)
    #[arg(short = 'w', long, value_name = "DIR", help_heading = "Inside")]
    wd: Option<PathBuf>,

    /// Map your uid and gid to root inside (implies --user; --setgroups deny unless
    /// gid ranges are mapped too)
    #[arg(short = 'r', long, help_heading = "User namespace")]
    map_root_user: bool,
    /// Map your uid and gid to themselves inside (implies --user; --setgroups deny unless
    /// gid ranges are mapped too)
    #[arg(short = 'c', long, help_heading = "User namespace")]
    map_current_user: bool,
    /// Map your uid to UID (a number or user name) inside (implies --user)
    #[arg(long, value_name = "UID", value_parser = parse_uid, help_heading = "User namespace")]
    map_user: Option<u32>,
    /// Map your gid to GID (a number or group name) inside (implies --user)
    #[arg(long, value_name = "GID", value_parser = parse_gid, help_heading = "User namespace")]
    map_group: Option<u32>,
    /// Map COUNT uids from OUTER outside to INNER inside; repeatable. `auto`: your uid to
    /// 0 and your first /etc/subuid range to 1..N. Without root, ranges are written by
    /// newuidmap (package uidmap) (implies --user)
    #[arg(
        long,
        value_name = "INNER:OUTER:COUNT|auto",
        help_heading = "User namespace"
    )]
    map_users: Vec<MapArg>,
    /// Map COUNT gids from OUTER outside to INNER inside; repeatable. `auto`: your gid to
    /// 0 and your first /etc/subgid range to 1..N, by newgidmap without root (implies --user)
    #[arg(
        long,
        value_name = "INNER:OUTER:COUNT|auto",
        help_heading = "User namespace"
    )]
    map_groups: Vec<MapArg>,
    /// --map-users auto --map-groups auto: root inside, as in rootless Podman
    #[arg(long, help_heading = "User namespace")]
    map_auto: bool,
    /// Allow or deny setgroups(2) inside [default: allow with gid ranges mapped, deny with
    /// -r or -c alone] (implies --user)
    #[arg(long, value_enum, value_name = "MODE", help_heading = "User namespace")]
    setgroups: Option<SetGroups>,
    /// Keep capabilities across exec as ambient capabilities, also for a non-root COMMAND (implies --user)
    #[arg(long, help_heading = "User namespace")]
    keep_caps: bool,

    /// Offset of CLOCK_MONOTONIC inside, in seconds (implies --time)
    #[arg(
        long,
        value_name = "SECONDS",
        allow_negative_numbers = true,
        help_heading = "Time namespace"
    )]
    monotonic: Option<i64>,
    /// Offset of CLOCK_BOOTTIME (and /proc/uptime) inside, in seconds (implies --time)
    #[arg(
        long,
        value_name = "SECONDS",
        allow_negative_numbers = true,
        help_heading = "Time namespace"
    )]
    boottime: Option<i64>,

    #[command(flatten)]
    fs: FsArgs,
    /// Remount the root read-only after the filesystem operations (implies --mount)
    #[arg(long, help_heading = FS_HEADING)]
    read_only: bool,
    /// Hide /proc/kcore, /proc/keys, /sys/firmware, ... and make /proc/sys, /proc/sysrq-trigger,
    /// ... read-only, as Docker does [default with --root and a mount namespace]
    #[arg(long, overrides_with = "no_mask_defaults", help_heading = FS_HEADING)]
    mask_defaults: bool,
    /// Leave /proc and /sys as they are
    #[arg(long, help_heading = FS_HEADING)]
    no_mask_defaults: bool,

    /// Run COMMAND as UID (a number, inside the user namespace with --user)
    #[arg(short = 'S', long, value_name = "UID", help_heading = "Privileges")]
    setuid: Option<u32>,
    /// Run COMMAND as GID, without supplementary groups
    #[arg(short = 'G', long, value_name = "GID", help_heading = "Privileges")]
    setgid: Option<u32>,
    /// Drop capabilities: a comma-separated LIST of names (CAP_ optional) or `all`
    #[arg(long, value_name = "LIST", value_parser = CapSet::parse, help_heading = "Privileges")]
    cap_drop: Vec<CapSet>,
    /// Keep these capabilities (after --cap-drop all: the only ones kept)
    #[arg(long, value_name = "LIST", value_parser = CapSet::parse, help_heading = "Privileges")]
    cap_add: Vec<CapSet>,
    /// Set no_new_privs: setuid binaries and file capabilities give COMMAND nothing
    #[arg(long, help_heading = "Privileges")]
    no_new_privs: bool,
    /// Run COMMAND in a new session, without a controlling terminal, so that it cannot
    /// push input into the caller's terminal (TIOCSTI)
    #[arg(long, help_heading = "Privileges")]
    new_session: bool,
    /// Install a seccomp filter just before exec: `default` (see the README for what it
    /// refuses) or FILE, an OCI linux.seccomp JSON profile (Docker's and Podman's format)
    #[arg(long, value_name = "default|FILE", help_heading = "Privileges")]
    seccomp: Option<PathBuf>,

    /// Run a small init as PID 1 that starts COMMAND, forwards signals to it and reaps orphans
    #[arg(long, help_heading = "Process")]
    init: bool,
    /// Send SIGNAL [default: KILL] to COMMAND when nsrun dies
    #[arg(long, value_name = "SIGNAL", num_args = 0..=1, require_equals = true, default_missing_value = "KILL", value_parser = crate::signals::parse, help_heading = "Process")]
    kill_child: Option<Signal>,
    /// Write the child's PID (as the host sees it) to FILE before COMMAND runs; removed on exit.
    /// FILE is replaced, never written through: a symbolic link there is refused
    #[arg(long, value_name = "FILE", help_heading = "Process")]
    pid_file: Option<PathBuf>,
    /// Run `/bin/sh -c CMD` outside, with NSRUN_PID set, once the namespaces exist and
    /// before COMMAND runs; COMMAND runs only if CMD exits 0. CMD's output goes to stderr.
    #[arg(long, value_name = "CMD", help_heading = "Process")]
    setup: Option<String>,

    /// The command to run, and its arguments
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    command: Vec<OsString>,
}

/// The flags [`Cli::parse_simple`] knows: the plain namespace flags, `--fork` and a bare
/// `--mount-proc`.
const SIMPLE_FLAGS: [(&str, Option<u8>); 10] = [
    ("mount", Some(b'm')),
    ("uts", Some(b'u')),
    ("ipc", Some(b'i')),
    ("net", Some(b'n')),
    ("pid", Some(b'p')),
    ("user", Some(b'U')),
    ("cgroup", Some(b'C')),
    ("time", Some(b'T')),
    ("fork", Some(b'f')),
    ("mount-proc", None),
];

impl Cli {
    /// The common command line without clap: the namespace flags, `--fork` and a bare
    /// `--mount-proc`, each given once and spelled alone (`--uts`, `-u`), and `--join
    /// TARGET[:TYPES]`, then COMMAND. Building clap's parser costs about two thirds of
    /// nsrun's instructions before the exec; `None` for anything else (other options,
    /// `--KIND=FILE`, `-ui`, a repeat, a --join value that does not parse, `--help`),
    /// which clap then parses. Gives what clap would for the same arguments.
    pub fn parse_simple(args: &[OsString]) -> Option<Cli> {
        let mut seen = [false; SIMPLE_FLAGS.len()];
        let mut join = Vec::new();
        let mut rest = args.iter().skip(1);
        let mut command = Vec::new();
        while let Some(arg) = rest.next() {
            let bytes = arg.as_encoded_bytes();
            if bytes == b"--" {
                break;
            }
            if !bytes.starts_with(b"-") {
                command.push(arg.clone());
                break;
            }
            let value = match bytes.strip_prefix(b"--join") {
                Some(b"") => Some(rest.next()?.to_str()?),
                Some(v) if v.starts_with(b"=") => Some(arg.to_str()?.get("--join=".len()..)?),
                _ => None,
            };
            if let Some(value) = value {
                // What clap would take as another option, or an empty value: clap's.
                if value.is_empty() || value.starts_with('-') {
                    return None;
                }
                join.push(value.parse::<JoinSpec>().ok()?);
                continue;
            }
            let index = SIMPLE_FLAGS.iter().position(|(long, short)| {
                bytes.strip_prefix(b"--") == Some(long.as_bytes())
                    || short.is_some_and(|c| bytes == [b'-', c])
            })?;
            if std::mem::replace(&mut seen[index], true) {
                return None;
            }
        }
        command.extend(rest.cloned());
        let given = |long: &str| {
            SIMPLE_FLAGS
                .iter()
                .position(|(l, _)| *l == long)
                .is_some_and(|i| seen[i])
        };
        let flag = |long: &str| given(long).then_some(None);
        Some(Cli {
            mount: flag("mount"),
            uts: flag("uts"),
            ipc: flag("ipc"),
            net: flag("net"),
            pid: flag("pid"),
            user: flag("user"),
            cgroup: flag("cgroup"),
            time: flag("time"),
            join,
            fork: given("fork"),
            hostname: None,
            domainname: None,
            mount_proc: given("mount-proc").then(|| PathBuf::from("/proc")),
            propagation: Propagation::Private,
            root: None,
            wd: None,
            map_root_user: false,
            map_current_user: false,
            map_user: None,
            map_group: None,
            map_users: Vec::new(),
            map_groups: Vec::new(),
            map_auto: false,
            setgroups: None,
            keep_caps: false,
            monotonic: None,
            boottime: None,
            fs: FsArgs::default(),
            read_only: false,
            mask_defaults: false,
            no_mask_defaults: false,
            setuid: None,
            setgid: None,
            cap_drop: Vec::new(),
            cap_add: Vec::new(),
            no_new_privs: false,
            new_session: false,
            seccomp: None,
            init: false,
            kill_child: None,
            pid_file: None,
            setup: None,
            command,
        })
    }
}

fn parse_uid(s: &str) -> Result<u32, String> {
    if let Ok(n) = s.parse() {
        return Ok(n);
    }
    match nix::unistd::User::from_name(s) {
        Ok(Some(user)) => Ok(user.uid.as_raw()),
        _ => Err(format!("'{s}' is neither a uid nor a known user name")),
    }
}

fn parse_gid(s: &str) -> Result<u32, String> {
    if let Ok(n) = s.parse() {
        return Ok(n);
    }
    match nix::unistd::Group::from_name(s) {
        Ok(Some(group)) => Ok(group.gid.as_raw()),
        _ => Err(format!("'{s}' is neither a gid nor a known group name")),
    }
}

impl Cli {
    pub fn into_config(self) -> Result<Config, Error> {
        let ranges = |args: &[MapArg]| -> Vec<IdRange> {
            args.iter()
                .filter_map(|a| match a {
                    MapArg::Range(r) => Some(*r),
                    MapArg::Auto => None,
                })
                .collect()
        };
        let map_options = MapOptions {
            root: self.map_root_user,
            current: self.map_current_user,
            user: self.map_user,
            group: self.map_group,
            users: ranges(&self.map_users),
            groups: ranges(&self.map_groups),
            auto_users: self.map_auto || self.map_users.contains(&MapArg::Auto),
            auto_groups: self.map_auto || self.map_groups.contains(&MapArg::Auto),
            setgroups: self.setgroups,
        };
        let flags = [
            (Kind::Cgroup, self.cgroup),
            (Kind::Ipc, self.ipc),
            (Kind::Mount, self.mount),
            (Kind::Net, self.net),
            (Kind::Pid, self.pid),
            (Kind::Time, self.time),
            (Kind::User, self.user),
            (Kind::Uts, self.uts),
        ];
        let fs_given = !self.fs.ops.is_empty() || self.read_only || self.mask_defaults;
        let joined = |kind| {
            self.join
                .iter()
                .any(|j| j.kinds.as_ref().is_some_and(|k| k.contains(&kind)))
        };
        // An option such as --hostname acts in a namespace joined by type rather than
        // asking for a new one.
        let implied = |kind| {
            !joined(kind)
                && match kind {
                    Kind::Uts => self.hostname.is_some() || self.domainname.is_some(),
                    Kind::Mount => self.mount_proc.is_some() || fs_given,
                    Kind::User => map_options.any() || self.keep_caps,
                    Kind::Time => self.monotonic.is_some() || self.boottime.is_some(),
                    _ => false,
                }
        };
        let mut namespaces = Vec::new();
        let mut persist = Vec::new();
        for (kind, flag) in flags {
            if flag.is_some() || implied(kind) {
                namespaces.push(kind);
            }
            if let Some(Some(path)) = flag {
                persist.push((kind, path));
            }
        }
        let uid = nix::unistd::geteuid().as_raw();
        let caller = Caller {
            uid,
            gid: nix::unistd::getegid().as_raw(),
            privileged: uid == 0,
            subuid: map_options
                .auto_users
                .then(|| subid::caller_range(Ids::Users, uid))
                .transpose()?,
            subgid: map_options
                .auto_groups
                .then(|| subid::caller_range(Ids::Groups, uid))
                .transpose()?,
        };
        let maps = map_options.build(&caller).map_err(Error::Usage)?;
        let mount = namespaces.contains(&Kind::Mount);
        let mut fs_ops = self.fs.ops;
        let mut mount_proc = self.mount_proc;
        if self.root.is_some() && mount {
            // After pivot_root no procfs is left to show a new one is allowed: mount
            // it below the new root first, as --proc does.
            fs_ops.extend(mount_proc.take().map(FsOp::Proc));
        }
        let mask_defaults =
            mount && !self.no_mask_defaults && (self.mask_defaults || self.root.is_some());
        let caps = (!self.cap_drop.is_empty() || !self.cap_add.is_empty()).then(|| CapChange {
            drop: CapSet(self.cap_drop.iter().fold(0, |a, s| a | s.0)),
            add: CapSet(self.cap_add.iter().fold(0, |a, s| a | s.0)),
        });
        let seccomp = self
            .seccomp
            .as_deref()
            .map(|p| load_seccomp(p, caps))
            .transpose()?;
        let mut command = self.command;
        if command.is_empty() {
            command.push(std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into()));
        }
        Ok(Config {
            join: self.join,
            namespaces,
            persist,
            hostname: self.hostname,
            domainname: self.domainname,
            mount_proc,
            propagation: self.propagation,
            root: self.root,
            wd: self.wd,
            fs_ops,
            mask_defaults,
            read_only: self.read_only,
            maps,
            lockdown: Lockdown {
                uid: self.setuid,
                gid: self.setgid,
                caps,
                keep_caps: self.keep_caps,
                no_new_privs: self.no_new_privs,
                new_session: self.new_session,
                seccomp,
            },
            time: TimeOffsets {
                monotonic: self.monotonic.unwrap_or(0),
                boottime: self.boottime.unwrap_or(0),
            },
            init: self.init,
            kill_child: self.kill_child,
            pid_file: self.pid_file,
            setup: self.setup,
            command,
        })
    }
}

/// The filters of `--seccomp default` or `--seccomp FILE`, compiled for this machine.
fn load_seccomp(arg: &Path, caps: Option<CapChange>) -> Result<Filters, Error> {
    let profile = if arg == Path::new("default") {
        seccomp::default_profile()
    } else {
        let text = std::fs::read_to_string(arg).map_err(|e| {
            Error::sys(
                format!("cannot read the seccomp profile {}", arg.display()),
                io_errno(&e),
            )
        })?;
        let host = seccomp::Host {
            caps: caps.unwrap_or_default().kept(crate::caps::last_cap()),
            kernel: seccomp::kernel_version(),
            arches: seccomp::native_arches(),
        };
        seccomp::parse_oci(&text, host)
            .map_err(|e| Error::Usage(format!("--seccomp {}: {e}", arg.display())))?
    };
    seccomp::compile(&profile)
        .map_err(|e| Error::Usage(format!("--seccomp {}: cannot compile: {e}", arg.display())))
}

/// The command line as clap sees it: what the man page and the shell completions are
/// generated from (`cargo run -p xtask -- docs DIR`).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("nsrun")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn simple_command_lines_parse_as_clap_parses_them() {
        let lines: &[&[&str]] = &[
            &[],
            &["true"],
            &["--uts", "true"],
            &["-u", "true"],
            &["--uts", "--ipc", "--pid", "--mount-proc", "true"],
            &[
                "-m", "-u", "-i", "-n", "-p", "-U", "-C", "-T", "-f", "sh", "-c", "exit 3",
            ],
            &["--mount", "--net", "--user", "--cgroup", "--time", "--fork"],
            &["--uts", "--", "--help"],
            &["--uts", "true", "--ipc", "--pid"],
            &["--pid", "", "x"],
            &["--", "true"],
            &["--join", "1:net", "true"],
            &["--join=1:net,ipc", "--pid", "--mount-proc", "true"],
            &["--join", "/run/netns/a", "--join", "2", "--uts", "sh"],
        ];
        for line in lines {
            let args = argv(line);
            let simple = Cli::parse_simple(&args).expect("a simple command line");
            let clap = Cli::try_parse_from(&args).expect("clap parses it");
            assert_eq!(format!("{simple:?}"), format!("{clap:?}"), "{line:?}");
        }
    }

    #[test]
    fn anything_else_is_left_to_clap() {
        let lines: &[&[&str]] = &[
            &["--help"],
            &["-V"],
            &["--uts", "--uts", "true"],
            &["-u", "--uts", "true"],
            &["-ui", "true"],
            &["--uts=/run/uts", "true"],
            &["--mount-proc=/p", "true"],
            &["--hostname", "box", "true"],
            &["--join", "1:bogus", "true"],
            &["--join"],
            &["--join", "--uts", "true"],
            &["--join=", "true"],
            &["--joinx", "true"],
            &["-", "true"],
            &["--ut", "true"],
        ];
        for line in lines {
            assert!(Cli::parse_simple(&argv(line)).is_none(), "{line:?}");
        }
    }
}

#[cfg(test)]
mod properties;
