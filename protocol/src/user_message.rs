//! `SDKUserMessage`: a user turn, as a client sends it in `user_message.data` and as the server
//! writes it, re-serialized, to the CLI's stdin.

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use serde_json::{Map, Value};

/// One user message. Only these fields reach the CLI; anything else a client adds is dropped, so
/// that no unvalidated JSON is ever written to the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdkUserMessage {
    /// Always `"user"`.
    #[serde(rename = "type")]
    pub kind: UserTag,
    pub message: UserContentMessage,
    /// Set for messages that answer a subagent's tool use; `null` otherwise.
    #[serde(default)]
    pub parent_tool_use_id: Option<String>,
    /// Ignored by the CLI, which reports its own session id; kept for compatibility.
    #[serde(default)]
    pub session_id: String,
    /// Lets the CLI correlate turns (`command_lifecycle`, `user_message_uuid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(
        default,
        rename = "isSynthetic",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_synthetic: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

impl SdkUserMessage {
    /// A plain text message, as the original client's examples build it.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            kind: UserTag::User,
            message: UserContentMessage {
                role: UserRole::User,
                content: UserContent::Text(text.into()),
            },
            parent_tool_use_id: None,
            session_id: String::new(),
            uuid: None,
            is_synthetic: None,
            priority: None,
        }
    }
}

/// The `type` of a user message: only `"user"` is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserTag {
    #[serde(rename = "user")]
    User,
}

/// The Messages API user message inside an [`SdkUserMessage`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserContentMessage {
    pub role: UserRole,
    pub content: UserContent,
}

/// The `role` of a user message: only `"user"` is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    User,
}

/// Queue priority of a message sent while a turn runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Now,
    Next,
    Later,
}

/// A user message's content: a string, or Messages API content blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UserContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl<'de> Deserialize<'de> for UserContent {
    // Hand-written so a wrong shape gets a message that says what is expected.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(Self::Text(text)),
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| ContentBlock::try_from(item).map_err(|e| format!("[{i}]: {e}")))
                .collect::<Result<_, _>>()
                .map(Self::Blocks)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a string or an array of content blocks, found {}",
                json_kind(&other)
            ))),
        }
    }
}

/// One Messages API content block (`text`, `image`, `tool_result`, ...): an object with a string
/// `type`. Its other fields are the API's business and pass through as they are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ContentBlock(Map<String, Value>);

impl ContentBlock {
    /// The block's `type`.
    pub fn kind(&self) -> &str {
        self.0
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The block's fields.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.0
    }
}

impl TryFrom<Value> for ContentBlock {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        match value {
            Value::Object(map) if map.get("type").is_some_and(Value::is_string) => Ok(Self(map)),
            Value::Object(_) => Err("a content block needs a string `type`".to_owned()),
            other => Err(format!(
                "expected a content block object, found {}",
                json_kind(&other)
            )),
        }
    }
}

/// "a string", "an array", ... for error messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
