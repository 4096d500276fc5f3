//! What a webhook is sent: a session needs a person (a permission prompt), or a turn ended.

use std::time::SystemTime;

use claude_agent_protocol::{Seq, permissions::PermissionRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Characters of a tool's input a notification carries.
const INPUT_CHARS: usize = 200;
/// Characters of a turn's result text a notification carries.
const RESULT_CHARS: usize = 300;
/// Characters of the result text in the one-line summary.
const SUMMARY_CHARS: usize = 120;
/// The input fields that tell a call of the CLI's own tools apart, most telling first.
const TELLING_INPUT: [&str; 7] = [
    "command",
    "file_path",
    "notebook_path",
    "url",
    "pattern",
    "query",
    "plan",
];

/// The JSON body of a notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Notification {
    /// Unique, and the same on every try: a receiver drops repeats by it.
    pub(super) id: String,
    pub(super) session_id: String,
    pub(super) reason: Reason,
    /// One line for a person.
    pub(super) summary: String,
    /// The frame of the session's log it is about (`?after=<seq - 1>` replays from it).
    pub(super) seq: Seq,
    /// When it happened, RFC 3339.
    pub(super) occurred_at: String,
    #[serde(flatten)]
    pub(super) detail: Detail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reason {
    NeedsInput,
    TurnEnded,
}

/// The fields of one reason, flattened into the body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum Detail {
    NeedsInput(NeedsInput),
    TurnEnded(TurnEnded),
}

/// A permission prompt waits for an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct NeedsInput {
    /// What an answer names (`POST /v1/sessions/{id}/permissions/{request_id}`).
    pub(super) request_id: String,
    pub(super) tool_name: String,
    /// A short form of the tool's input: its command, file, URL or pattern, else its JSON.
    pub(super) input: String,
}

/// A turn ended: the CLI's `result`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TurnEnded {
    /// `success`, `error_max_turns`, `error_during_execution`, …
    pub(super) subtype: String,
    pub(super) is_error: bool,
    /// The result text, cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) duration_ms: Option<u64>,
    /// This turn's cost.
    pub(super) cost_usd: f64,
    /// The session's, so far (as `GET /v1/sessions/{id}` shows it).
    pub(super) total_cost_usd: f64,
}

/// What is read of a `result` line.
#[derive(Debug, Default, Deserialize)]
struct ResultLine {
    #[serde(default)]
    subtype: String,
    #[serde(default)]
    is_error: bool,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    duration_ms: Option<u64>,
}

impl Notification {
    /// A notification of `session_id`'s about the frame `seq` (set later with [`Self::at`]).
    pub(super) fn new(session_id: String, detail: Detail) -> Self {
        let (reason, summary) = match &detail {
            Detail::NeedsInput(asked) => (
                Reason::NeedsInput,
                format!("{} needs permission: {}", asked.tool_name, asked.input),
            ),
            Detail::TurnEnded(turn) => (Reason::TurnEnded, turn.summary()),
        };
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            session_id,
            reason,
            summary: one_line(&summary),
            seq: 0,
            occurred_at: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            detail,
        }
    }
}

impl NeedsInput {
    pub(super) fn of(prompt: &PermissionRequest) -> Self {
        Self {
            request_id: prompt.request_id.clone(),
            tool_name: prompt.tool_name.clone(),
            input: cut(&short_input(&prompt.input), INPUT_CHARS),
        }
    }
}

impl TurnEnded {
    /// The turn that the `result` line `raw` ended, which cost `cost_usd` of the session's
    /// `total_cost_usd`.
    pub(super) fn read(raw: &str, cost_usd: f64, total_cost_usd: f64) -> Self {
        let line: ResultLine = serde_json::from_str(raw).unwrap_or_default();
        Self {
            subtype: line.subtype,
            is_error: line.is_error,
            result: line.result.map(|text| cut(&text, RESULT_CHARS)),
            duration_ms: line.duration_ms,
            cost_usd,
            total_cost_usd,
        }
    }

    fn summary(&self) -> String {
        let outcome = match (self.is_error, self.subtype.as_str()) {
            (false, _) => "Turn ended".to_owned(),
            // An API error ends the turn as a `success` that is an error.
            (true, "success" | "") => "Turn failed".to_owned(),
            (true, subtype) => format!("Turn failed ({subtype})"),
        };
        match self.result.as_deref() {
            Some(text) => format!("{outcome}: {}", cut(text, SUMMARY_CHARS)),
            None => outcome,
        }
    }
}

/// The input field a person knows the call by, else the whole input as JSON.
fn short_input(input: &Map<String, Value>) -> String {
    TELLING_INPUT
        .iter()
        .find_map(|field| input.get(*field)?.as_str())
        .map_or_else(|| Value::Object(input.clone()).to_string(), str::to_owned)
}

/// `text` cut to `chars` characters, with `…` if it was longer.
fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `text` with its line breaks as spaces: a summary is one line.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r']).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        assert_eq!(cut("héllo", 2), "hé…");
        assert_eq!(cut("héllo", 5), "héllo");
        assert_eq!(cut("", 3), "");
    }

    #[test]
    fn a_prompt_says_the_tool_and_what_it_would_do() {
        let prompt: PermissionRequest = serde_json::from_value(json!({
            "request_id": "r1", "tool_name": "Bash", "tool_use_id": "t1",
            "input": {"command": "rm -rf build\necho done", "description": "Clean"}}))
        .unwrap();
        let body = Notification::new("s1".into(), Detail::NeedsInput(NeedsInput::of(&prompt)));
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["reason"], "needs_input");
        assert_eq!(json["request_id"], "r1");
        assert_eq!(json["tool_name"], "Bash");
        assert_eq!(json["input"], "rm -rf build\necho done");
        assert_eq!(
            json["summary"],
            "Bash needs permission: rm -rf build echo done"
        );
        let other = json!({"request_id": "r2", "tool_name": "Mcp", "tool_use_id": "t2",
            "input": {"a": 1}});
        let asked = NeedsInput::of(&serde_json::from_value(other).unwrap());
        assert_eq!(asked.input, r#"{"a":1}"#);
    }

    #[test]
    fn a_result_gives_its_outcome_and_text_cut() {
        let raw = json!({"type": "result", "subtype": "error_max_turns", "is_error": true,
            "duration_ms": 1200, "result": "x".repeat(1000)})
        .to_string();
        let turn = TurnEnded::read(&raw, 0.25, 1.5);
        assert_eq!(
            turn.result.as_ref().unwrap().chars().count(),
            RESULT_CHARS + 1
        );
        let body =
            serde_json::to_value(Notification::new("s1".into(), Detail::TurnEnded(turn))).unwrap();
        assert_eq!(body["reason"], "turn_ended");
        assert_eq!(body["subtype"], "error_max_turns");
        assert_eq!(body["is_error"], true);
        assert_eq!(body["duration_ms"], 1200);
        assert_eq!(body["cost_usd"], 0.25);
        assert_eq!(body["total_cost_usd"], 1.5);
        assert!(
            body["summary"]
                .as_str()
                .unwrap()
                .starts_with("Turn failed (error_max_turns): xxx")
        );
        let api_error = json!({"type": "result", "subtype": "success", "is_error": true,
            "result": "API Error: 500"});
        let turn = TurnEnded::read(&api_error.to_string(), 0.0, 0.0);
        assert_eq!(turn.summary(), "Turn failed: API Error: 500");
    }
}
