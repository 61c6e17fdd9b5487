//! What one command changed, held by one owner: undone when dropped unless kept, so
//! that a failure at any step (the result that cannot be written included) leaves
//! things as they were. The processes moved go back first, then the limits set get
//! their old values back (newest first), then the cgroups made are removed.

use std::path::PathBuf;

use crate::cgroup::write::Restore;
use crate::create::Creator;
use crate::ctx::Ctx;
use crate::procs::Moves;

/// The moves, limit restores and cgroups made of one command.
pub struct Undo<'a> {
    moves: Moves,
    restores: Vec<Restore>,
    creator: Creator<'a>,
}

impl<'a> Undo<'a> {
    pub fn new(ctx: &'a Ctx) -> Self {
        Undo {
            moves: Moves::default(),
            restores: Vec::new(),
            creator: Creator::new(ctx),
        }
    }

    /// Makes the cgroups; those it made are removed on undo.
    pub fn creator(&mut self) -> &mut Creator<'a> {
        &mut self.creator
    }

    /// Moves processes; they go back on undo.
    pub fn moves(&mut self) -> &mut Moves {
        &mut self.moves
    }

    /// The old values of a limit just set, put back on undo.
    pub fn restore(&mut self, restore: Restore) {
        self.restores.push(restore);
    }

    /// The cgroup directories made so far, in order.
    pub fn made(&self) -> &[PathBuf] {
        self.creator.made()
    }

    /// The command succeeded: keep everything.
    pub fn keep(mut self) {
        std::mem::take(&mut self.moves).keep();
        for r in self.restores.drain(..) {
            r.keep();
        }
        self.creator.keep();
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        drop(std::mem::take(&mut self.moves));
        while let Some(r) = self.restores.pop() {
            drop(r);
        }
        // Then the creator, dropped with the fields, removes what it made.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::testdir::cgroup;
    use crate::cgroup::write::{apply_plan, w};
    use crate::layout::tests::{layout, HYBRID};
    use crate::layout::Version;
    use crate::resource::Resource;

    #[test]
    fn limits_go_back_newest_first_unless_kept() {
        let ctx = Ctx::for_layout(layout(HYBRID, ""));
        let cg = cgroup(&[("pids.max", "max\n")], &[]);
        let set = |v: &str| {
            let plan = [w("pids.max", v)];
            apply_plan(&cg.dir, &plan, Resource::Pids, Version::V2)
                .unwrap()
                .1
        };
        let mut undo = Undo::new(&ctx);
        undo.restore(set("64"));
        undo.restore(set("32"));
        assert_eq!(cg.file("pids.max"), "32");
        drop(undo);
        // 32 -> 64 -> max; oldest first would have ended at 64
        assert_eq!(cg.file("pids.max"), "max");
        let mut undo = Undo::new(&ctx);
        undo.restore(set("16"));
        assert!(undo.made().is_empty());
        undo.keep();
        assert_eq!(cg.file("pids.max"), "16");
    }
}
