//! stdout for results: buffered, a failed write is an error ([`OutputError`]), and a
//! reader that went away (`tool | head`) is told apart so the tool can end quietly
//! (see [`crate::exit::Failure::is_closed_pipe`]).

use std::io::{self, BufWriter, StdoutLock, Write};

use crate::errno::io_text;

/// Writing the results failed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write the output: {}", io_text(.0))]
    Write(#[source] io::Error),
    /// A value that JSON cannot hold (a bug, never the user's input).
    #[error("cannot encode the output as JSON: {0}")]
    Json(#[source] serde_json::Error),
}

impl OutputError {
    /// The reader of stdout went away (EPIPE).
    pub fn is_closed_pipe(&self) -> bool {
        matches!(self, OutputError::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl From<io::Error> for OutputError {
    fn from(e: io::Error) -> Self {
        OutputError::Write(e)
    }
}

impl From<serde_json::Error> for OutputError {
    fn from(e: serde_json::Error) -> Self {
        if e.is_io() {
            OutputError::Write(e.into())
        } else {
            OutputError::Json(e)
        }
    }
}

/// Buffered, locked stdout. Call [`Output::flush`] at the end: what the buffer still
/// holds is written then, and a failure is reported.
pub struct Output {
    out: BufWriter<StdoutLock<'static>>,
}

impl Output {
    pub fn stdout() -> Output {
        Output {
            out: BufWriter::new(io::stdout().lock()),
        }
    }

    /// One line of text.
    pub fn line(&mut self, text: impl std::fmt::Display) -> Result<(), OutputError> {
        writeln!(self.out, "{text}")?;
        Ok(())
    }

    /// One JSON document, pretty-printed, and a newline.
    pub fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), OutputError> {
        crate::json::write(&mut self.out, value)
    }

    pub fn flush(&mut self) -> Result<(), OutputError> {
        self.out.flush()?;
        Ok(())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_pipe_is_told_apart() {
        let pipe = OutputError::from(io::Error::from_raw_os_error(libc::EPIPE));
        assert!(pipe.is_closed_pipe());
        let full = OutputError::from(io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(!full.is_closed_pipe());
        assert_eq!(
            full.to_string(),
            "cannot write the output: No space left on device"
        );
    }
}
