//! `--seccomp default|FILE`: a system call filter, compiled to BPF by `seccompiler`
//! (rust-vmm's compiler, pure Rust) before nsrun forks, and installed just before exec.
//!
//! A profile has a default action and rules, each giving an action to some system
//! calls, possibly only for some argument values (an OCI runtime-spec `linux.seccomp`
//! object has exactly this shape). seccompiler's filters have one action on a match and
//! one otherwise, so a profile becomes a stack of filters: the first gives the default
//! action to every call no rule matches, and one more for each other action gives that
//! action to the calls its rules match. The kernel runs them all and takes the most
//! severe answer, which is the rule's own where one matches.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::caps::CapSet;
use crate::error::Error;

/// What a filter does with a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Allow,
    Errno(u32),
    KillThread,
    KillProcess,
    Trap,
    Log,
    Trace(u32),
}

/// How an argument is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `arg & mask == value`.
    MaskedEq(u64),
}

/// One condition on argument `index`; `wide` compares all 64 bits, else the low 32
/// (for arguments the kernel reads as `int`, whose upper half a caller controls).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cond {
    pub index: u8,
    pub wide: bool,
    pub op: Op,
    pub value: u64,
}

/// `action` for the calls `names`, when all of `args` hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<Cond>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub default: Action,
    pub rules: Vec<Rule>,
}

/// Compiled filters, installed in this order.
#[derive(Clone, Debug, Default)]
pub struct Filters(pub Vec<seccompiler::BpfProgram>);

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

/// An OCI runtime-spec `linux.seccomp` object (also Docker's and Podman's profiles).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciSeccomp {
    default_action: String,
    default_errno_ret: Option<u32>,
    #[serde(default)]
    syscalls: Vec<OciSyscall>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciSyscall {
    #[serde(default)]
    names: Vec<String>,
    /// The older single-name form.
    name: Option<String>,
    action: String,
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Vec<OciArg>,
    #[serde(default)]
    includes: OciFilter,
    #[serde(default)]
    excludes: OciFilter,
}

/// Docker's conditions on a rule: the capabilities kept, the architecture, the kernel.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct OciFilter {
    #[serde(default)]
    caps: Vec<String>,
    #[serde(default)]
    arches: Vec<String>,
    min_kernel: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciArg {
    index: u8,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

/// What a profile's rule conditions are checked against.
#[derive(Clone, Copy, Debug)]
pub struct Host<'a> {
    /// The capabilities COMMAND keeps.
    pub caps: CapSet,
    /// The kernel's (major, minor).
    pub kernel: (u32, u32),
    /// Architecture names that mean this machine (`amd64`, `x86_64`, ...).
    pub arches: &'a [&'a str],
}

/// The names this machine's architecture goes by in Docker's and libseccomp's files.
pub fn native_arches() -> &'static [&'static str] {
    if cfg!(target_arch = "x86_64") {
        &["amd64", "x86_64", "SCMP_ARCH_X86_64"]
    } else if cfg!(target_arch = "aarch64") {
        &["arm64", "aarch64", "SCMP_ARCH_AARCH64"]
    } else {
        &["riscv64", "SCMP_ARCH_RISCV64"]
    }
}

/// The running kernel's (major, minor).
pub fn kernel_version() -> (u32, u32) {
    nix::sys::utsname::uname()
        .ok()
        .and_then(|u| parse_version(&u.release().to_string_lossy()))
        .unwrap_or((0, 0))
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Parses an OCI `linux.seccomp` JSON object; rules whose `includes`/`excludes` do not
/// fit `host` are left out, as Docker does.
pub fn parse_oci(text: &str, host: Host<'_>) -> Result<Profile, String> {
    let oci: OciSeccomp =
        serde_json::from_str(text).map_err(|e| format!("not a seccomp profile: {e}"))?;
    let default = action(&oci.default_action, oci.default_errno_ret)?;
    let mut rules = Vec::new();
    for sc in oci.syscalls {
        if !applies(&sc.includes, &sc.excludes, host)? {
            continue;
        }
        let args = sc.args.iter().map(condition).collect::<Result<_, _>>()?;
        let mut names = sc.names;
        names.extend(sc.name);
        rules.push(Rule {
            names,
            action: action(&sc.action, sc.errno_ret)?,
            args,
        });
    }
    Ok(Profile { default, rules })
}

fn applies(inc: &OciFilter, exc: &OciFilter, host: Host<'_>) -> Result<bool, String> {
    let kept = |name: &String| CapSet::parse(name).is_ok_and(|c| c.0 & host.caps.0 == c.0);
    let native = |arch: &String| host.arches.contains(&arch.as_str());
    let min_kernel = match &inc.min_kernel {
        None => true,
        Some(v) => host.kernel >= parse_version(v).ok_or_else(|| format!("bad minKernel '{v}'"))?,
    };
    Ok(inc.caps.iter().all(kept)
        && (inc.arches.is_empty() || inc.arches.iter().any(native))
        && min_kernel
        && !exc.caps.iter().any(kept)
        && !exc.arches.iter().any(native))
}

fn action(name: &str, errno: Option<u32>) -> Result<Action, String> {
    Ok(match name {
        "SCMP_ACT_ALLOW" => Action::Allow,
        "SCMP_ACT_ERRNO" => Action::Errno(errno.unwrap_or(EPERM)),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap,
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_TRACE" => Action::Trace(errno.unwrap_or(0)),
        other => return Err(format!("action {other} is not supported")),
    })
}

fn condition(arg: &OciArg) -> Result<Cond, String> {
    let (op, value) = match arg.op.as_str() {
        "SCMP_CMP_EQ" => (Op::Eq, arg.value),
        "SCMP_CMP_NE" => (Op::Ne, arg.value),
        "SCMP_CMP_LT" => (Op::Lt, arg.value),
        "SCMP_CMP_LE" => (Op::Le, arg.value),
        "SCMP_CMP_GT" => (Op::Gt, arg.value),
        "SCMP_CMP_GE" => (Op::Ge, arg.value),
        "SCMP_CMP_MASKED_EQ" => (Op::MaskedEq(arg.value), arg.value_two),
        other => return Err(format!("comparison {other} is not supported")),
    };
    if arg.index > 5 {
        return Err(format!("argument index {} is above 5", arg.index));
    }
    Ok(Cond {
        index: arg.index,
        wide: true,
        op,
        value,
    })
}

/// Compiles `profile` for this machine. Calls this architecture does not have are left
/// out, as libseccomp does.
pub fn compile(profile: &Profile) -> Result<Filters, String> {
    let arch = seccompiler::TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|_| format!("no seccomp support for {}", std::env::consts::ARCH))?;
    // seccompiler refuses a name it does not know; find those first, one by one.
    let mut unknown: Vec<String> = profile.rules.iter().flat_map(|r| r.names.clone()).collect();
    unknown.sort();
    unknown.dedup();
    unknown.retain(|name| {
        let probe = json!({ "p": {
            "mismatch_action": "allow", "match_action": "log", "filter": [{ "syscall": name }]
        }});
        seccompiler::compile_from_json(probe.to_string().as_bytes(), arch).is_err()
    });
    let (names, doc) = to_seccompiler(profile, &unknown);
    let mut map = seccompiler::compile_from_json(doc.to_string().as_bytes(), arch)
        .map_err(|e| e.to_string())?;
    let mut filters = x32_filter();
    filters.extend(names.iter().filter_map(|n| map.remove(n)));
    Ok(Filters(filters))
}

/// The profile in seccompiler's JSON form, and the filter names in installation order.
fn to_seccompiler(profile: &Profile, unknown: &[String]) -> (Vec<String>, Value) {
    let mut filters = serde_json::Map::new();
    let mut names = Vec::new();
    let mut add = |name: String, mismatch: Action, matched: Action, rules: Vec<&Rule>| {
        filters.insert(
            name.clone(),
            json!({
                "mismatch_action": action_json(mismatch),
                "match_action": action_json(matched),
                "filter": rules_json(&rules, unknown),
            }),
        );
        names.push(name);
    };
    let others: Vec<&Rule> = profile
        .rules
        .iter()
        .filter(|r| r.action != profile.default)
        .collect();
    if profile.default != Action::Allow {
        add(
            "default".into(),
            profile.default,
            Action::Allow,
            others.clone(),
        );
    }
    let mut actions: Vec<Action> = others
        .iter()
        .map(|r| r.action)
        .filter(|a| *a != Action::Allow)
        .collect();
    actions.sort();
    actions.dedup();
    for (i, act) in actions.into_iter().enumerate() {
        let rules = others.iter().copied().filter(|r| r.action == act).collect();
        add(format!("action{i}"), Action::Allow, act, rules);
    }
    (names, Value::Object(filters))
}

fn action_json(a: Action) -> Value {
    match a {
        Action::Allow => json!("allow"),
        Action::Errno(n) => json!({ "errno": n }),
        Action::KillThread => json!("kill_thread"),
        Action::KillProcess => json!("kill_process"),
        Action::Trap => json!("trap"),
        Action::Log => json!("log"),
        Action::Trace(n) => json!({ "trace": n }),
    }
}

/// One seccompiler rule per call and condition list; a call that is matched whatever
/// its arguments gets a single rule without conditions.
fn rules_json(rules: &[&Rule], unknown: &[String]) -> Value {
    let mut by_name: BTreeMap<&str, Option<Vec<&[Cond]>>> = BTreeMap::new();
    for rule in rules {
        for name in rule.names.iter().filter(|n| !unknown.contains(n)) {
            let entry = by_name.entry(name).or_insert_with(|| Some(Vec::new()));
            match entry {
                Some(lists) if !rule.args.is_empty() => lists.push(&rule.args),
                _ => *entry = None,
            }
        }
    }
    let mut out = Vec::new();
    for (name, lists) in by_name {
        match lists {
            None => out.push(json!({ "syscall": name })),
            Some(lists) => out.extend(lists.into_iter().map(|conds| {
                json!({ "syscall": name, "args": conds.iter().map(cond_json).collect::<Vec<_>>() })
            })),
        }
    }
    Value::Array(out)
}

fn cond_json(c: &Cond) -> Value {
    let op = match c.op {
        Op::Eq => json!("eq"),
        Op::Ne => json!("ne"),
        Op::Lt => json!("lt"),
        Op::Le => json!("le"),
        Op::Gt => json!("gt"),
        Op::Ge => json!("ge"),
        Op::MaskedEq(mask) => json!({ "masked_eq": mask }),
    };
    let value = if c.wide {
        c.value
    } else {
        c.value & 0xffff_ffff
    };
    json!({ "index": c.index, "type": if c.wide { "qword" } else { "dword" }, "op": op, "val": value })
}

/// On x86_64, the x32 ABI reaches the same calls under other numbers (bit 30 set), past
/// a filter written for the native ones: a first filter refuses every x32 call.
fn x32_filter() -> Vec<seccompiler::BpfProgram> {
    if !cfg!(target_arch = "x86_64") {
        return Vec::new();
    }
    const LD_ABS_W: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const JGE_K: u16 = 0x35;
    const RET_K: u16 = 0x06;
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const X32_BIT: u32 = 0x4000_0000;
    let ins = |code, jt, jf, k| seccompiler::sock_filter { code, jt, jf, k };
    vec![vec![
        ins(LD_ABS_W, 0, 0, 4),
        ins(JEQ_K, 0, 2, AUDIT_ARCH_X86_64),
        ins(LD_ABS_W, 0, 0, 0),
        ins(JGE_K, 1, 0, X32_BIT),
        ins(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
        ins(RET_K, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
    ]]
}

/// Installs `filters` on this process (seccomp(2), SECCOMP_SET_MODE_FILTER). Needs
/// no_new_privs, or CAP_SYS_ADMIN in the current user namespace.
pub fn install(filters: &Filters) -> Result<(), Error> {
    for program in &filters.0 {
        let len = u16::try_from(program.len())
            .map_err(|_| Error::Usage("the seccomp filter is too long".into()))?;
        let fprog = libc::sock_fprog {
            len,
            // seccompiler's sock_filter has the kernel's layout (repr(C)), as libc's.
            filter: program.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: `fprog` points at `len` instructions that outlive the call.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &fprog as *const libc::sock_fprog,
            )
        };
        nix::errno::Errno::result(rc).map_err(|e| Error::Sys {
            what: "cannot install the seccomp filter".into(),
            source: e,
            hint: " (it needs --no-new-privs or CAP_SYS_ADMIN)",
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Host<'static> = Host {
        caps: CapSet(1 << 5),
        kernel: (6, 1),
        arches: &["amd64", "x86_64", "SCMP_ARCH_X86_64"],
    };

    #[test]
    fn the_default_profile_compiles() {
        let filters = compile(&default_profile()).expect("compiles");
        assert!(!filters.0.is_empty());
    }

    #[test]
    fn reads_an_oci_profile_with_docker_conditions() {
        let text = r#"{
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                {"names": ["read", "write", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_KILL"]}},
                {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}},
                {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}}
            ]
        }"#;
        let profile = parse_oci(text, HOST).expect("parses");
        assert_eq!(profile.default, Action::Errno(EPERM));
        let names: Vec<&str> = profile
            .rules
            .iter()
            .flat_map(|r| r.names.iter().map(String::as_str))
            .collect();
        assert_eq!(
            names,
            [
                "read",
                "write",
                "no_such_call",
                "clone3",
                "kill",
                "ptrace",
                "personality"
            ]
        );
        assert_eq!(profile.rules[1].action, Action::Errno(38));
        assert_eq!(profile.rules[4].args[0].op, Op::Eq);
        // Two filters (default, ENOSYS) and the x32 guard on x86_64.
        let filters = compile(&profile).expect("compiles");
        assert_eq!(
            filters.0.len(),
            2 + usize::from(cfg!(target_arch = "x86_64"))
        );
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        assert!(parse_oci("{}", HOST).is_err());
        assert!(parse_oci(r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#, HOST).is_err());
        let bad_op = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
            "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]}"#;
        assert!(parse_oci(bad_op, HOST).is_err());
        assert_eq!(parse_version("6.18.44-fc"), Some((6, 18)));
    }

    #[test]
    fn a_call_matched_whatever_its_arguments_has_one_rule() {
        let cond = Cond {
            index: 0,
            wide: false,
            op: Op::Eq,
            value: 1,
        };
        let a = Rule {
            names: vec!["x".into()],
            action: Action::Allow,
            args: vec![cond],
        };
        let b = Rule {
            args: vec![],
            ..a.clone()
        };
        assert_eq!(rules_json(&[&a, &b], &[]), json!([{ "syscall": "x" }]));
        assert_eq!(rules_json(&[&a], &["x".to_string()]), json!([]));
    }
}
