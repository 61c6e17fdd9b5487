//! OCI runtime-spec `linux.seccomp` profiles (also Docker's and Podman's files).

use serde::Deserialize;

use super::{Action, Cond, Op, Profile, Rule};
use crate::caps::CapSet;

const EPERM: u32 = libc::EPERM as u32;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::compile;

    const HOST: Host<'static> = Host {
        caps: CapSet(1 << 5),
        kernel: (6, 1),
        arches: &["amd64", "x86_64", "SCMP_ARCH_X86_64"],
    };

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
}
