use std::time::Duration;

use serde_json::{Value, json};

use crate::{RecordedRequest, Script, content::text_blocks, demo, markers::Marker, plan};

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
    /// More blocks of the same message, after `block`: tool calls made in parallel.
    pub(crate) more: Vec<Block>,
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
const ASK_USER_QUESTION: &str = "AskUserQuestion";
const EXIT_PLAN_MODE: &str = "ExitPlanMode";
/// The chip over a question (the CLI's schema suggests 12 characters at most).
const QUESTION_HEADER: &str = "Choice";
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
        if plan::wrote_plan_file(request) {
            return tool_use(EXIT_PLAN_MODE, json!({}));
        }
        return match script {
            Script::Echo => text(&format!("Tool result: {}", results.join("\n"))),
            Script::Demo => demo::after_tool(),
        };
    }
    let said = user_text(content);
    match Marker::find(said) {
        Some(Marker::ToolBash { command }) => bash(&command, "Run a command"),
        Some(Marker::ToolsBash { commands }) => parallel_bash(&commands),
        Some(Marker::Question { question, options }) => ask(&question, &options),
        Some(Marker::Plan { text }) => match plan::plan_file(request) {
            Some(path) => tool_use(plan::WRITE, plan::write_input(&path, &text)),
            None => tool_use(EXIT_PLAN_MODE, json!({"plan": text})),
        },
        Some(Marker::Slow { deltas, pace }) => {
            let deltas = (0..deltas).map(|i| format!("w{i} ")).collect();
            Reply::Message(Scripted {
                block: Block::Text(deltas),
                pace,
                more: Vec::new(),
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

/// One message calling Bash once for each of `commands`, in parallel.
fn parallel_bash(commands: &[String]) -> Reply {
    let call = |command: &String| Block::ToolUse {
        name: "Bash",
        input: json!({"command": command, "description": "Run a command"}),
    };
    Reply::Message(Scripted {
        block: call(&commands[0]),
        pace: Duration::ZERO,
        more: commands[1..].iter().map(call).collect(),
    })
}

/// A bash `tool_use` running `command`, described as `description`.
pub(crate) fn bash(command: &str, description: &str) -> Reply {
    tool_use(
        "Bash",
        json!({"command": command, "description": description}),
    )
}

/// An `AskUserQuestion` `tool_use` asking one single-choice `question` with these `options`,
/// in the shape the CLI validates (`AskUserQuestionInput` in its `sdk-tools.d.ts`).
fn ask(question: &str, options: &[String]) -> Reply {
    let options: Vec<Value> = options
        .iter()
        .map(|label| json!({"label": label, "description": format!("Choose {label}")}))
        .collect();
    let question = json!({"question": question, "header": QUESTION_HEADER,
        "options": options, "multiSelect": false});
    tool_use(ASK_USER_QUESTION, json!({"questions": [question]}))
}

/// A `tool_use` of the tool `name` with `input`.
fn tool_use(name: &'static str, input: Value) -> Reply {
    Reply::Message(Scripted {
        block: Block::ToolUse { name, input },
        pace: Duration::ZERO,
        more: Vec::new(),
    })
}

/// A text reply in one delta.
fn text(text: &str) -> Reply {
    Reply::Message(Scripted {
        block: Block::Text(vec![text.to_owned()]),
        pace: Duration::ZERO,
        more: Vec::new(),
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
    fn questions_and_plans_call_their_tools() {
        let said = |text: &str| main_loop(&json!([{"role": "user", "content": text}]));
        let asked = reply(&said("[[question:Tabs?|Yes|No]]"), Script::Echo);
        let question = json!({"question": "Tabs?", "header": "Choice", "multiSelect": false,
            "options": [{"label": "Yes", "description": "Choose Yes"},
                        {"label": "No", "description": "Choose No"}]});
        assert_eq!(
            asked,
            tool_use("AskUserQuestion", json!({"questions": [question]}))
        );
        let planned = reply(&said("[[plan:# Plan\n1. Do it]]"), Script::Demo);
        assert_eq!(
            planned,
            tool_use("ExitPlanMode", json!({"plan": "# Plan\n1. Do it"}))
        );
    }

    #[test]
    fn in_plan_mode_a_plan_is_written_to_its_file_then_presented() {
        let reminder = "No plan file exists yet. You should create your plan at /h/p.md \
            using the Write tool.";
        let asked = main_loop(&json!([
            {"role": "user", "content": "[[plan:1. Do it]]"},
            {"role": "system", "content": reminder},
        ]));
        let write = json!({"file_path": "/h/p.md", "content": "1. Do it"});
        assert_eq!(
            reply(&asked, Script::Echo),
            tool_use("Write", write.clone())
        );
        let written = main_loop(&json!([
            {"role": "user", "content": "[[plan:1. Do it]]"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Write",
                "input": write}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                "content": "File created successfully at: /h/p.md"}]},
            {"role": "system", "content": reminder},
        ]));
        assert_eq!(
            reply(&written, Script::Echo),
            tool_use("ExitPlanMode", json!({}))
        );
    }

    #[test]
    fn side_requests_ignore_markers() {
        let body = json!({"messages": [{"role": "user", "content": "[[error:500]]"}]});
        let request = RecordedRequest::new(&HeaderMap::new(), body);
        assert_eq!(reply(&request, Script::Echo), text(SIDE_REPLY));
    }
}
