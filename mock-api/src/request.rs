use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde_json::Value;

use crate::content::text_blocks;

/// One `POST /v1/messages` as the mock received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// Lowercased header name → value (the last one wins if repeated).
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

impl RecordedRequest {
    pub(crate) fn new(headers: &HeaderMap, body: Value) -> Self {
        let headers = headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        Self { headers, body }
    }

    /// The `x-api-key` header, or else the bearer token of `authorization`.
    pub fn api_key(&self) -> Option<&str> {
        self.headers
            .get("x-api-key")
            .map(String::as_str)
            .or_else(|| self.headers.get("authorization")?.strip_prefix("Bearer "))
    }

    /// The system prompt, whether sent as a string or as text blocks (joined with "\n").
    pub fn system_text(&self) -> String {
        text_blocks(&self.body["system"]).join("\n")
    }

    /// The `content` of the last message with role `user` (later `system` ones are skipped).
    pub fn last_user_content(&self) -> Option<&Value> {
        let messages = self.body["messages"].as_array()?;
        let last_user = messages
            .iter()
            .rev()
            .find(|message| message["role"] == "user")?;
        Some(&last_user["content"])
    }

    /// All text blocks of the last user message joined with "\n", system reminders included.
    pub fn last_user_text(&self) -> Option<String> {
        Some(text_blocks(self.last_user_content()?).join("\n"))
    }

    /// The agent's main loop offers tools; side requests (titles, summaries) do not.
    pub fn is_main_loop(&self) -> bool {
        self.body["tools"]
            .as_array()
            .is_some_and(|tools| !tools.is_empty())
    }

    /// The requested model, echoed back in replies.
    pub(crate) fn model(&self) -> &str {
        self.body["model"].as_str().unwrap_or("mock-model")
    }

    /// Whether the client asked for a server-sent-event stream.
    pub(crate) fn wants_stream(&self) -> bool {
        self.body["stream"] == true
    }
}
