use std::time::Duration;

use serde_json::{Value, json};

use crate::{RecordedRequest, Script, content::text_blocks, demo, markers::Marker};

/// What the mock answers to one request.
#[derive(Debug, PartialEq)]
pub(crate) enum Reply {
    Message(Scripted),
    Error(u16),
}

/// An assistant message with one content block, streamed with `pace` between deltas.
#[derive(Debug, PartialEq)]
pub(crate) struct Scripted {
    pub(crate) block: Block,
    pub(crate) pace: Duration,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Block {
    /// The text, as the deltas it is streamed in.
    Text(Vec<String>),
    ToolUse {
        name: &'static str,
        input: Value,
    },
}

const SIDE_REPLY: &str = "Mock title";
const REMINDER_PREFIX: &str = "<system-reminder>";

/// Scripts the reply from the last user message of `request`: its marker, else `script`'s.
pub(crate) fn reply(request: &RecordedRequest, script: Script) -> Reply {
    // Side requests must never see the errors, tools or pauses meant for the main loop.
    if !request.is_main_loop() {
        return text(SIDE_REPLY);
    }
    let content = request.last_user_content().unwrap_or(&Value::Null);
    let results = tool_results(content);
    if !results.is_empty() {
        return match script {
            Script::Echo => text(&format!("Tool result: {}", results.join("\n"))),
            Script::Demo => demo::after_tool(),
        };
    }
    let said = user_text(content);
    match Marker::find(said) {
        Some(Marker::ToolBash { command }) => bash(&command, "Run a command"),
        Some(Marker::Slow { deltas, pace }) => {
            let deltas = (0..deltas).map(|i| format!("w{i} ")).collect();
            Reply::Message(Scripted {
                block: Block::Text(deltas),
                pace,
            })
        }
        Some(Marker::Say { text: said }) => text(&said),
        Some(Marker::Error { status }) => Reply::Error(status),
        _ => match script {
            Script::Echo => text(&format!("You said: {said}")),
            Script::Demo => demo::reply(said),
        },
    }
}

/// A bash `tool_use` running `command`, described as `description`.
pub(crate) fn bash(command: &str, description: &str) -> Reply {
    Reply::Message(Scripted {
        block: Block::ToolUse {
            name: "Bash",
            input: json!({"command": command, "description": description}),
        },
        pace: Duration::ZERO,
    })
}

/// A text reply in one delta.
fn text(text: &str) -> Reply {
    Reply::Message(Scripted {
        block: Block::Text(vec![text.to_owned()]),
        pace: Duration::ZERO,
    })
}

/// The user's latest words: the last text block that is not a CLI-injected system reminder.
/// (The CLI merges an interrupted prompt and the next one into one message; only the last
/// counts.)
fn user_text(content: &Value) -> &str {
    let texts = text_blocks(content);
    let own = texts
        .iter()
        .rev()
        .find(|text| !text.trim_start().starts_with(REMINDER_PREFIX));
    own.or(texts.last()).copied().unwrap_or_default()
}

/// The text of each `tool_result` block (its content is a string or text blocks).
fn tool_results(content: &Value) -> Vec<String> {
    let Some(blocks) = content.as_array() else {
        return Vec::new();
    };
    blocks
        .iter()
        .filter(|block| block["type"] == "tool_result")
        .map(|block| text_blocks(&block["content"]).join("\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::*;

    fn main_loop(messages: &Value) -> RecordedRequest {
        let body = json!({"model": "m", "tools": [{"name": "Bash"}], "messages": messages});
        RecordedRequest::new(&HeaderMap::new(), body)
    }

    #[test]
    fn echo_skips_reminders_and_trailing_system_messages() {
        let request = main_loop(&json!([
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                {"type": "text", "text": "hello"},
            ]},
            {"role": "system", "content": "[[error:500]]"},
        ]));
        assert_eq!(reply(&request, Script::Echo), text("You said: hello"));
    }

    #[test]
    fn only_the_latest_words_count() {
        let request = main_loop(&json!([{"role": "user", "content": [
            {"type": "text", "text": "[[slow]]"},
            {"type": "text", "text": "[Request interrupted by user]"},
            {"type": "text", "text": "then [[error:429]]"},
            {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
        ]}]));
        assert_eq!(reply(&request, Script::Echo), Reply::Error(429));
        assert_eq!(reply(&request, Script::Demo), Reply::Error(429));
    }

    #[test]
    fn side_requests_ignore_markers() {
        let body = json!({"messages": [{"role": "user", "content": "[[error:500]]"}]});
        let request = RecordedRequest::new(&HeaderMap::new(), body);
        assert_eq!(reply(&request, Script::Echo), text(SIDE_REPLY));
    }
}
