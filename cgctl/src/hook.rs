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

use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::error::{Error, Result};

pub const PAUSE_ENV: &str = "CGCTL_TEST_PAUSE";
pub const FAIL_ENV: &str = "CGCTL_TEST_FAIL";

/// Called at each step.
pub fn checkpoint(step: &str) -> Result<()> {
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
            format!("injected failure at step {step}"),
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
