//! CNI plugin mode: with `CNI_COMMAND` set, netns-bridge reads a network configuration
//! on stdin and the container's namespace from the environment, and answers with a CNI
//! result or error on stdout (CNI spec 0.3.0 to 1.0.0).
//!
//! [`config`] parses what the runtime hands over (pure), [`dispatch`] turns a command
//! into attach, detach or a check, [`result`] is the JSON that goes back.

use std::io::Read;

pub mod config;
pub mod dispatch;
pub mod result;

use result::{CniError, ErrorResult, CODE_IO};

/// The versions of the CNI spec this plugin speaks.
pub const SUPPORTED_VERSIONS: [&str; 4] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"];
/// The version errors are reported in when the configuration's is not known.
const FALLBACK_VERSION: &str = "1.0.0";

/// An environment variable, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Runs the plugin: reads stdin, dispatches on CNI_COMMAND, writes the answer. Returns the
/// exit status.
pub fn run() -> i32 {
    let command = env("CNI_COMMAND").unwrap_or_default();
    let mut stdin = Vec::new();
    if command != "VERSION" {
        if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
            let why = crate::error::io_text(&e);
            let error =
                CniError::new(CODE_IO, format!("cannot read stdin: {why}")).with_details(&why);
            return emit_error(FALLBACK_VERSION, &error);
        }
    }
    match dispatch::dispatch(&command, &stdin, env) {
        Ok(Some(value)) => {
            println!("{value}");
            0
        }
        Ok(None) => 0,
        Err((version, e)) => emit_error(&version, &e),
    }
}

fn emit_error(version: &str, e: &CniError) -> i32 {
    println!("{}", ErrorResult::new(version, e).to_json());
    eprintln!("netns-bridge: {}", e.msg);
    1
}
