//! nscli: what the nstools binaries share on the command line, so that every tool
//! parses, fails, exits and prints the same way.
//!
//! - [`args`]: clap's errors as one `tool: …` line (exit 2), `--help` on stdout (exit 0);
//! - [`exit`]: the exit statuses every tool shares, and the end of `main`;
//! - [`report`]: one line on stderr that never panics;
//! - [`errno`], [`error`]: errno text without "(os error N)", [`error::Context`] for
//!   failed system calls, several errors as one;
//! - [`output`]: stdout, where a closed pipe ends quietly;
//! - [`cell`], [`columns`], [`table`], [`format`], [`json`], [`tree`]: the tables of
//!   every tool, with `-o`, `-r`, `-n` and `--json`;
//! - [`term`]: the width of the terminal on stdout, text cut to fit;
//! - [`testhook`]: debug-build hooks that make a step fail or pause, for the tests.
//!
//! Nothing here runs before it is called: no statics, no set-up at start-up.

pub mod args;
pub mod cell;
pub mod columns;
pub mod errno;
pub mod error;
pub mod exit;
pub mod format;
pub mod json;
pub mod output;
pub mod report;
pub mod table;
pub mod term;
pub mod testhook;
pub mod tree;
