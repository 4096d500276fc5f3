//! Frames on the WebSocket `/ws`: JSON text, one object per frame, exactly as the original
//! `claude-agent-server` sends and accepts them (fields it lacked are additive).

use serde::{Deserialize, Serialize};
use std::{borrow::Cow, fmt::Write as _};

use serde_json::value::RawValue;
use thiserror::Error;

use crate::{
    control::{Control, ControlResult},
    permissions::{PermissionAnswer, PermissionRequest, PermissionResolved},
    schema::Kind,
    user_message::SdkUserMessage,
};

/// Client to server.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// A user turn for the agent; queued by the CLI if a turn is running.
    UserMessage { data: SdkUserMessage },
    /// Abort the running turn; it ends with the CLI's own error `result`.
    Interrupt,
    /// An answer to a `permission_request`: the first reaches the CLI.
    PermissionResponse { data: PermissionAnswer },
    /// A live change to the session (model, permission mode, thinking budget, interrupt),
    /// answered with `control_result`.
    Control { data: Control },
}

/// Why a client frame was rejected; the `Display` text is what the client reads.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClientMessageError {
    #[error("Invalid message format: {0}")]
    Json(String),
    #[error("Invalid message format: expected a JSON object with a string \"type\", found {0}")]
    NotAMessage(&'static str),
    #[error(
        "Unknown message type {0:?}: expected \"user_message\", \"interrupt\", \
         \"permission_response\" or \"control\""
    )]
    UnknownType(String),
    #[error("Invalid {kind} message: {detail}")]
    Invalid { kind: String, detail: String },
}

impl ClientMessage {
    /// Parses one client frame, naming what is wrong when it is not a valid message.
    pub fn from_json(text: &str) -> Result<Self, ClientMessageError> {
        /// The frame's fields, each still as its JSON text.
        #[derive(Deserialize)]
        struct Frame<'a> {
            #[serde(rename = "type", borrow)]
            kind: Option<&'a RawValue>,
            #[serde(borrow)]
            data: Option<&'a RawValue>,
        }
        let json = |e: serde_json::Error| ClientMessageError::Json(e.to_string());
        let raw: &RawValue = serde_json::from_str(text).map_err(json)?;
        let kind = Kind::of_json(raw.get());
        let not_a_message = || ClientMessageError::NotAMessage(kind.described());
        if kind != Kind::Object {
            return Err(not_a_message());
        }
        let frame: Frame<'_> = serde_json::from_str(raw.get()).map_err(|_| not_a_message())?;
        let kind: Cow<'_, str> = match frame.kind {
            None => {
                return Err(ClientMessageError::NotAMessage(
                    "an object without \"type\"",
                ));
            }
            Some(kind) => serde_json::from_str(kind.get()).map_err(|_| {
                ClientMessageError::NotAMessage(Kind::of_json(kind.get()).described())
            })?,
        };
        match kind.as_ref() {
            "interrupt" => Ok(Self::Interrupt),
            "user_message" => {
                let data = frame.data.ok_or_else(|| ClientMessageError::Invalid {
                    kind: kind.to_string(),
                    detail: "missing field `data`".to_owned(),
                })?;
                Self::user_message_data(data.get()).map(|data| Self::UserMessage { data })
            }
            "permission_response" => {
                let data = frame.data.ok_or_else(|| ClientMessageError::Invalid {
                    kind: kind.to_string(),
                    detail: "missing field `data`".to_owned(),
                })?;
                read_data(&kind, data.get()).map(|data| Self::PermissionResponse { data })
            }
            "control" => {
                let data = frame.data.ok_or_else(|| ClientMessageError::Invalid {
                    kind: kind.to_string(),
                    detail: "missing field `data`".to_owned(),
                })?;
                read_data(&kind, data.get()).map(|data| Self::Control { data })
            }
            _ => Err(ClientMessageError::UnknownType(kind.into_owned())),
        }
    }

    /// Reads the `data` of a `user_message` (or the same sent alone, as over HTTP), naming
    /// the path of what is wrong. Read on its own: through the tagged enum serde would lose
    /// the path.
    pub fn user_message_data(data: &str) -> Result<SdkUserMessage, ClientMessageError> {
        read_data("user_message", data)
    }
}

/// Reads the `data` of a client frame of type `kind`, naming the path of what is wrong.
pub fn read_data<T: serde::de::DeserializeOwned>(
    kind: &str,
    data: &str,
) -> Result<T, ClientMessageError> {
    let invalid = |detail: String| ClientMessageError::Invalid {
        kind: kind.to_owned(),
        detail,
    };
    let mut json = serde_json::Deserializer::from_str(data);
    let read = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        // The position is within `data`, not the frame: leave it out.
        let error = e.inner().to_string();
        let position = format!(
            " at line {} column {}",
            e.inner().line(),
            e.inner().column()
        );
        let error = error.strip_suffix(&position).unwrap_or(&error);
        match e.path().to_string().as_str() {
            "." => invalid(format!("data: {error}")),
            path => invalid(format!("data.{path}: {error}")),
        }
    })?;
    json.end()
        .map_err(|_| invalid("data: trailing characters after the message".to_owned()))?;
    Ok(read)
}

/// A frame's number in its session's log: from 1, never reused, continuing across agent restarts,
/// `--resume` and server restarts.
pub type Seq = u64;

// tsify declares no type aliases; the frames' types name this one.
#[cfg(feature = "typescript")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const SEQ_TYPE: &str = "/** A frame's number in its session's log. */\nexport type Seq = number;";

/// Server to client. Frames of the session's log carry their `seq`; answers meant for one
/// connection (`connected`, `resync_required`, a rejected frame's `error`) carry none.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "ServerFrame")]
pub enum ServerMessage {
    /// The connection is attached to a session. Sent before any other frame of the session.
    Connected {
        #[serde(skip_serializing_if = "Option::is_none")]
        protocol_version: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
        /// The newest frame's `seq` (0 before the first).
        #[serde(skip_serializing_if = "Option::is_none")]
        latest_seq: Option<Seq>,
        /// The oldest frame still kept (`latest_seq + 1` when none is).
        #[serde(skip_serializing_if = "Option::is_none")]
        oldest_seq: Option<Seq>,
        /// The frames that follow are those after this `seq`: where a reconnect resumes if
        /// none of them was handled.
        #[serde(skip_serializing_if = "Option::is_none")]
        after: Option<Seq>,
        /// Permission prompts waiting for an answer (each also in the log), if any.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pending_permissions: Vec<PermissionRequest>,
    },
    /// One line the agent printed, byte for byte.
    SdkMessage {
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        // The fields the server reads, and the rest as the agent wrote it.
        #[cfg_attr(
            feature = "typescript",
            tsify(type = "MessageHead & { [field: string]: any }")
        )]
        data: Box<RawValue>,
    },
    /// A user message a client of the session sent, as the agent received it; so every client
    /// sees every turn.
    UserMessage {
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        data: SdkUserMessage,
    },
    /// The frames after the client's `after` are no longer all kept: what is kept follows,
    /// from `oldest_seq`.
    ResyncRequired { oldest_seq: Seq, latest_seq: Seq },
    /// Something failed: a rejected frame, a refused connection, the agent's death.
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        error: String,
    },
    /// Diagnostics: the agent's stderr, the agent starting.
    Info {
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        data: String,
    },
    /// The agent asks whether a tool may run; any client may answer (`permission_response`).
    PermissionRequest {
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        data: PermissionRequest,
    },
    /// A prompt is over: answered, withdrawn, or timed out.
    PermissionResolved {
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<Seq>,
        data: PermissionResolved,
    },
    /// The answer to this client's `control` frame.
    ControlResult { data: ControlResult },
}

impl ServerMessage {
    /// An `error` frame.
    pub fn error(error: impl std::fmt::Display) -> Self {
        Self::Error {
            seq: None,
            error: error.to_string(),
        }
    }

    /// An `info` frame.
    pub fn info(data: impl Into<String>) -> Self {
        Self::Info {
            seq: None,
            data: data.into(),
        }
    }

    /// The frame's `seq`, if it is one of the log's.
    pub fn seq(&self) -> Option<Seq> {
        match self {
            Self::SdkMessage { seq, .. }
            | Self::UserMessage { seq, .. }
            | Self::Error { seq, .. }
            | Self::Info { seq, .. }
            | Self::PermissionRequest { seq, .. }
            | Self::PermissionResolved { seq, .. } => *seq,
            Self::Connected { .. } | Self::ResyncRequired { .. } | Self::ControlResult { .. } => {
                None
            }
        }
    }

    /// This frame numbered `seq` in its session's log.
    pub fn with_seq(mut self, number: Seq) -> Self {
        match &mut self {
            Self::SdkMessage { seq, .. }
            | Self::UserMessage { seq, .. }
            | Self::Error { seq, .. }
            | Self::Info { seq, .. }
            | Self::PermissionRequest { seq, .. }
            | Self::PermissionResolved { seq, .. } => *seq = Some(number),
            Self::Connected { .. } | Self::ResyncRequired { .. } | Self::ControlResult { .. } => {}
        }
        self
    }

    /// The frame's JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a server message always serializes")
    }

    /// The `sdk_message` frame for an agent line numbered `seq` (none: unnumbered), built
    /// without parsing the line again: the same text as serializing
    /// [`ServerMessage::SdkMessage`] with that line as `data`.
    pub fn sdk_message_json(raw: &str, seq: Option<Seq>) -> String {
        const HEAD: &str = r#"{"type":"sdk_message","#;
        let mut json = String::with_capacity(HEAD.len() + raw.len() + 40);
        json.push_str(HEAD);
        if let Some(seq) = seq {
            let _ = write!(json, r#""seq":{seq},"#);
        }
        json.push_str(r#""data":"#);
        json.push_str(raw);
        json.push('}');
        json
    }
}

impl PartialEq for ServerMessage {
    fn eq(&self, other: &Self) -> bool {
        self.to_json() == other.to_json()
    }
}

/// Every field a server frame may carry; `Box<RawValue>` cannot be read through serde's
/// buffering of internally tagged enums, so frames are read as this struct first.
#[derive(Deserialize)]
struct ServerFrame {
    #[serde(rename = "type")]
    kind: String,
    protocol_version: Option<u32>,
    session_id: Option<String>,
    latest_seq: Option<Seq>,
    oldest_seq: Option<Seq>,
    after: Option<Seq>,
    #[serde(default)]
    pending_permissions: Vec<PermissionRequest>,
    seq: Option<Seq>,
    data: Option<Box<RawValue>>,
    error: Option<String>,
}

impl TryFrom<ServerFrame> for ServerMessage {
    type Error = String;

    fn try_from(frame: ServerFrame) -> Result<Self, String> {
        let missing = |field: &str| format!("a {} frame needs `{field}`", frame.kind);
        let data = |data: Option<Box<RawValue>>| data.ok_or_else(|| missing("data"));
        let seq = frame.seq;
        Ok(match frame.kind.as_str() {
            "connected" => Self::Connected {
                protocol_version: frame.protocol_version,
                session_id: frame.session_id,
                latest_seq: frame.latest_seq,
                oldest_seq: frame.oldest_seq,
                after: frame.after,
                pending_permissions: frame.pending_permissions,
            },
            "sdk_message" => Self::SdkMessage {
                seq,
                data: data(frame.data)?,
            },
            "user_message" => Self::UserMessage {
                seq,
                data: serde_json::from_str(data(frame.data)?.get()).map_err(|e| e.to_string())?,
            },
            "resync_required" => Self::ResyncRequired {
                oldest_seq: frame.oldest_seq.ok_or_else(|| missing("oldest_seq"))?,
                latest_seq: frame.latest_seq.ok_or_else(|| missing("latest_seq"))?,
            },
            "error" => Self::Error {
                seq,
                error: frame.error.ok_or_else(|| missing("error"))?,
            },
            "info" => Self::Info {
                seq,
                data: serde_json::from_str(data(frame.data)?.get()).map_err(|e| e.to_string())?,
            },
            "permission_request" => Self::PermissionRequest {
                seq,
                data: serde_json::from_str(data(frame.data)?.get()).map_err(|e| e.to_string())?,
            },
            "permission_resolved" => Self::PermissionResolved {
                seq,
                data: serde_json::from_str(data(frame.data)?.get()).map_err(|e| e.to_string())?,
            },
            "control_result" => Self::ControlResult {
                data: serde_json::from_str(data(frame.data)?.get()).map_err(|e| e.to_string())?,
            },
            other => return Err(format!("unknown server message type {other:?}")),
        })
    }
}
