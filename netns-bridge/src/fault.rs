//! Test hooks, compiled into debug builds only (release builds ignore them): make one
//! step of `attach` fail, or pause there, so the integration tests can check the
//! rollback of every step and race a namespace's deletion deterministically.
//!
//! - `NETNS_BRIDGE_TEST_FAIL=STEP`: the step fails as if the kernel had said EIO.
//! - `NETNS_BRIDGE_TEST_PAUSE=STEP:DIR`: at the step, create `DIR/paused` and wait (up
//!   to 10 s) until `DIR/resume` exists.
//!
//! Steps, in order: `bridge`, `lease`, `veth`, `inside`, `nat`, `done`.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::error::Error;

pub const FAIL_ENV: &str = "NETNS_BRIDGE_TEST_FAIL";
pub const PAUSE_ENV: &str = "NETNS_BRIDGE_TEST_PAUSE";

/// Called by attach after each step.
pub fn checkpoint(step: &str) -> Result<(), Error> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    if let Some(pause) = std::env::var_os(PAUSE_ENV) {
        let pause = pause.to_string_lossy();
        if let Some((at, dir)) = pause.split_once(':') {
            if at == step {
                wait(Path::new(dir));
            }
        }
    }
    if std::env::var_os(FAIL_ENV).is_some_and(|s| s == step) {
        return Err(Error::sys(
            format!("injected failure after step {step}"),
            Errno::EIO,
        ));
    }
    Ok(())
}

fn wait(dir: &Path) {
    let _ = std::fs::write(dir.join("paused"), b"");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("resume").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}
