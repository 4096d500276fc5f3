//! `SDKUserMessage`: a user turn, as a client sends it in `user_message.data` and as the server
//! writes it, re-serialized, to the CLI's stdin.

use std::{borrow::Cow, fmt};

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, Error as _, SeqAccess, Visitor},
};
use serde_json::value::RawValue;

use crate::schema::Kind;

/// One user message. Only these fields reach the CLI; anything else a client adds is dropped, so
/// that no unvalidated JSON is ever written to the agent.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserTag {
    #[serde(rename = "user")]
    User,
}

/// The Messages API user message inside an [`SdkUserMessage`].
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserContentMessage {
    pub role: UserRole,
    pub content: UserContent,
}

/// The `role` of a user message: only `"user"` is valid.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserRole {
    User,
}

/// Queue priority of a message sent while a turn runs.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Now,
    Next,
    Later,
}

/// A user message's content: a string, or Messages API content blocks.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UserContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl<'de> Deserialize<'de> for UserContent {
    // Hand-written: serde's untagged enums buffer the value, and blocks must be read raw.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = UserContent;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<UserContent, E> {
                Ok(UserContent::Text(text.to_owned()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<UserContent, E> {
                Ok(UserContent::Text(text))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UserContent, A::Error> {
                let mut blocks = Vec::new();
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(UserContent::Blocks(blocks))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

/// One Messages API content block (`text`, `image`, `tool_result`, ...): an object with a string
/// `type`. Its other fields are the API's business and pass through as they came.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
#[cfg_attr(
    feature = "typescript",
    tsify(type = "{ type: string; [field: string]: unknown }")
)]
pub struct ContentBlock(Box<RawValue>);

impl ContentBlock {
    /// The block's JSON text, on one line.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ContentBlock {
    fn schema_name() -> Cow<'static, str> {
        "ContentBlock".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "properties": { "type": { "type": "string" } },
            "required": ["type"]
        })
    }
}

impl PartialEq for ContentBlock {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// What a block must have; its other fields are not looked at.
        #[derive(Deserialize)]
        struct Head<'a> {
            #[serde(rename = "type", borrow)]
            _kind: Option<Cow<'a, str>>,
        }
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let json = raw.get();
        let is_object = Kind::of_json(json) == Kind::Object;
        match serde_json::from_str::<Head<'_>>(json) {
            Ok(Head { _kind: Some(_) }) if is_object => {}
            _ if is_object => {
                return Err(D::Error::custom("a content block needs a string `type`"));
            }
            _ => {
                return Err(D::Error::custom(format!(
                    "expected a content block object, found {}",
                    Kind::of_json(json).described()
                )));
            }
        }
        // JSON has line breaks only as whitespace, and the CLI reads one message per line.
        if json.contains(['\n', '\r']) {
            let line = json.replace(['\n', '\r'], " ");
            return RawValue::from_string(line)
                .map(Self)
                .map_err(D::Error::custom);
        }
        Ok(Self(raw))
    }
}
