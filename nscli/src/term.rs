//! The terminal stdout is, if it is one: its width, and cutting text to fit.

use std::io::IsTerminal;

/// The size of the terminal on stdout; None when stdout is no terminal.
fn winsize() -> Option<libc::winsize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ fills the winsize it is given; fd 1 stays open.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0).then_some(ws)
}

/// The width of the terminal on stdout in columns; None when stdout is no terminal.
pub fn stdout_width() -> Option<usize> {
    winsize().map(|w| usize::from(w.ws_col)).filter(|&c| c > 0)
}

/// The height of the terminal on stdout in lines; None when stdout is no terminal.
pub fn stdout_height() -> Option<usize> {
    winsize().map(|w| usize::from(w.ws_row)).filter(|&r| r > 0)
}

/// The width to fit lines to: the terminal's, else `$COLUMNS`, else 80.
pub fn width() -> usize {
    stdout_width()
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .filter(|&w| w > 0)
        .unwrap_or(80)
}

/// `text` cut to at most `width` characters, its end replaced by `…` when cut.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_by_characters() {
        assert_eq!(cut("hello", 5), "hello");
        assert_eq!(cut("hello world", 5), "hell…");
        assert_eq!(cut("ééééé", 3), "éé…");
        assert_eq!(cut("x", 0), "");
        assert!(width() > 0);
    }
}
