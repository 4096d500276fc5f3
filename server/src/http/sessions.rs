//! `/v1/sessions`: sessions created, listed, inspected, forked and deleted; messages and
//! interrupts over HTTP. Each session's WebSocket is in `ws.rs`.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use claude_agent_protocol::{
    ClientMessage, QueryConfig, SessionInfo,
    control::{Control, ControlResult},
    permissions::PermissionAnswer,
    sessions::{CreateSession, ErrorAnswer, MessageAccepted, PermissionList, SessionList},
    wire::read_data,
};
use futures_util::future::join_all;
use serde_json::{Map, Value};

use super::{body::JsonText, error::ApiError};
use crate::session::{NewSession, Session, Sessions};

fn find(sessions: &Sessions, id: String) -> Result<Arc<Session>, ApiError> {
    sessions.get(&id).ok_or(ApiError::NoSession(id))
}

/// Every session, oldest first.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions",
    responses((status = 200, body = SessionList)))]
pub(super) async fn list(State(sessions): State<Arc<Sessions>>) -> Json<SessionList> {
    let sessions = sessions.list();
    Json(SessionList {
        sessions: join_all(sessions.iter().map(|s| s.info())).await,
    })
}

/// Creates a session and starts its agent, so that its first turn does not wait for it.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = CreateSession,
    responses((status = 201, body = SessionInfo), (status = 400, body = ErrorAnswer),
              (status = 415, body = ErrorAnswer)))]
pub(super) async fn create(
    State(sessions): State<Arc<Sessions>>,
    JsonText(body): JsonText,
) -> Result<impl IntoResponse, ApiError> {
    let body = if body.trim().is_empty() { "{}" } else { &body };
    let request: CreateSession = serde_json::from_str(body)
        .map_err(|e| ApiError::Invalid(format!("Invalid session request: {e}")))?;
    let config = match request.config {
        None => QueryConfig::default(),
        Some(config) => {
            let parsed = QueryConfig::from_json(&config.to_string())
                .map_err(|e| ApiError::Invalid(e.to_string()))?;
            if !parsed.ignored.is_empty() {
                let keys = parsed.ignored.join(", ");
                return Err(ApiError::Invalid(format!("Unknown config fields: {keys}")));
            }
            parsed.config
        }
    };
    if request.fork && request.resume.is_none() {
        return Err(ApiError::Invalid("`fork` needs `resume`".to_owned()));
    }
    let session = sessions
        .create(NewSession {
            config,
            resume: request.resume,
            fork: request.fork,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(session.info().await)))
}

/// One session.
#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "sessions",
    responses((status = 200, body = SessionInfo), (status = 404, body = ErrorAnswer)))]
pub(super) async fn get(
    State(sessions): State<Arc<Sessions>>,
    Path(id): Path<String>,
) -> Result<Json<SessionInfo>, ApiError> {
    Ok(Json(find(&sessions, id)?.info().await))
}

/// Ends a session's agent gracefully and forgets the session.
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "sessions",
    responses((status = 204), (status = 404, body = ErrorAnswer), (status = 409, body = ErrorAnswer)))]
pub(super) async fn delete(
    State(sessions): State<Arc<Sessions>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    match sessions.remove(&id).await {
        None => Err(ApiError::NoSession(id)),
        Some(false) => Err(ApiError::DefaultSession),
        Some(true) => Ok(StatusCode::NO_CONTENT),
    }
}

/// A new session on a copy of this one's conversation (`--resume --fork-session`).
#[utoipa::path(post, path = "/v1/sessions/{id}/fork", tag = "sessions",
    responses((status = 201, body = SessionInfo), (status = 404, body = ErrorAnswer),
              (status = 409, body = ErrorAnswer)))]
pub(super) async fn fork(
    State(sessions): State<Arc<Sessions>>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let source = find(&sessions, id)?;
    let session = sessions.fork(&source).await?;
    Ok((StatusCode::CREATED, Json(session.info().await)))
}

/// Sends a user message (an `SDKUserMessage`); its `uuid` makes a retry safe: the same one
/// twice runs one turn.
#[utoipa::path(post, path = "/v1/sessions/{id}/messages", tag = "sessions",
    request_body(content = Object, description = "An SDKUserMessage, as `user_message.data`"),
    responses((status = 202, body = MessageAccepted), (status = 400, body = ErrorAnswer),
              (status = 404, body = ErrorAnswer)))]
pub(super) async fn message(
    State(sessions): State<Arc<Sessions>>,
    Path(id): Path<String>,
    JsonText(body): JsonText,
) -> Result<impl IntoResponse, ApiError> {
    let session = find(&sessions, id)?;
    // Checked as the WebSocket's frames are, with the same messages.
    let data =
        ClientMessage::user_message_data(&body).map_err(|e| ApiError::Invalid(e.to_string()))?;
    let sent = session.send_user(data).await?;
    let accepted = MessageAccepted {
        uuid: sent.uuid.unwrap_or_default(),
        seq: sent.seq.unwrap_or_default(),
        duplicate: sent.duplicate,
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Interrupts the running turn, if any; it ends with the CLI's own `result`.
#[utoipa::path(post, path = "/v1/sessions/{id}/interrupt", tag = "sessions",
    responses((status = 204), (status = 404, body = ErrorAnswer)))]
pub(super) async fn interrupt(
    State(sessions): State<Arc<Sessions>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    find(&sessions, id)?.interrupt().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The permission prompts waiting for an answer, oldest first.
#[utoipa::path(get, path = "/v1/sessions/{id}/permissions", tag = "permissions",
    responses((status = 200, body = PermissionList), (status = 404, body = ErrorAnswer)))]
pub(super) async fn permissions(
    State(sessions): State<Arc<Sessions>>,
    Path(id): Path<String>,
) -> Result<Json<PermissionList>, ApiError> {
    let permissions = find(&sessions, id)?.prompts();
    Ok(Json(PermissionList { permissions }))
}

/// Answers a permission prompt, as a `permission_response` frame's `data` without its
/// `request_id`: the first answer reaches the CLI, a later one is a `409`.
#[utoipa::path(post, path = "/v1/sessions/{id}/permissions/{request_id}", tag = "permissions",
    request_body(content = Object, description = "`behavior` (`allow` or `deny`), and \
        `updated_input`, `updated_permissions`, `message`, `interrupt` as the prompt allows"),
    responses((status = 204), (status = 400, body = ErrorAnswer), (status = 404, body = ErrorAnswer),
              (status = 409, body = ErrorAnswer)))]
pub(super) async fn answer_permission(
    State(sessions): State<Arc<Sessions>>,
    Path((id, request_id)): Path<(String, String)>,
    JsonText(body): JsonText,
) -> Result<StatusCode, ApiError> {
    let session = find(&sessions, id)?;
    // The path names the prompt; the body is the rest of the frame's `data`.
    let invalid = |e: &dyn std::fmt::Display| ApiError::Invalid(e.to_string());
    let mut data: Map<String, Value> = serde_json::from_str(&body).map_err(|e| invalid(&e))?;
    data.insert("request_id".into(), request_id.into());
    let answer: PermissionAnswer =
        read_data("permission_response", &Value::Object(data).to_string())
            .map_err(|e| invalid(&e))?;
    session.answer_permission(&answer, "http")?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the running session (model, permission mode, thinking budget, interrupt), as a
/// `control` frame's `data`: the CLI's answer, which the session's config keeps.
#[utoipa::path(post, path = "/v1/sessions/{id}/control", tag = "sessions", request_body = Control,
    responses((status = 200, body = ControlResult), (status = 400, body = ErrorAnswer),
              (status = 404, body = ErrorAnswer)))]
pub(super) async fn control(
    State(sessions): State<Arc<Sessions>>,
    Path(id): Path<String>,
    JsonText(body): JsonText,
) -> Result<Json<ControlResult>, ApiError> {
    let session = find(&sessions, id)?;
    let control: Control =
        read_data("control", &body).map_err(|e| ApiError::Invalid(e.to_string()))?;
    Ok(Json(session.control(control).await))
}
