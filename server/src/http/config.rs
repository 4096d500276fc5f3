//! The original's `/config`: the legacy session's config, replaced whole by a `POST`.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use claude_agent_protocol::QueryConfig;
use serde_json::{Value, json};

use super::{body::JsonText, error::ApiError};
use crate::{session::Sessions, state::AppState};

/// The config; and `"demo": true` in demo mode, for the page's banner (the original's clients
/// read `config` alone).
pub(super) async fn get(State(state): State<AppState>) -> Json<Value> {
    let mut answer = json!({ "config": state.sessions.legacy().config().redacted() });
    if state.demo {
        answer["demo"] = json!(true);
    }
    Json(answer)
}

/// Replaces the config. A value of the wrong type is refused naming its field, and the old
/// config stays; keys that are no option are ignored and listed.
pub(super) async fn post(
    State(sessions): State<Arc<Sessions>>,
    body: Result<JsonText, ApiError>,
) -> Response {
    let parsed = body.and_then(|JsonText(body)| {
        QueryConfig::from_json(&body).map_err(|e| ApiError::Invalid(e.to_string()))
    });
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return error.without_code(),
    };
    if !parsed.ignored.is_empty() {
        tracing::info!(ignored = ?parsed.ignored, "config keys that are no agent option were ignored");
    }
    let legacy = sessions.legacy();
    if let Err(error) = legacy.replace_config(parsed.config).await {
        return ApiError::from(error).without_code();
    }
    let config = legacy.config().redacted();
    Json(json!({ "success": true, "config": config, "ignored": parsed.ignored })).into_response()
}
