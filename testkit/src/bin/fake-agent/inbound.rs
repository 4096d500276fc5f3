use serde::Deserialize;
use serde_json::Value;

/// The stdin messages the fake agent acts on.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Inbound {
    ControlRequest {
        request_id: String,
        request: ControlRequest,
    },
    User {
        message: UserMessage,
    },
    ControlResponse {
        response: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ControlRequest {
    pub(crate) subtype: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserMessage {
    content: Value,
}

impl UserMessage {
    /// All text blocks, where the markers are looked for.
    pub(crate) fn text(&self) -> String {
        claude_agent_testkit::text_blocks(&self.content).join("\n")
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("Error parsing streaming input line ({chars} chars): {source}")]
    BadLine {
        chars: usize,
        source: serde_json::Error,
    },
    #[error("fake agent: i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl Inbound {
    /// `None` for what the real CLI silently skips: blank lines and non-objects.
    pub(crate) fn parse(line: &str) -> Result<Option<Self>, Error> {
        let bad_line = |source| Error::BadLine {
            chars: line.chars().count(),
            source,
        };
        if line.trim().is_empty() {
            return Ok(None);
        }
        let value: Value = serde_json::from_str(line).map_err(bad_line)?;
        if !value.is_object() {
            return Ok(None);
        }
        Self::deserialize(value).map(Some).map_err(bad_line)
    }
}
