//! The v1 HTTP API's bodies: sessions created, listed, inspected and forked over REST, each
//! with its own WebSocket at `/v1/sessions/{id}/ws`.

use serde::{Deserialize, Serialize};

use crate::wire::Seq;

/// Where a session's agent is.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Its agent is starting.
    Starting,
    /// Its agent is up and waits for a message.
    Idle,
    /// A turn is running.
    Running,
    /// Its agent was stopped while idle; the next message resumes the conversation.
    Hibernated,
    /// Its agent ended on its own; the next message starts one that resumes it.
    Exited,
}

/// Tokens used by a session's turns, summed from their `result` messages.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

/// One session, as `GET /v1/sessions/{id}` answers.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The server's id of the session, in its URLs.
    pub id: String,
    /// The session of the original's `/config` and `/ws`, which cannot be deleted.
    pub default: bool,
    pub status: SessionStatus,
    /// RFC 3339.
    pub created_at: String,
    /// When a message last came in or went out (RFC 3339).
    pub last_activity_at: String,
    /// WebSocket clients attached now.
    pub clients: u32,
    /// The newest frame's `seq` (0 before the first).
    pub latest_seq: Seq,
    /// The oldest frame still kept (`latest_seq + 1` when none is).
    pub oldest_seq: Seq,
    /// The agent's working directory.
    pub cwd: String,
    /// The model the config names; the CLI's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The CLI's own session id (what `resume` takes), once its agent has reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_session_id: Option<String>,
    pub usage: Usage,
    pub total_cost_usd: f64,
    /// User messages (their `uuid`s) waiting for the running turn to end, oldest first; a
    /// `cancel_message` control withdraws one.
    #[serde(default)]
    pub queued: Vec<String>,
}

/// `GET /v1/sessions`: every session, oldest first.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

/// `GET /v1/sessions/{id}/permissions`: the prompts waiting for an answer, oldest first.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionList {
    pub permissions: Vec<crate::permissions::PermissionRequest>,
}

/// `POST /v1/sessions/{id}/messages`: the message was taken. A repeated `uuid` is not sent
/// again: the answer is the first one's, with `duplicate` set.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAccepted {
    /// The message's `uuid`: the one given, or one the server chose.
    pub uuid: String,
    /// The `seq` of the `user_message` frame that logged it.
    pub seq: Seq,
    pub duplicate: bool,
}

/// Every error answer of the API: a message for people and a stable code for programs.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorAnswer {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `POST /v1/sessions`: everything is optional; `{}` makes a session with the default config.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateSession {
    /// The agent config, as `POST /config` takes it (`QueryConfig`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", tsify(type = "QueryConfig"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub config: Option<serde_json::Value>,
    /// A CLI session id to resume: the conversation goes on in the new session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
    /// With `resume`: a copy of that conversation, under a new CLI session id.
    #[serde(default)]
    pub fork: bool,
}
