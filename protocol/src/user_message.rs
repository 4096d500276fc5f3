//! `SDKUserMessage`: a user turn, as a client sends it in `user_message.data` and as the server
//! writes it, re-serialized, to the CLI's stdin.

use std::fmt;

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{self, DeserializeSeed, Error as _, SeqAccess, Visitor},
};
use serde_json::value::RawValue;

use crate::content::{self, ContentError, MAX_BLOCKS};

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
                let (mut blocks, mut held) = (Vec::new(), 0);
                while let Some((block, holds)) = seq.next_element_seed(CountedBlock)? {
                    held += holds;
                    // Refused at once: the rest is not read.
                    if held > MAX_BLOCKS {
                        return Err(A::Error::custom(ContentError::TooManyBlocks));
                    }
                    blocks.push(block);
                }
                Ok(UserContent::Blocks(blocks))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

/// One Messages API content block (`text`, `image`, `document`, `tool_result`,
/// `search_result`), checked against its type's shape ([`content`]) and passed on as it came.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "typescript", tsify(type = "Block"))]
pub struct ContentBlock(Box<RawValue>);

impl ContentBlock {
    /// The block's JSON text, on one line.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// Checks a block; returns it and how many blocks it holds, itself included.
    fn read(raw: Box<RawValue>) -> Result<(Self, usize), ContentError> {
        let holds = content::check_block(raw.get())?;
        // JSON has line breaks only as whitespace, and the CLI reads one message per line.
        let raw = if raw.get().contains(['\n', '\r']) {
            RawValue::from_string(raw.get().replace(['\n', '\r'], " "))
                .expect("JSON strings hold no raw line break: only whitespace was replaced")
        } else {
            raw
        };
        Ok((Self(raw), holds))
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ContentBlock {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ContentBlock".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <content::Block as schemars::JsonSchema>::json_schema(generator)
    }
}

impl PartialEq for ContentBlock {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Self::read(raw)
            .map(|(block, _)| block)
            .map_err(D::Error::custom)
    }
}

/// Reads a block of a message's content with the number of blocks it holds.
struct CountedBlock;

impl<'de> DeserializeSeed<'de> for CountedBlock {
    type Value = (ContentBlock, usize);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        ContentBlock::read(raw).map_err(D::Error::custom)
    }
}
