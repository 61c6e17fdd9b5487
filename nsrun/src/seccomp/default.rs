//! `--seccomp default`: what it refuses.

use super::{Action, Cond, Op, Profile, Rule};

const EPERM: u32 = libc::EPERM as u32;
const CLONE_NEWUSER: u64 = libc::CLONE_NEWUSER as u64;

/// Calls `--seccomp default` refuses with EPERM, whatever their arguments.
pub const DEFAULT_DENIED: [&str; 45] = [
    "acct",
    "add_key",
    "bpf",
    "clock_adjtime",
    "clock_settime",
    "create_module",
    "delete_module",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "get_kernel_syms",
    "init_module",
    "ioperm",
    "iopl",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mount",
    "mount_setattr",
    "move_mount",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "query_module",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "setns",
    "settimeofday",
    "swapoff",
    "swapon",
    "_sysctl",
    "syslog",
    "umount2",
    "uselib",
    "userfaultfd",
    "ustat",
    "vm86",
];

/// The personas `--seccomp default` lets personality(2) set, as Docker does: Linux,
/// UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, and the query 0xffffffff.
pub const PERSONALITIES: [u64; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// The `--seccomp default` profile: everything allowed but [`DEFAULT_DENIED`], new user
/// namespaces (clone, unshare; clone3, whose flags a filter cannot read, answers ENOSYS
/// so that libc falls back to clone), ioctl TIOCSTI and TIOCLINUX, and personality(2)
/// outside [`PERSONALITIES`].
pub fn default_profile() -> Profile {
    let low = |index, op, value| Cond {
        index,
        wide: false,
        op,
        value,
    };
    let eperm = |name: &str, args| Rule {
        names: vec![name.to_string()],
        action: Action::Errno(EPERM),
        args,
    };
    let mut rules = vec![Rule {
        names: DEFAULT_DENIED.iter().map(|s| s.to_string()).collect(),
        action: Action::Errno(EPERM),
        args: vec![],
    }];
    for name in ["clone", "unshare"] {
        let newuser = low(0, Op::MaskedEq(CLONE_NEWUSER), CLONE_NEWUSER);
        rules.push(eperm(name, vec![newuser]));
    }
    rules.push(Rule {
        names: vec!["clone3".into()],
        action: Action::Errno(libc::ENOSYS as u32),
        args: vec![],
    });
    for request in [libc::TIOCSTI, libc::TIOCLINUX] {
        rules.push(eperm("ioctl", vec![low(1, Op::Eq, request)]));
    }
    let others = PERSONALITIES.iter().map(|p| low(0, Op::Ne, *p)).collect();
    rules.push(eperm("personality", others));
    Profile {
        default: Action::Allow,
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_compiles() {
        let filters = super::super::compile(&default_profile()).expect("compiles");
        assert!(!filters.0.is_empty());
    }
}
