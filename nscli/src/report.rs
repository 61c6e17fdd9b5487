//! Messages on stderr: one line each, `tool: message`, written so that a closed or
//! full stderr never panics (no `eprintln!`).

use std::fmt::Display;
use std::io::Write;

/// Writes `tool: message` as one line on stderr; newlines inside become spaces.
pub fn error(tool: &str, message: &dyn Display) {
    let _ = std::io::stderr()
        .lock()
        .write_all(line(tool, message).as_bytes());
}

/// The line [`error`] writes, newline included.
pub fn line(tool: &str, message: &dyn Display) -> String {
    let text = message.to_string();
    let text = text.trim_end_matches('\n').replace('\n', " ");
    format!("{tool}: {text}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line() {
        assert_eq!(line("t", &"a\nb\n"), "t: a b\n");
        assert_eq!(line("t", &"cannot: why"), "t: cannot: why\n");
    }
}
