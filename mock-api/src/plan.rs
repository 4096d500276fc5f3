//! Plan mode as the pinned CLI runs it. Its `ExitPlanMode` drops a `plan` in the model's input
//! and reads the plan from the session's plan file, whose path the plan-mode reminder gives
//! (`No plan file exists yet. You should create your plan at PATH using the Write tool.`). So
//! `[[plan:TEXT]]` does what a model does there: it writes TEXT to that file, then, once the
//! write's result comes back, calls `ExitPlanMode` with no input.

use serde_json::Value;

use crate::{RecordedRequest, content::text_blocks};

/// The reminder's phrasings around the plan file's path: before, after.
const PLAN_FILE_PHRASES: [(&str, &str); 2] = [
    ("You should create your plan at ", " using the "),
    ("A plan file already exists at ", ". You can read it"),
];

/// The CLI's tool that writes a file.
pub(crate) const WRITE: &str = "Write";

/// The plan file the CLI's plan-mode reminder names in `request`, if any.
pub(crate) fn plan_file(request: &RecordedRequest) -> Option<String> {
    let system = request.system_text();
    let messages = request.body["messages"].as_array().into_iter().flatten();
    let texts = messages.flat_map(|message| text_blocks(&message["content"]));
    std::iter::once(system.as_str())
        .chain(texts)
        .find_map(named_plan_file)
}

/// The path one of [`PLAN_FILE_PHRASES`] names in `text`.
fn named_plan_file(text: &str) -> Option<String> {
    PLAN_FILE_PHRASES.iter().find_map(|(before, after)| {
        let (_, rest) = text.split_once(before)?;
        let (path, _) = rest.split_once(after)?;
        Some(path.to_owned())
    })
}

/// Writes `plan` to `path` with the CLI's Write tool: its input.
pub(crate) fn write_input(path: &str, plan: &str) -> Value {
    serde_json::json!({"file_path": path, "content": plan})
}

/// Whether the tool call that `request` answers wrote the plan file, and did so without error.
pub(crate) fn wrote_plan_file(request: &RecordedRequest) -> bool {
    let Some(path) = plan_file(request) else {
        return false;
    };
    let Some(messages) = request.body["messages"].as_array() else {
        return false;
    };
    let Some(asked) = messages.iter().rev().find(|m| m["role"] == "assistant") else {
        return false;
    };
    let results = request.last_user_content().and_then(Value::as_array);
    let failed = |id: &Value| {
        results.into_iter().flatten().any(|block| {
            block["type"] == "tool_result"
                && block["tool_use_id"] == *id
                && block["is_error"] == true
        })
    };
    asked["content"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|block| {
            block["type"] == "tool_use"
                && block["name"] == WRITE
                && block["input"]["file_path"] == path.as_str()
                && !failed(&block["id"])
        })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;
    use serde_json::json;

    use super::*;

    const REMINDER: &str = "Plan mode is active.\n\n## Plan File Info:\nNo plan file exists \
        yet. You should create your plan at /h/.claude/plans/a-b.md using the Write tool.\n";

    fn request(messages: &Value) -> RecordedRequest {
        let body = json!({"model": "m", "tools": [{"name": "Bash"}], "messages": messages});
        RecordedRequest::new(&HeaderMap::new(), body)
    }

    #[test]
    fn the_reminder_names_the_plan_file() {
        let asked = request(&json!([
            {"role": "user", "content": "[[plan:x]]"},
            {"role": "system", "content": [{"type": "text", "text": REMINDER}]},
        ]));
        assert_eq!(
            plan_file(&asked).as_deref(),
            Some("/h/.claude/plans/a-b.md")
        );
        let again = "A plan file already exists at /h/p.md. You can read it and make edits.";
        let asked = request(&json!([{"role": "user", "content": again}]));
        assert_eq!(plan_file(&asked).as_deref(), Some("/h/p.md"));
        assert_eq!(
            plan_file(&request(&json!([{"role": "user", "content": "hi"}]))),
            None
        );
    }

    #[test]
    fn only_a_successful_write_of_the_plan_file_counts() {
        let answered = |path: &str, is_error: bool| {
            request(&json!([
                {"role": "user", "content": [{"type": "text", "text": REMINDER}]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1",
                    "name": "Write", "input": write_input(path, "plan")}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                    "content": "ok", "is_error": is_error}]},
            ]))
        };
        assert!(wrote_plan_file(&answered("/h/.claude/plans/a-b.md", false)));
        assert!(!wrote_plan_file(&answered("/h/.claude/plans/a-b.md", true)));
        assert!(!wrote_plan_file(&answered("/h/other.md", false)));
    }
}
