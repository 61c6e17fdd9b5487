//! `--join TARGET[:TYPES]`: entering namespaces that already exist, as nsenter does.
//!
//! A PID target is held by [`nsproc::Process`] (a pidfd and its /proc/PID directory)
//! from the moment it is parsed, and all of its namespaces are entered with one
//! `setns(pidfd, flags)` (Linux 5.8): atomically, user namespace first, and never those
//! of a process that took over the PID (the kernel answers ESRCH once the target has
//! exited). Older kernels answer EINVAL to a pidfd: then each namespace is opened
//! from the one /proc/PID directory, the process is checked to be still the one
//! opened, and the namespaces are entered one by one.
//!
//! nsrun joins in its own process, then creates the child (so COMMAND is in a joined
//! PID namespace, and new namespaces belong to a joined user namespace), then returns
//! to its own namespaces, so that the PID file, `=FILE` and `--setup` act outside as
//! without `--join`. A joined user namespace cannot be left: then nsrun stays in what
//! it joined.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::str::FromStr;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{setns, CloneFlags};
use nix::sys::stat::Mode;

use crate::error::{Context, Error};
use nsproc::{Kind, NsFile, NsId, Policy, Process, Target};

/// One `--join` argument: a target and, if given, the namespace types to enter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinSpec {
    pub target: Target,
    pub kinds: Option<Vec<Kind>>,
    /// The argument as given, for messages.
    pub text: String,
}

impl FromStr for JoinSpec {
    type Err = String;

    /// `TARGET[:TYPES]`; a TARGET holding `:` is read whole unless what follows the
    /// last `:` is a list of namespace types.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (target, kinds) = match s.rsplit_once(':') {
            Some((t, types)) if !t.is_empty() => match parse_kinds(types) {
                Ok(kinds) => (t, Some(kinds)),
                Err(_) if t.contains('/') || types.contains('/') => (s, None),
                Err(e) => return Err(e),
            },
            _ => (s, None),
        };
        let target = nsproc::target::parse(target.as_ref(), Policy::NAMED_NETNS)
            .map_err(|e| e.to_string())?;
        Ok(JoinSpec {
            target,
            kinds,
            text: s.to_string(),
        })
    }
}

/// A comma list of namespace types, each once.
fn parse_kinds(text: &str) -> Result<Vec<Kind>, String> {
    let mut kinds = Vec::new();
    for word in text.split(',') {
        let kind: Kind = word
            .parse()
            .map_err(|e: nsproc::UnknownKind| e.to_string())?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// What one `--join` enters, opened.
#[derive(Debug)]
enum Source {
    Process { process: Process, kinds: Vec<Kind> },
    File(NsFile),
}

impl Source {
    fn kinds(&self) -> Vec<Kind> {
        match self {
            Source::Process { kinds, .. } => kinds.clone(),
            Source::File(ns) => vec![ns.kind()],
        }
    }
}

/// Every namespace to join, opened before anything is entered or created.
#[derive(Debug, Default)]
pub struct Joins {
    sources: Vec<Source>,
}

impl Joins {
    /// Opens every target of `specs`. A kind joined twice, or joined and also to be
    /// created (in `new`), is a usage error.
    pub fn open(specs: &[JoinSpec], new: &[Kind]) -> Result<Joins, Error> {
        let mut joins = Joins::default();
        for spec in specs {
            let source = open_source(spec)?;
            for kind in source.kinds() {
                if joins.has(kind) {
                    return Err(Error::Usage(format!(
                        "the {kind} namespace is joined twice (--join {})",
                        spec.text
                    )));
                }
                if new.contains(&kind) {
                    return Err(Error::Usage(format!(
                        "the {kind} namespace is both joined (--join {}) and new (--{} or an \
                         option implying it)",
                        spec.text,
                        long_flag(kind)
                    )));
                }
            }
            joins.sources.push(source);
        }
        Ok(joins)
    }

    /// Whether a namespace of `kind` is entered.
    pub fn has(&self, kind: Kind) -> bool {
        self.sources.iter().any(|s| s.kinds().contains(&kind))
    }

    pub fn is_empty(&self) -> bool {
        self.sources.iter().all(|s| s.kinds().is_empty())
    }

    /// nsrun's own namespaces of the kinds joined (and its root and working directory),
    /// to come back to after the child is made; `None` when a user namespace is joined,
    /// which cannot be left, or when nothing is joined.
    pub fn save_own(&self) -> Result<Option<Own>, Error> {
        if self.is_empty() || self.has(Kind::User) {
            return Ok(None);
        }
        let me = Process::current().map_err(|e| join_error("nsrun itself", e))?;
        let mut files = Vec::new();
        for kind in Kind::ALL.into_iter().filter(|k| self.has(*k)) {
            if let Some(ns) = me
                .open_ns(kind)
                .map_err(|e| join_error("nsrun itself", e))?
            {
                files.push(ns);
            }
        }
        let open_dir = |path: &str| {
            nix::fcntl::open(
                path,
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .context(|| format!("cannot open {path} to come back to it after --join"))
        };
        // Entering a mount namespace moves nsrun to its root.
        let dirs = match self.has(Kind::Mount) {
            true => Some((open_dir("/")?, open_dir(".")?)),
            false => None,
        };
        Ok(Some(Own { files, dirs }))
    }

    /// Enters every namespace: the user namespace first when the caller is not root
    /// (it then gives the rights to enter the others), else last, as nsenter does.
    pub fn enter(&self) -> Result<(), Error> {
        pause_for_tests();
        let user_first = !nix::unistd::geteuid().is_root();
        let (with_user, others): (Vec<_>, Vec<_>) = self
            .sources
            .iter()
            .partition(|s| s.kinds().contains(&Kind::User));
        let order: Vec<&Source> = if user_first {
            with_user.into_iter().chain(others).collect()
        } else {
            others.into_iter().chain(with_user).collect()
        };
        for source in order {
            match source {
                Source::Process { process, kinds } => enter_process(process, kinds, user_first)?,
                Source::File(ns) => enter_file(ns)?,
            }
        }
        Ok(())
    }
}

/// nsrun's own namespaces, root and working directory, saved before joining.
pub struct Own {
    files: Vec<NsFile>,
    /// Root and working directory, when a mount namespace is joined.
    dirs: Option<(OwnedFd, OwnedFd)>,
}

impl Own {
    /// Returns nsrun to them.
    pub fn restore(self) -> Result<(), Error> {
        for ns in &self.files {
            setns(ns.as_fd(), ns.kind().clone_flag()).context(|| {
                format!(
                    "cannot return to nsrun's own {} namespace (setns)",
                    ns.kind()
                )
            })?;
        }
        if let Some((root, cwd)) = &self.dirs {
            nix::unistd::fchdir(root)
                .and_then(|()| nix::unistd::chroot("."))
                .and_then(|()| nix::unistd::fchdir(cwd))
                .context(|| "cannot return to nsrun's own root and working directory".into())?;
        }
        Ok(())
    }
}

/// The long option that makes a new namespace of `kind`.
pub(crate) fn long_flag(kind: Kind) -> &'static str {
    match kind {
        Kind::Mount => "mount",
        other => other.proc_name(),
    }
}

fn join_error(target: &str, source: nsproc::Error) -> Error {
    Error::Join {
        target: target.to_string(),
        source,
    }
}

fn open_source(spec: &JoinSpec) -> Result<Source, Error> {
    let fail = |e| join_error(&spec.text, e);
    let path: PathBuf = match &spec.target {
        Target::Pid(pid) => {
            let process = Process::open(*pid).map_err(fail)?;
            let kinds = process_kinds(&process, spec.kinds.as_deref()).map_err(fail)?;
            return Ok(Source::Process { process, kinds });
        }
        other => other.ns_path(Kind::Net),
    };
    let ns = NsFile::open(&path).map_err(fail)?;
    if let Some(kinds) = &spec.kinds {
        if kinds.as_slice() != [ns.kind()] {
            return Err(Error::Usage(format!(
                "--join {}: {} holds a {} namespace",
                spec.text,
                path.display(),
                ns.kind()
            )));
        }
    }
    Ok(Source::File(ns))
}

/// The kinds to enter of `process`: those asked, or every one that differs from
/// nsrun's own (`nsenter -a`). A namespace nsrun is already in is left out (the kernel
/// refuses to enter one's own user namespace).
fn process_kinds(process: &Process, asked: Option<&[Kind]>) -> nsproc::Result<Vec<Kind>> {
    let mut kinds = Vec::new();
    for kind in asked.map_or(Kind::ALL.to_vec(), <[Kind]>::to_vec) {
        let theirs = match process.ns_id(kind)? {
            Some(id) => id,
            None if asked.is_none() => continue,
            None => {
                return Err(nsproc::Error::sys(
                    "find",
                    format!("/proc/{}/ns/{}", process.pid(), kind.proc_name()),
                    Errno::ENOENT,
                ))
            }
        };
        let own = NsId::of_path(&Target::SelfProcess.ns_path(kind)).ok();
        if own != Some(theirs) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

fn exited(process: &Process) -> Error {
    Error::Refused(format!(
        "cannot join PID {}: it has exited, and its PID may now name another process; \
         nothing was entered",
        process.pid()
    ))
}

fn setns_hint(e: Errno) -> &'static str {
    match e {
        Errno::EPERM => {
            " (joining needs CAP_SYS_ADMIN over the target's namespaces: run as root, or \
             join its user namespace too)"
        }
        _ => "",
    }
}

fn enter_process(process: &Process, kinds: &[Kind], user_first: bool) -> Result<(), Error> {
    if kinds.is_empty() {
        return Ok(());
    }
    if process.ensure_same().is_err() {
        return Err(exited(process));
    }
    let flags = kinds
        .iter()
        .fold(CloneFlags::empty(), |f, k| f | k.clone_flag());
    let names: Vec<&str> = kinds.iter().map(|k| k.proc_name()).collect();
    if let Some(pidfd) = process.pidfd().filter(|_| !without_pidfd_setns()) {
        match setns(pidfd, flags) {
            Ok(()) => return Ok(()),
            Err(Errno::ESRCH) => return Err(exited(process)),
            // Linux < 5.8 takes no pidfd here.
            Err(Errno::EINVAL) => {}
            Err(e) => {
                return Err(Error::Sys {
                    what: format!(
                        "cannot join the {} namespaces of PID {} (setns)",
                        names.join(", "),
                        process.pid()
                    ),
                    source: e,
                    hint: setns_hint(e),
                })
            }
        }
    }
    enter_one_by_one(process, kinds, user_first)
}

/// The fallback without `setns(pidfd)`: each namespace opened from the process's
/// /proc/PID directory, which provably belongs to it while it has not exited.
fn enter_one_by_one(process: &Process, kinds: &[Kind], user_first: bool) -> Result<(), Error> {
    let fail = |e| join_error(&process.pid().to_string(), e);
    let mut files = Vec::new();
    for kind in kinds {
        let ns = process.open_ns(*kind).map_err(fail)?;
        files.extend(ns);
    }
    if process.ensure_same().is_err() {
        return Err(exited(process));
    }
    files.sort_by_key(|ns| (ns.kind() == Kind::User) != user_first);
    for ns in &files {
        enter_file(ns)?;
    }
    Ok(())
}

fn enter_file(ns: &NsFile) -> Result<(), Error> {
    setns(ns.as_fd(), ns.kind().clone_flag()).map_err(|e| Error::Sys {
        what: format!(
            "cannot join the {} namespace of {} (setns)",
            ns.kind(),
            ns.path().display()
        ),
        source: e,
        hint: setns_hint(e),
    })
}

/// Debug builds only: with NSRUN_TEST_NO_PIDFD_SETNS set, PID targets are entered as on
/// a kernel older than 5.8, so that tests reach the fallback.
fn without_pidfd_setns() -> bool {
    cfg!(debug_assertions) && std::env::var_os("NSRUN_TEST_NO_PIDFD_SETNS").is_some()
}

/// Debug builds only: with NSRUN_TEST_STOP_BEFORE_JOIN set, nsrun stops itself between
/// opening the targets and entering them, so a test can make a target exit and its PID
/// be reused meanwhile.
fn pause_for_tests() {
    #[cfg(debug_assertions)]
    if std::env::var_os("NSRUN_TEST_STOP_BEFORE_JOIN").is_some() {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Result<JoinSpec, String> {
        s.parse()
    }

    #[test]
    fn parses_targets_and_types() {
        let s = spec("42").unwrap();
        assert_eq!((s.target, s.kinds), (Target::Pid(42), None));
        let s = spec("42:net,ipc,uts,net").unwrap();
        assert_eq!(s.kinds, Some(vec![Kind::Net, Kind::Ipc, Kind::Uts]));
        let s = spec("/run/netns/red").unwrap();
        assert_eq!(s.target, Target::Path("/run/netns/red".into()));
        let s = spec("red:net").unwrap();
        assert_eq!(s.target, Target::Named("red".into()));
        assert_eq!(s.kinds, Some(vec![Kind::Net]));
        let s = spec("/proc/7/ns/mnt:mount").unwrap();
        assert_eq!(s.kinds, Some(vec![Kind::Mount]));
        // A path with a colon that is no type list is read whole.
        let s = spec("/tmp/a:b/ns").unwrap();
        assert_eq!(s.target, Target::Path("/tmp/a:b/ns".into()));
    }

    #[test]
    fn refuses_bad_targets_and_types() {
        assert!(spec("42:network")
            .unwrap_err()
            .contains("unknown namespace type"));
        assert!(spec("42:").is_err());
        assert!(spec("0").unwrap_err().contains("invalid PID"));
        assert!(spec("").is_err());
        assert!(spec("..").is_err());
    }

    #[test]
    fn own_process_differs_in_nothing() {
        let me = Process::current().unwrap();
        assert!(process_kinds(&me, None).unwrap().is_empty());
        assert!(process_kinds(&me, Some(&[Kind::Net])).unwrap().is_empty());
    }

    #[test]
    fn joined_and_new_conflict() {
        let me = std::process::id().to_string();
        let specs = [spec(&format!("{me}:net")).unwrap()];
        // Joining nsrun's own namespace enters nothing, and so conflicts with nothing.
        assert!(Joins::open(&specs, &[Kind::Net]).unwrap().is_empty());
        let file = [spec("/proc/self/ns/net").unwrap()];
        assert!(matches!(
            Joins::open(&file, &[Kind::Net]),
            Err(Error::Usage(_))
        ));
        let twice = [file[0].clone(), file[0].clone()];
        assert!(matches!(Joins::open(&twice, &[]), Err(Error::Usage(_))));
        let wrong = [spec("/proc/self/ns/net:ipc").unwrap()];
        assert!(matches!(Joins::open(&wrong, &[]), Err(Error::Usage(_))));
    }
}
