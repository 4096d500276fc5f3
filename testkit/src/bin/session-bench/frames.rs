//! Reading a session's frames at bench rates: by byte search, not JSON parsing, so that the
//! clients' own work stays small beside the server's; and the paths and messages they need.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use claude_agent_testkit::{Client, PATIENCE};
use futures_util::StreamExt;
use memchr::memmem;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

/// What a frame carrying a `fake-agent` bench line holds, right after its `seq`.
const BENCH_LINE: &[u8] = br#""data":{"type":"stream_event""#;
const RESULT: &[u8] = br#""data":{"type":"result""#;
const ERROR_FRAME: &[u8] = br#"{"type":"error""#;

/// The text asking `fake-agent` for `lines` bench lines of 1 KB, flat out.
pub(crate) fn bench_marker(lines: u64, rate: u32) -> String {
    format!("[[bench:{lines}:1024:{rate}]]")
}

/// The WebSocket of session `id`, from the frame after `after`.
pub(crate) fn ws_after(id: &str, after: u64) -> String {
    format!("/v1/sessions/{id}/ws?after={after}")
}

/// A session description's `id`.
pub(crate) fn id(session: &Value) -> Result<String> {
    session["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {session}"))
}

/// A session description's `latest_seq`.
pub(crate) fn latest_seq(session: &Value) -> Result<u64> {
    session["latest_seq"]
        .as_u64()
        .with_context(|| format!("no latest_seq in {session}"))
}

/// When a client got the first and the last bench line of a turn, and how many.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub(crate) lines: u64,
    /// The bench lines' frames, in bytes of WebSocket payload.
    pub(crate) bytes: u64,
    pub(crate) first: Instant,
    pub(crate) last: Instant,
}

impl Span {
    /// Lines after the first over the time from the first to the last.
    pub(crate) fn rate(&self) -> f64 {
        (self.lines - 1) as f64 / self.duration().as_secs_f64()
    }

    pub(crate) fn duration(&self) -> Duration {
        self.last - self.first
    }
}

/// Reads `client`'s frames until a turn's result, which must come after exactly `lines` bench
/// lines; fails on an error frame.
pub(crate) async fn bench_turn(client: &mut Client, lines: u64) -> Result<Span> {
    let (mut seen, mut bytes) = (0, 0);
    let (mut first, mut last) = (None, Instant::now());
    loop {
        let message = tokio::time::timeout(PATIENCE, client.ws.next())
            .await
            .context("no frame in time")?
            .context("the connection ended mid-turn")??;
        let at = Instant::now();
        let Message::Text(text) = message else {
            continue;
        };
        let text = text.as_bytes();
        if memmem::find(text, BENCH_LINE).is_some() {
            seen += 1;
            bytes += text.len() as u64;
            first.get_or_insert(at);
            last = at;
        } else if memmem::find(text, RESULT).is_some() {
            ensure!(
                seen == lines,
                "the result came after {seen} of {lines} lines"
            );
            ensure!(lines >= 2, "too few lines to time");
            let first = first.context("no line")?;
            return Ok(Span {
                lines,
                bytes,
                first,
                last,
            });
        } else if text.starts_with(ERROR_FRAME) {
            bail!("error frame: {}", String::from_utf8_lossy(text));
        }
    }
}
