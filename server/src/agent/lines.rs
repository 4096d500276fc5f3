//! Splits the agent's output into lines: in place where a line lies whole in one read (the
//! common case), through a buffer where it spans reads; a line over the limit is skipped, not
//! buffered, so memory stays bounded whatever the agent prints.

use super::events::Notice;

/// Longest stdout line relayed (a message: an image or a big tool result fits); a longer one is
/// dropped with a notice rather than exhausting memory.
pub(crate) const MAX_LINE: usize = 32 << 20;
/// Longest stderr line relayed.
pub(crate) const MAX_STDERR_LINE: usize = 64 << 10;

#[derive(Debug)]
pub(crate) struct Lines {
    /// The longest line taken.
    max: usize,
    partial: Vec<u8>,
    /// Bytes of an overlong line skipped so far.
    skipped: usize,
    /// `partial` holds a finished line, to be cleared by the next feed.
    finished: bool,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Piece<'a> {
    /// A complete line within the chunk fed, without its `\n`.
    Line(&'a [u8]),
    /// A complete line begun in an earlier chunk: [`Lines::spanned`] has it until the next feed.
    Spanned,
    /// A line of this many bytes was skipped.
    TooLong(usize),
    /// The line goes on in the next read.
    Pending,
}

impl Lines {
    /// Lines of up to `max` bytes.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            partial: Vec::new(),
            skipped: 0,
            finished: false,
        }
    }

    /// Takes from `chunk` up to the end of one line; returns how many bytes it used.
    pub(crate) fn feed<'a>(&mut self, chunk: &'a [u8]) -> (usize, Piece<'a>) {
        if std::mem::take(&mut self.finished) {
            self.partial.clear();
        }
        let Some(at) = memchr::memchr(b'\n', chunk) else {
            if self.skipped > 0 || self.partial.len() + chunk.len() > self.max {
                self.skipped += std::mem::take(&mut self.partial).len() + chunk.len();
            } else {
                self.partial.extend_from_slice(chunk);
            }
            return (chunk.len(), Piece::Pending);
        };
        let piece = if self.skipped > 0 || self.partial.len() + at > self.max {
            let len = std::mem::take(&mut self.skipped) + self.partial.len() + at + 1;
            self.partial.clear();
            Piece::TooLong(len)
        } else if self.partial.is_empty() {
            Piece::Line(&chunk[..at])
        } else {
            self.partial.extend_from_slice(&chunk[..at]);
            self.finished = true;
            Piece::Spanned
        };
        (at + 1, piece)
    }

    /// The line of the last [`Piece::Spanned`].
    pub(crate) fn spanned(&self) -> &[u8] {
        &self.partial
    }

    /// At the end of output: a notice for what came after the last newline, if anything.
    pub(crate) fn finish(&mut self) -> Option<Notice> {
        if self.finished {
            return None;
        }
        if self.skipped > 0 {
            let len = self.skipped + self.partial.len();
            return Some(Notice::TooLong { len, max: self.max });
        }
        (!self.partial.is_empty()).then(|| Notice::EndedMidLine {
            len: self.partial.len(),
            preview: preview(&self.partial),
        })
    }
}

/// The start of a line, for notices.
pub(crate) fn preview(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(200)]);
    if line.len() > 200 {
        format!("{text}…")
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every piece `Lines` makes of `input` read in chunks of `size`, then its end notice.
    fn pieces(input: &[u8], size: usize) -> Vec<String> {
        let mut lines = Lines::new(MAX_LINE);
        let mut out = Vec::new();
        for mut chunk in input.chunks(size) {
            while !chunk.is_empty() {
                let (used, piece) = lines.feed(chunk);
                match piece {
                    Piece::Line(line) => out.push(String::from_utf8(line.to_vec()).unwrap()),
                    Piece::Spanned => {
                        out.push(String::from_utf8(lines.spanned().to_vec()).unwrap());
                    }
                    Piece::TooLong(len) => out.push(format!("too long: {len}")),
                    Piece::Pending => {}
                }
                chunk = &chunk[used..];
            }
        }
        out.extend(lines.finish().map(|notice| notice.to_string()));
        out
    }

    #[test]
    fn lines_are_split_in_place_and_across_reads() {
        let input = b"{\"a\":1}\n{\"b\":2}\n{\"c\"";
        for size in [1, 3, 64] {
            let got = pieces(input, size);
            assert_eq!(got[..2], ["{\"a\":1}", "{\"b\":2}"], "{size}");
            assert!(
                got[2].starts_with(
                    "The agent's output ended in the middle of a line; dropped 4 bytes"
                )
            );
        }
        assert_eq!(pieces(b"{}\n", 2), ["{}"], "a finished line is no leftover");
    }

    #[test]
    fn an_overlong_line_is_skipped_whole() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(
            pieces(&input, 1 << 16),
            [format!("too long: {}", MAX_LINE + 11), "ok".to_owned()]
        );
    }
}
