//! Test hooks, active in debug builds only (release builds ignore them): the
//! integration tests make one step of a command fail, or pause there, through two
//! environment variables, so that rollbacks and races (a target exiting, its PID
//! reused) are checked deterministically.
//!
//! - `FAIL_ENV=STEP`: the step fails (the tool reports it as an EIO from the kernel).
//! - `PAUSE_ENV=STEP:DIR`: at the step, create `DIR/paused` and wait (up to 10 s) until
//!   `DIR/resume` exists.

use std::path::Path;
use std::time::{Duration, Instant};

/// The hooks of one tool: the names of its two variables.
pub struct Hooks {
    pub fail_env: &'static str,
    pub pause_env: &'static str,
}

impl Hooks {
    /// Called at `step`: pauses there if asked, and says whether the step must fail.
    pub fn checkpoint(&self, step: &str) -> bool {
        if !cfg!(debug_assertions) {
            return false;
        }
        if let Some(pause) = std::env::var_os(self.pause_env) {
            let pause = pause.to_string_lossy();
            if let Some((at, dir)) = pause.split_once(':') {
                if at == step {
                    wait(Path::new(dir));
                }
            }
        }
        std::env::var_os(self.fail_env).is_some_and(|s| s == step)
    }
}

fn wait(dir: &Path) {
    let _ = std::fs::write(dir.join("paused"), b"");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.join("resume").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fails_only_the_step_named() {
        let hooks = Hooks {
            fail_env: "NSCLI_TEST_HOOK_FAIL",
            pause_env: "NSCLI_TEST_HOOK_PAUSE",
        };
        assert!(!hooks.checkpoint("a"));
        std::env::set_var("NSCLI_TEST_HOOK_FAIL", "b");
        assert!(!hooks.checkpoint("a"));
        assert!(hooks.checkpoint("b"));
        std::env::remove_var("NSCLI_TEST_HOOK_FAIL");
    }
}
