//! Test hooks, compiled into debug builds only (release builds ignore them): make one
//! step of `attach` fail, or pause there, so the integration tests can check the
//! rollback of every step and race a namespace's deletion deterministically.
//!
//! - `NETNS_BRIDGE_TEST_FAIL=STEP`: the step fails as if the kernel had said EIO.
//! - `NETNS_BRIDGE_TEST_PAUSE=STEP:DIR`: at the step, create `DIR/paused` and wait (up
//!   to 10 s) until `DIR/resume` exists.
//!
//! Steps, in order: `bridge`, `lease`, `veth`, `inside`, `nat`, `done`.

use nix::errno::Errno;
use nscli::testhook::Hooks;

use crate::error::Error;

pub const FAIL_ENV: &str = "NETNS_BRIDGE_TEST_FAIL";
pub const PAUSE_ENV: &str = "NETNS_BRIDGE_TEST_PAUSE";

const HOOKS: Hooks = Hooks {
    fail_env: FAIL_ENV,
    pause_env: PAUSE_ENV,
};

/// Called by attach after each step.
pub fn checkpoint(step: &str) -> Result<(), Error> {
    if HOOKS.checkpoint(step) {
        return Err(Error::sys(
            format!("injected failure after step {step}"),
            Errno::EIO,
        ));
    }
    Ok(())
}
