//! The agent's stderr: drained line by line to the log and the session, and its last lines
//! kept for the report of its death.

use std::{collections::VecDeque, sync::Mutex};

use tokio::{io::AsyncReadExt, process::ChildStderr};

use super::{
    events::{AgentEvent, AgentSink, Notice},
    lines::{Lines, MAX_STDERR_LINE, Piece},
};

/// Reads stderr to its end: each line is logged, kept in `tail`, and passed to `sink` (the
/// original relayed stderr to clients too); a line over [`MAX_STDERR_LINE`] is dropped with a
/// notice.
pub(crate) async fn drain(mut stderr: ChildStderr, tail: &StderrTail, sink: &dyn AgentSink) {
    let mut lines = Lines::new(MAX_STDERR_LINE);
    let mut buffer = vec![0; 8 << 10];
    loop {
        let read = stderr.read(&mut buffer).await.unwrap_or(0);
        // At the end, a last line without its newline is a line all the same.
        let chunk: &[u8] = if read == 0 { b"\n" } else { &buffer[..read] };
        split(&mut lines, chunk, tail, sink);
        if read == 0 {
            return;
        }
        sink.ready().await;
    }
}

/// Passes on the lines that `chunk` ends.
fn split(lines: &mut Lines, mut chunk: &[u8], tail: &StderrTail, sink: &dyn AgentSink) {
    while !chunk.is_empty() {
        let (used, piece) = lines.feed(chunk);
        chunk = &chunk[used..];
        match piece {
            Piece::Line(line) => pass_on(line, tail, sink),
            Piece::Spanned => pass_on(lines.spanned(), tail, sink),
            Piece::TooLong(len) => {
                let notice = Notice::TooLong {
                    len,
                    max: MAX_STDERR_LINE,
                };
                sink.accept(&mut vec![AgentEvent::Notice(notice)]);
            }
            Piece::Pending => {}
        }
    }
}

fn pass_on(line: &[u8], tail: &StderrTail, sink: &dyn AgentSink) {
    if line.is_empty() {
        return;
    }
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end();
    tracing::info!(target: "agent_stderr", "{line}");
    tail.push(line);
    sink.accept(&mut vec![AgentEvent::Stderr(line)]);
}

/// How much stderr the report keeps, as the TS SDK does.
const TAIL_BYTES: usize = 2048;

#[derive(Debug, Default)]
pub(crate) struct StderrTail(Mutex<VecDeque<String>>);

impl StderrTail {
    pub(crate) fn push(&self, line: &str) {
        let mut lines = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let line: String = line.chars().take(TAIL_BYTES).collect();
        lines.push_back(line);
        // Each line costs its text and the newline that joins it to the next.
        while lines.iter().map(|line| line.len() + 1).sum::<usize>() > TAIL_BYTES + 1
            && lines.len() > 1
        {
            lines.pop_front();
        }
    }

    pub(crate) fn text(&self) -> String {
        let lines = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        lines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_within_the_bound() {
        let tail = StderrTail::default();
        for i in 0..1000 {
            tail.push(&format!("line {i}"));
        }
        let text = tail.text();
        assert!(
            text.len() <= TAIL_BYTES && text.ends_with("line 999"),
            "{text}"
        );
        assert!(!text.contains("line 0\n"));
    }
}
