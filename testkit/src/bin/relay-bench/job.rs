//! One bench turn: what the client asks for, and the exact messages it expects back.

use std::{io::Write, time::Duration};

/// How the server opens every relayed agent line; the line follows, then `}`.
const FRAME_HEAD: &str = r#"{"type":"sdk_message","data":"#;

/// `[[bench:N:S:R]]`: N agent lines of S bytes (newline included) at R lines/s, 0 = flat out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    pub(crate) messages: u64,
    pub(crate) size: usize,
    pub(crate) rate: u32,
}

impl Job {
    /// The user message for the agent's stdin (without newline); `data` of the client frame.
    pub(crate) fn user_message(&self) -> String {
        let marker = format!("[[bench:{}:{}:{}]]", self.messages, self.size, self.rate);
        serde_json::json!({
            "type": "user", "session_id": "", "parent_tool_use_id": null,
            "message": {"role": "user", "content": marker},
        })
        .to_string()
    }

    /// The `user_message` frame a WebSocket client sends.
    pub(crate) fn client_frame(&self) -> String {
        format!(
            r#"{{"type":"user_message","data":{}}}"#,
            self.user_message()
        )
    }

    /// Bytes of one `sdk_message` frame carrying a bench line (its newline is not relayed).
    pub(crate) fn frame_len(&self) -> usize {
        FRAME_HEAD.len() + (self.size - 1) + 1
    }

    /// How long the whole turn may take before it counts as stalled: the pace itself, or
    /// 1000 msgs/s when flat out, plus a minute.
    pub(crate) fn time_limit(&self) -> Duration {
        let slowest = if self.rate == 0 { 1000 } else { self.rate };
        Duration::from_secs(60) + Duration::from_secs_f64(self.messages as f64 / f64::from(slowest))
    }
}

/// A `stream_event` line without its newline, shaped and sized as `fake-agent` writes it.
pub(crate) fn stream_event(seq: u64, t_ns: u64, size: usize) -> String {
    let mut line = Vec::with_capacity(size);
    write!(
        line,
        r#"{{"type":"stream_event","seq":{seq},"t_ns":{t_ns},"pad":""#
    )
    .expect("writing to a Vec cannot fail");
    // `"}` and the newline that `fake-agent` counts in `size`.
    let pad = size.saturating_sub(line.len() + 3);
    line.resize(line.len() + pad, b'x');
    line.extend_from_slice(br#""}"#);
    String::from_utf8(line).expect("ASCII only")
}

/// The `sdk_message` frame the server builds around an agent `line`.
pub(crate) fn frame(line: &str) -> String {
    format!("{FRAME_HEAD}{line}}}")
}
