//! Test hooks, compiled into debug builds only (release builds ignore them): pause at
//! a step, or make a step fail, so that the integration tests can race a target's exit
//! (and the reuse of its PID) with cgctl's writes deterministically.
//!
//! - `CGCTL_TEST_PAUSE=STEP:DIR`: at the step, create `DIR/paused` and wait (up to
//!   10 s) until `DIR/resume` exists.
//! - `CGCTL_TEST_FAIL=STEP`: the step fails as if the kernel had said EIO.
//!
//! Steps: `move` (a PID was looked up and is about to be written to cgroup.procs),
//! `moved` (after a PID was written), `rollback` (about to write a PID back).

use nix::errno::Errno;
use nscli::testhook::Hooks;

use crate::error::{Error, Result};

pub const PAUSE_ENV: &str = "CGCTL_TEST_PAUSE";
pub const FAIL_ENV: &str = "CGCTL_TEST_FAIL";

const HOOKS: Hooks = Hooks {
    fail_env: FAIL_ENV,
    pause_env: PAUSE_ENV,
};

/// Called at each step.
pub fn checkpoint(step: &str) -> Result<()> {
    if HOOKS.checkpoint(step) {
        return Err(Error::sys(
            format!("injected failure at step {step}"),
            Errno::EIO,
        ));
    }
    Ok(())
}
