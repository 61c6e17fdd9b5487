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

mod compile;
mod default;
mod oci;

pub use compile::compile;
pub use default::{default_profile, DEFAULT_DENIED, PERSONALITIES};
pub use oci::{kernel_version, native_arches, parse_oci, Host};

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
