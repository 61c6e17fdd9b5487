//! Rollback by ownership: a [`Transaction`] holds the undo action of every step that made
//! something. Dropped without [`Transaction::commit`], it undoes them in reverse order,
//! going on past failures and reporting every one (as netavark's teardown does). What
//! is already gone counts as undone: [`gone`] decides that, for undo and teardown alike.

use nix::errno::Errno;

use crate::error::Error;

/// Whether a removal that failed with `errno` found nothing to remove: the link, the
/// address, the namespace or the process is not there. For undo and teardown, success.
pub fn gone(errno: Errno) -> bool {
    matches!(
        errno,
        Errno::ENODEV | Errno::ENOENT | Errno::ESRCH | Errno::EADDRNOTAVAIL
    )
}

type UndoFn<'a, C> = Box<dyn FnOnce(&mut C) -> Result<(), Error> + 'a>;

/// The undo list of one operation, with the context its actions need (for attach, the
/// host's netlink socket), owned here so that `Drop` can use it.
pub struct Transaction<'a, C> {
    context: C,
    undo: Vec<UndoFn<'a, C>>,
}

impl<'a, C> Transaction<'a, C> {
    pub fn new(context: C) -> Self {
        Transaction {
            context,
            undo: Vec::new(),
        }
    }

    /// The context, for the steps themselves.
    pub fn context(&mut self) -> &mut C {
        &mut self.context
    }

    /// Registers how to undo a step: right after it succeeded, or before it when what it
    /// makes may exist even though it reports failure.
    pub fn on_undo(&mut self, action: impl FnOnce(&mut C) -> Result<(), Error> + 'a) {
        self.undo.push(Box::new(action));
    }

    /// Everything went through: nothing is undone.
    pub fn commit(mut self) {
        self.undo.clear();
    }

    /// Undoes every registered step, last first, and returns every failure (what `Drop`
    /// does, for the tests to see).
    #[cfg(test)]
    fn rollback(mut self) -> Result<(), Error> {
        self.undo_all()
    }

    fn undo_all(&mut self) -> Result<(), Error> {
        let mut errors = Vec::new();
        while let Some(action) = self.undo.pop() {
            match action(&mut self.context) {
                Ok(()) => {}
                Err(Error::Many(list)) => errors.extend(list),
                Err(e) => errors.push(e),
            }
        }
        Error::from_list(errors)
    }
}

impl<C> Drop for Transaction<'_, C> {
    fn drop(&mut self) {
        // The operation's own error is what the caller reports; these can only be told.
        if let Err(e) = self.undo_all() {
            nscli::report::error("netns-bridge", &format_args!("rollback: {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    fn fail(what: &str) -> Error {
        Error::sys(format!("cannot undo {what}"), Errno::EBUSY)
    }

    #[test]
    fn undoes_in_reverse_order_when_dropped() {
        let log = RefCell::new(Vec::new());
        {
            let mut tx = Transaction::new(());
            for step in ["bridge", "lease", "veth"] {
                let log = &log;
                tx.on_undo(move |_| {
                    log.borrow_mut().push(step);
                    Ok(())
                });
            }
        }
        assert_eq!(*log.borrow(), ["veth", "lease", "bridge"]);
    }

    #[test]
    fn keeps_going_past_failures_and_reports_each() {
        let mut tx = Transaction::new(());
        tx.on_undo(|_| Err(fail("first")));
        tx.on_undo(|_| Ok(()));
        tx.on_undo(|_| Err(Error::Many(vec![fail("third"), fail("fourth")])));
        let ran = RefCell::new(Vec::new());
        {
            let mut tx = Transaction::new(());
            tx.on_undo(|_| {
                ran.borrow_mut().push("x");
                Err(fail("x"))
            });
            tx.on_undo(|_| {
                ran.borrow_mut().push("y");
                Err(fail("y"))
            });
        }
        assert_eq!(*ran.borrow(), ["y", "x"]);
        let Err(Error::Many(errors)) = tx.rollback() else {
            panic!("three failures expected");
        };
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "cannot undo third: Device or resource busy",
                "cannot undo fourth: Device or resource busy",
                "cannot undo first: Device or resource busy",
            ]
        );
    }

    #[test]
    fn one_failure_is_itself() {
        let mut tx = Transaction::new(());
        tx.on_undo(|_| Ok(()));
        tx.on_undo(|_| Err(fail("it")));
        let err = tx.rollback().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("cannot undo it: Device or resource busy")
        );
    }

    #[test]
    fn commit_undoes_nothing() {
        let ran = RefCell::new(0);
        let mut tx = Transaction::new(());
        tx.on_undo(|_| {
            *ran.borrow_mut() += 1;
            Ok(())
        });
        tx.commit();
        assert_eq!(*ran.borrow(), 0);
    }

    #[test]
    fn actions_see_the_context() {
        let mut tx = Transaction::new(Vec::new());
        tx.on_undo(|log: &mut Vec<&str>| {
            assert_eq!(log.as_slice(), ["step ran"]);
            Ok(())
        });
        tx.context().push("step ran");
        assert_eq!(tx.rollback().ok(), Some(()));
    }

    #[test]
    fn gone_is_not_there() {
        for errno in [
            Errno::ENODEV,
            Errno::ENOENT,
            Errno::ESRCH,
            Errno::EADDRNOTAVAIL,
        ] {
            assert!(gone(errno), "{errno}");
        }
        for errno in [Errno::EBUSY, Errno::EPERM, Errno::EIO, Errno::EEXIST] {
            assert!(!gone(errno), "{errno}");
        }
    }
}
