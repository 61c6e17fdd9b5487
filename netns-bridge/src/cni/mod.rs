//! CNI plugin mode: with `CNI_COMMAND` set, netns-bridge reads a network configuration
//! on stdin and the container's namespace from the environment, and answers with a CNI
//! result or error on stdout (CNI spec 0.3.0 to 1.1.0).
//!
//! [`config`] parses what the runtime hands over (pure), [`dispatch`] turns a command
//! into attach, detach or a check, [`result`] is the JSON that goes back.

use std::io::Read;

use nscli::output::Output;

pub mod config;
pub mod dispatch;
pub mod ipamconf;
pub mod result;
pub mod unsupported;

use result::{CniError, ErrorResult, CODE_IO};

/// The versions of the CNI spec this plugin speaks.
pub const SUPPORTED_VERSIONS: [&str; 5] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];
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
            let why = nscli::errno::io_text(&e).to_string();
            let error =
                CniError::new(CODE_IO, format!("cannot read stdin: {why}")).with_details(&why);
            return emit_error(FALLBACK_VERSION, &error);
        }
    }
    match dispatch::dispatch(&command, &stdin, env) {
        Ok(Some(value)) => match write(&value) {
            Ok(()) => 0,
            Err(e) => {
                // The runtime sees the failure and calls DEL, which releases the address.
                nscli::report::error("netns-bridge", &e);
                1
            }
        },
        Ok(None) => 0,
        Err((version, e)) => emit_error(&version, &e),
    }
}

/// Writes one line to stdout and flushes it; a failure is reported, never a panic.
fn write(text: &str) -> Result<(), nscli::output::OutputError> {
    let mut out = Output::stdout();
    out.line(text)?;
    out.flush()
}

fn emit_error(version: &str, e: &CniError) -> i32 {
    let _ = write(&ErrorResult::new(version, e).to_json());
    nscli::report::error("netns-bridge", &e.msg);
    1
}
