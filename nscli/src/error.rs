//! Error plumbing a tool's own error type builds on: a failed system call with what
//! was being done ([`SysError`], made by [`Context`]), and several errors as one.

use std::fmt;

use nix::errno::Errno;

/// A system call that failed: `cannot mount proc on /x: Permission denied`.
/// A tool's error type takes it in with `From` (and keeps the errno).
#[derive(Debug, thiserror::Error)]
#[error("{what}: {}", errno.desc())]
pub struct SysError {
    /// What was being done, on what.
    pub what: String,
    pub errno: Errno,
}

/// `nix_call().context(|| format!("cannot ... {path}"))?`
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, SysError>;
}

impl<T> Context<T> for nix::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, SysError> {
        self.map_err(|errno| SysError {
            what: what(),
            errno,
        })
    }
}

/// Collapses the errors of steps that kept going (a teardown): none is success, one
/// is itself, more become `many(errors)`.
pub fn collapse<E>(mut errors: Vec<E>, many: impl FnOnce(Vec<E>) -> E) -> Result<(), E> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(many(errors)),
    }
}

/// Several errors in one message, joined by "; ":
/// `#[error("{}", Joined(.0))] Many(Vec<Error>)`.
pub struct Joined<'a, E>(pub &'a [E]);

impl<E: fmt::Display> fmt::Display for Joined<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_the_errno() {
        let r: nix::Result<()> = Err(Errno::EACCES);
        let e = r.context(|| "cannot open /x".into()).unwrap_err();
        assert_eq!(e.errno, Errno::EACCES);
        assert_eq!(e.to_string(), "cannot open /x: Permission denied");
    }

    #[test]
    fn lists() {
        let many = |v: Vec<String>| Joined(&v).to_string();
        assert_eq!(collapse(Vec::<String>::new(), many), Ok(()));
        assert_eq!(collapse(vec!["a".to_string()], many), Err("a".to_string()));
        assert_eq!(
            collapse(vec!["a".to_string(), "b".to_string()], many),
            Err("a; b".to_string())
        );
    }
}
