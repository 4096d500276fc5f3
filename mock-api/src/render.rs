use std::{iter, time::Duration};

use bytes::Bytes;
use serde_json::{Value, json};

use super::script::{Block, Scripted};

/// Input tokens claimed for every request; the CLI only needs a plausible number.
const INPUT_TOKENS: usize = 5;

/// One server-sent event, to be written after waiting `delay`.
#[derive(Debug)]
pub(crate) struct SseEvent {
    pub(crate) delay: Duration,
    pub(crate) bytes: Bytes,
}

/// A scripted reply with the ids and model of one request.
#[derive(Debug)]
pub(crate) struct Message {
    serial: u64,
    model: String,
    scripted: Scripted,
}

impl Message {
    pub(crate) fn new(serial: u64, model: &str, scripted: Scripted) -> Self {
        Self {
            serial,
            model: model.to_owned(),
            scripted,
        }
    }

    /// The whole message, as a non-streaming reply.
    pub(crate) fn to_json(&self) -> Value {
        let content: Vec<Value> = (0..self.count()).map(|i| self.block(i, true)).collect();
        let tokens = (0..self.count()).map(|i| self.deltas(i).len()).sum();
        self.envelope(&json!(content), &json!(self.stop_reason()), tokens)
    }

    /// The Messages API event sequence for a streaming reply: each block in turn.
    pub(crate) fn events(&self) -> Vec<SseEvent> {
        let start = self.envelope(&json!([]), &Value::Null, 1);
        let mut events = vec![event(&json!({"type": "message_start", "message": start}))];
        let mut tokens = 0;
        for index in 0..self.count() {
            let block = self.block(index, false);
            let deltas = self.deltas(index);
            tokens += deltas.len();
            events.push(event(
                &json!({"type": "content_block_start", "index": index, "content_block": block}),
            ));
            let delays = iter::once(Duration::ZERO).chain(iter::repeat(self.scripted.pace));
            for (delta, delay) in deltas.iter().zip(delays) {
                let data = json!({"type": "content_block_delta", "index": index, "delta": delta});
                events.push(SseEvent {
                    delay,
                    ..event(&data)
                });
            }
            events.push(event(
                &json!({"type": "content_block_stop", "index": index}),
            ));
        }
        let stop = json!({"stop_reason": self.stop_reason(), "stop_sequence": null});
        let usage = json!({"output_tokens": tokens});
        events.extend([
            event(&json!({"type": "message_delta", "delta": stop, "usage": usage})),
            event(&json!({"type": "message_stop"})),
        ]);
        events
    }

    /// The `request-id` response header, as the real API sends.
    pub(crate) fn request_id(&self) -> String {
        format!("req_mock_{:04}", self.serial)
    }

    fn envelope(&self, content: &Value, stop_reason: &Value, output_tokens: usize) -> Value {
        json!({
            "id": format!("msg_mock_{:04}", self.serial),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": output_tokens},
        })
    }

    /// How many content blocks the message has.
    fn count(&self) -> usize {
        1 + self.scripted.more.len()
    }

    fn nth(&self, index: usize) -> &Block {
        match index {
            0 => &self.scripted.block,
            n => &self.scripted.more[n - 1],
        }
    }

    /// Content block `index`, complete or as `content_block_start` announces it (empty).
    fn block(&self, index: usize, complete: bool) -> Value {
        match self.nth(index) {
            Block::Text(deltas) => {
                json!({"type": "text", "text": if complete { deltas.concat() } else { String::new() }})
            }
            Block::ToolUse { name, input } => json!({
                "type": "tool_use",
                "id": match index {
                    0 => format!("toolu_mock_{:04}", self.serial),
                    n => format!("toolu_mock_{:04}_{n}", self.serial),
                },
                "name": name,
                "input": if complete { input.clone() } else { json!({}) },
            }),
        }
    }

    fn deltas(&self, index: usize) -> Vec<Value> {
        match self.nth(index) {
            Block::Text(deltas) => deltas
                .iter()
                .map(|text| json!({"type": "text_delta", "text": text}))
                .collect(),
            Block::ToolUse { input, .. } => split_in_pieces(&input.to_string(), 3)
                .into_iter()
                .map(|piece| json!({"type": "input_json_delta", "partial_json": piece}))
                .collect(),
        }
    }

    /// `tool_use` if the message calls a tool, as the API says.
    fn stop_reason(&self) -> &'static str {
        let calls = (0..self.count()).any(|i| matches!(self.nth(i), Block::ToolUse { .. }));
        if calls { "tool_use" } else { "end_turn" }
    }
}

/// An SSE event named after its data's `type`, as the API names them.
fn event(data: &Value) -> SseEvent {
    let name = data["type"].as_str().unwrap_or_default();
    let bytes = Bytes::from(format!("event: {name}\ndata: {data}\n\n"));
    SseEvent {
        delay: Duration::ZERO,
        bytes,
    }
}

/// Splits `text` into about `count` pieces on char boundaries, as the API chunks tool input.
fn split_in_pieces(text: &str, count: usize) -> Vec<&str> {
    let size = text.len().div_ceil(count).max(1);
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_concatenate_to_the_input() {
        let text = r#"{"command":"echo é€","description":"x"}"#;
        let pieces = split_in_pieces(text, 3);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), text);
        assert!(split_in_pieces("", 3).is_empty());
    }
}
