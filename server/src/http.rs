//! Routes: `GET`/`POST /config` and `GET /ws`, as the original; the demo page at `/` (`www`);
//! 404 for everything else.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, Method, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use claude_agent_protocol::QueryConfig;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower_http::cors::CorsLayer;

use crate::{
    config_store::ConfigStore,
    hosts::{self, Hosts},
    origins::Origins,
    session::Session,
    ws,
    www::WwwDirs,
};

/// What the handlers share.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) config: Arc<ConfigStore>,
    /// The one session of the original's policy; the registry of many comes later.
    pub(crate) session: Arc<Session>,
    /// Cancelled when the server shuts down; connections close on it.
    pub(crate) shutdown: CancellationToken,
    /// The web pages, besides the server's own, that may use it.
    pub(crate) origins: Arc<Origins>,
    /// The host names, besides addresses and `localhost`, it answers to.
    pub(crate) hosts: Arc<Hosts>,
}

/// The router. Pages of `state.origins` may call `/config` (CORS) and open `/ws`; requests
/// for a host not in `state.hosts` are refused.
pub(crate) fn router(state: AppState, www: &WwwDirs) -> Router {
    let mut config = Router::new().route("/config", get(get_config).post(post_config));
    if state.origins.allows_others() {
        config = config.layer(
            CorsLayer::new()
                .allow_origin(state.origins.cors())
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE]),
        );
    }
    config
        .route("/ws", get(ws::upgrade))
        .merge(www.routes())
        .layer(middleware::from_fn_with_state(state.clone(), hosts::check))
        .with_state(state)
}

pub(crate) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

async fn get_config(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "config": state.config.current().redacted() }))
}

/// Replaces the config. A value of the wrong type is refused naming its field, and the old
/// config stays; keys that are no option are ignored and listed.
async fn post_config(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    // A cross-site form can post text/plain without a preflight; only JSON is accepted.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    if !json {
        let error = "Content-Type must be application/json";
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Json(json!({ "error": error })),
        )
            .into_response();
    }
    match QueryConfig::from_json(&body) {
        Ok(parsed) => {
            state.config.replace(parsed.config);
            if !parsed.ignored.is_empty() {
                tracing::info!(ignored = ?parsed.ignored, "config keys that are no agent option were ignored");
            }
            let config = state.config.current().redacted();
            Json(json!({ "success": true, "config": config, "ignored": parsed.ignored }))
                .into_response()
        }
        Err(error) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}
