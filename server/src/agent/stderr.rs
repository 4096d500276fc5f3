//! The agent's stderr: drained line by line to the log and the session, and its last lines
//! kept for the report of its death.

use std::{collections::VecDeque, sync::Mutex};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::ChildStderr,
};

use super::events::{AgentEvent, AgentSink};

/// Reads stderr to its end: each line is logged, kept in `tail`, and passed to `sink` (the
/// original relayed stderr to clients too).
pub(crate) async fn drain(stderr: ChildStderr, tail: &StderrTail, sink: &dyn AgentSink) {
    let mut lines = BufReader::new(stderr);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match lines.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end();
        tracing::info!(target: "agent_stderr", "{line}");
        tail.push(line);
        sink.accept(&mut vec![AgentEvent::Stderr(line)]);
        sink.ready().await;
    }
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
