//! The API's errors: each a status, a message for people and a stable code for programs.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use claude_agent_protocol::sessions::ErrorAnswer;
use thiserror::Error;

use crate::{
    agent::AgentError,
    auth::Refusal,
    files::FilesError,
    session::{PromptError, SessionError},
};

#[derive(Debug, Error)]
pub(crate) enum ApiError {
    /// Blocks cross-site form posts, which cannot send JSON without a preflight.
    #[error("Content-Type must be application/json")]
    NotJson,
    #[error("{0}")]
    Invalid(String),
    #[error("The body is over the limit of {} MiB", super::MAX_MESSAGE >> 20)]
    TooLarge,
    #[error("No session {0:?}")]
    NoSession(String),
    #[error("The default session (of /config and /ws) cannot be deleted")]
    DefaultSession,
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A WebSocket asked for while the server stops: its clients reconnect once it is back.
    #[error("The server is shutting down")]
    Draining,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Invalid(_) | Self::Session(SessionError::Config(_)) => StatusCode::BAD_REQUEST,
            Self::NoSession(_) | Self::Session(SessionError::Prompt(PromptError::Unknown(_))) => {
                StatusCode::NOT_FOUND
            }
            Self::Session(SessionError::Prompt(PromptError::Resolved(_))) => StatusCode::CONFLICT,
            Self::Session(SessionError::NotQueued(_)) => StatusCode::CONFLICT,
            Self::DefaultSession
            | Self::Session(SessionError::Busy | SessionError::NothingToFork) => {
                StatusCode::CONFLICT
            }
            Self::Session(SessionError::Agent(AgentError::Busy { .. })) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Session(SessionError::Agent(_)) => StatusCode::BAD_GATEWAY,
            Self::Session(SessionError::Store(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Files(
                FilesError::BadPath { .. }
                | FilesError::IsADirectory(_)
                | FilesError::NotADirectory(_),
            ) => StatusCode::BAD_REQUEST,
            Self::Files(FilesError::Outside { .. }) => StatusCode::FORBIDDEN,
            Self::Files(FilesError::NotFound(_)) => StatusCode::NOT_FOUND,
            Self::Files(FilesError::NotText(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Files(FilesError::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Files(FilesError::Io { .. } | FilesError::Watch { .. }) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Refused(Refusal::Missing | Refusal::Wrong) => StatusCode::UNAUTHORIZED,
            Self::Refused(Refusal::Locked(_)) => StatusCode::TOO_MANY_REQUESTS,
            Self::Refused(Refusal::Origin) => StatusCode::FORBIDDEN,
            Self::Refused(Refusal::Pending) | Self::Draining => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::NotJson => "not_json",
            Self::TooLarge => "too_large",
            Self::Invalid(_) | Self::Session(SessionError::Config(_)) => "invalid_request",
            Self::NoSession(_) => "session_not_found",
            Self::Session(SessionError::Prompt(PromptError::Unknown(_))) => "prompt_not_found",
            Self::Session(SessionError::Prompt(PromptError::Resolved(_))) => "prompt_resolved",
            Self::Session(SessionError::NotQueued(_)) => "not_queued",
            Self::DefaultSession => "default_session",
            Self::Session(SessionError::Busy) => "busy",
            Self::Session(SessionError::NothingToFork) => "nothing_to_fork",
            Self::Session(SessionError::Agent(AgentError::Busy { .. })) => "agent_busy",
            Self::Session(SessionError::Agent(_)) => "agent_unavailable",
            Self::Session(SessionError::Store(_)) => "storage_failed",
            Self::Files(FilesError::BadPath { .. }) => "bad_path",
            Self::Files(FilesError::Outside { .. }) => "outside_workspace",
            Self::Files(FilesError::NotFound(_)) => "file_not_found",
            Self::Files(FilesError::IsADirectory(_)) => "is_a_directory",
            Self::Files(FilesError::NotADirectory(_)) => "not_a_directory",
            Self::Files(FilesError::NotText(_)) => "not_text",
            Self::Files(FilesError::TooLarge) => "too_large",
            Self::Files(FilesError::Io { .. }) => "io_failed",
            Self::Files(FilesError::Watch { .. }) => "watch_failed",
            Self::Refused(Refusal::Missing | Refusal::Wrong) => "unauthorized",
            Self::Refused(Refusal::Locked(_)) => "rate_limited",
            Self::Refused(Refusal::Origin) => "origin_refused",
            Self::Refused(Refusal::Pending) => "token_pending",
            Self::Draining => "draining",
        }
    }
}

impl ApiError {
    /// The answer as the original's `/config` gives it: `{"error": …}` alone.
    pub(super) fn without_code(self) -> Response {
        let answer = ErrorAnswer {
            error: self.to_string(),
            code: None,
        };
        (self.status(), Json(answer)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let answer = ErrorAnswer {
            error: self.to_string(),
            code: Some(self.code().to_owned()),
        };
        (self.status(), Json(answer)).into_response()
    }
}
