use std::io::{self, BufWriter, StdoutLock, Write};

use serde_json::Value;

/// Big enough that bench mode at full speed makes few write syscalls.
const BUFFER_BYTES: usize = 1 << 20;

/// Buffered stdout; every method but [`Out::buffered`] flushes, so a frame is visible at once.
#[derive(Debug)]
pub(crate) struct Out {
    writer: BufWriter<StdoutLock<'static>>,
}

impl Out {
    pub(crate) fn new() -> Self {
        Self {
            writer: BufWriter::with_capacity(BUFFER_BYTES, io::stdout().lock()),
        }
    }

    /// One NDJSON frame.
    pub(crate) fn frame(&mut self, frame: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.writer, frame)?;
        self.line("")
    }

    /// `text` and a newline, verbatim.
    pub(crate) fn line(&mut self, text: &str) -> io::Result<()> {
        self.writer.write_all(text.as_bytes())?;
        self.writer.write_all(b"\n")?;
        self.writer.flush()
    }

    /// `text` with no newline: a frame cut off mid-line.
    pub(crate) fn partial(&mut self, text: &str) -> io::Result<()> {
        self.writer.write_all(text.as_bytes())?;
        self.writer.flush()
    }

    /// The writer itself, for callers that decide when to flush.
    pub(crate) fn buffered(&mut self) -> &mut impl Write {
        &mut self.writer
    }
}
