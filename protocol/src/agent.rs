//! The Claude Code CLI's stream-json protocol: NDJSON lines on its stdin ([`ToAgent`]) and
//! stdout ([`AgentLine`]), verified against CLI 2.1.330.

use std::{borrow::Cow, collections::BTreeMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::{
    config::{AgentDefinition, PermissionMode},
    user_message::SdkUserMessage,
};

/// One line for the CLI's stdin. Every variant is a typed value: nothing a client sent reaches
/// the CLI without being parsed and re-serialized, because one bad line kills it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ToAgent {
    User(SdkUserMessage),
    Control(ControlToAgent),
}

impl ToAgent {
    /// The line, without its `\n`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an agent input always serializes")
    }
}

/// Control-protocol lines the server writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlToAgent {
    ControlRequest {
        request_id: String,
        request: ServerRequest,
    },
    ControlResponse {
        response: ControlResponse,
    },
}

/// Control requests the server sends to the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "subtype", rename_all = "snake_case")]
pub enum ServerRequest {
    /// First request after spawn; carries what has no launch flag.
    Initialize {
        #[serde(skip_serializing_if = "Option::is_none")]
        agents: Option<BTreeMap<String, AgentDefinition>>,
    },
    /// Abort the running turn.
    Interrupt,
    /// The model for the next turns (`null`: the default).
    SetModel {
        model: Option<String>,
    },
    SetPermissionMode {
        mode: PermissionMode,
    },
    /// The thinking budget (`null`: the default).
    SetMaxThinkingTokens {
        max_thinking_tokens: Option<u32>,
    },
    /// Withdraws a queued user message; answered `{"cancelled": bool}`.
    CancelAsyncMessage {
        message_uuid: String,
    },
}

impl ServerRequest {
    /// The request's `subtype`, for messages about it.
    pub fn subtype(&self) -> &'static str {
        match self {
            Self::Initialize { .. } => "initialize",
            Self::Interrupt => "interrupt",
            Self::SetModel { .. } => "set_model",
            Self::SetPermissionMode { .. } => "set_permission_mode",
            Self::SetMaxThinkingTokens { .. } => "set_max_thinking_tokens",
            Self::CancelAsyncMessage { .. } => "cancel_async_message",
        }
    }
}

/// The answer to a control request, in either direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "subtype", rename_all = "snake_case")]
pub enum ControlResponse {
    Success {
        request_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<Value>,
        /// Fields newer CLIs add, kept.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    Error {
        request_id: String,
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_code: Option<String>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
}

impl ControlResponse {
    /// Answers a request with `response`.
    pub fn success(request_id: String, response: Value) -> Self {
        Self::Success {
            request_id,
            response: Some(response),
            extra: Map::new(),
        }
    }

    /// Refuses a request of a subtype the server does not serve, as the SDKs do.
    pub fn unsupported(request_id: String, subtype: &str) -> Self {
        Self::Error {
            request_id,
            error: format!("Unsupported control request subtype: {subtype}"),
            error_code: Some("unsupported_request".to_owned()),
            extra: Map::new(),
        }
    }

    pub fn request_id(&self) -> &str {
        match self {
            Self::Success { request_id, .. } | Self::Error { request_id, .. } => request_id,
        }
    }
}

/// A control request the CLI sends (`can_use_tool`, `hook_callback`, `mcp_message`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRequest {
    pub subtype: String,
    /// The subtype's own fields, kept as they came.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// One line of the CLI's stdout, read leniently: what the server must act on is typed, every
/// other message is kept as the raw line with its `type` (and `subtype`, `session_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLine<'a> {
    raw: &'a str,
    kind: LineKind<'a>,
}

/// What an [`AgentLine`] is.
#[derive(Debug, Clone, PartialEq)]
pub enum LineKind<'a> {
    /// The CLI asks the server something; exactly one [`ControlResponse`] must answer it.
    ControlRequest {
        request_id: String,
        request: AgentRequest,
    },
    /// The CLI answers one of the server's requests.
    ControlResponse(ControlResponse),
    /// The CLI withdraws one of its requests.
    ControlCancelRequest {
        request_id: String,
    },
    KeepAlive,
    /// A message for clients, relayed byte for byte.
    Message(MessageHead<'a>),
}

/// The fields of a relayed message the server looks at.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageHead<'a> {
    #[serde(borrow, rename = "type")]
    #[cfg_attr(
        feature = "typescript",
        tsify(
            type = r#""system" | "assistant" | "user" | "result" | "stream_event" | (string & {})"#
        )
    )]
    pub kind: MessageKind<'a>,
    #[serde(borrow, default)]
    pub subtype: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub session_id: Option<Cow<'a, str>>,
    /// Set on `result` messages.
    #[serde(default)]
    pub is_error: Option<bool>,
}

/// The `type` of a relayed message; unknown types are kept, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind<'a> {
    /// `system` (`init` once per turn, `status`, `api_retry`, ...).
    System,
    Assistant,
    /// Tool results and synthetic user messages.
    User,
    /// The end of a turn: exactly one per turn.
    Result,
    /// A token-level delta (with `includePartialMessages`).
    StreamEvent,
    Other(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for MessageKind<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let kind = <Cow<'a, str>>::deserialize(deserializer)?;
        Ok(match kind.as_ref() {
            "system" => Self::System,
            "assistant" => Self::Assistant,
            "user" => Self::User,
            "result" => Self::Result,
            "stream_event" => Self::StreamEvent,
            _ => Self::Other(kind),
        })
    }
}

/// Why a stdout line is not a CLI message.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AgentLineError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("a JSON value without a string \"type\"")]
    NoType,
    #[error("a malformed {kind} line: {detail}")]
    Control { kind: &'static str, detail: String },
}

/// The control-protocol lines, parsed only when the head says a line is one.
#[allow(clippy::enum_variant_names)] // named after the CLI's `type` values
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ControlFromAgent {
    ControlRequest {
        request_id: String,
        request: AgentRequest,
    },
    ControlResponse {
        response: ControlResponse,
    },
    ControlCancelRequest {
        request_id: String,
    },
}

impl<'a> AgentLine<'a> {
    /// Parses one stdout line (without its `\n`). Messages are validated as JSON and read for
    /// their head only; control lines are read whole.
    pub fn parse(raw: &'a str) -> Result<Self, AgentLineError> {
        let head: MessageHead<'a> = serde_json::from_str(raw).map_err(|e| {
            if e.is_data() {
                AgentLineError::NoType
            } else {
                AgentLineError::Json(e.to_string())
            }
        })?;
        let kind = match &head.kind {
            MessageKind::Other(kind) if kind == "keep_alive" => LineKind::KeepAlive,
            MessageKind::Other(kind) if kind.starts_with("control_") => {
                let control_kind = match kind.as_ref() {
                    "control_request" => "control_request",
                    "control_response" => "control_response",
                    "control_cancel_request" => "control_cancel_request",
                    _ => {
                        return Ok(Self {
                            raw,
                            kind: LineKind::Message(head),
                        });
                    }
                };
                match serde_json::from_str(raw) {
                    Ok(ControlFromAgent::ControlRequest {
                        request_id,
                        request,
                    }) => LineKind::ControlRequest {
                        request_id,
                        request,
                    },
                    Ok(ControlFromAgent::ControlResponse { response }) => {
                        LineKind::ControlResponse(response)
                    }
                    Ok(ControlFromAgent::ControlCancelRequest { request_id }) => {
                        LineKind::ControlCancelRequest { request_id }
                    }
                    Err(e) => {
                        return Err(AgentLineError::Control {
                            kind: control_kind,
                            detail: e.to_string(),
                        });
                    }
                }
            }
            _ => LineKind::Message(head),
        };
        Ok(Self { raw, kind })
    }

    /// The line as the CLI wrote it.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    pub fn kind(&self) -> &LineKind<'a> {
        &self.kind
    }

    pub fn into_kind(self) -> LineKind<'a> {
        self.kind
    }
}
