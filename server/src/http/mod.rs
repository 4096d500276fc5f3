//! Routes: the original's `GET`/`POST /config` and `GET /ws` (the legacy session), the v1
//! sessions API under `/v1/`, the demo page at `/` (`www`), `/healthz`, `/readyz` and
//! `/metrics` (`ops`); 404 for everything else. All but the page's files, `/healthz` and
//! `/readyz` need the token (`auth`).

mod auth;
mod body;
mod config;
mod error;
mod files;
mod openapi;
mod ops;
mod sessions;
mod ws;
mod www;

use std::time::Duration;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{Method, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    timeout::RequestBodyTimeoutLayer,
};

pub(crate) use ops::metrics_router;
pub(crate) use www::WwwDirs;

/// The largest message a client may send, a WebSocket frame (as the original: Bun's default)
/// or an HTTP body alike.
const MAX_MESSAGE: usize = 16 << 20;

use crate::{hosts, state::AppState};

/// The router. Pages of `state.origins` may call the HTTP API (CORS) and open WebSockets;
/// requests for a host not in `state.hosts` are refused. A body must arrive within
/// `body_timeout` of its head, so that a client trickling one in holds its connection no longer.
pub(crate) fn router(state: AppState, www: &WwwDirs, body_timeout: Duration) -> Router {
    let gate = middleware::from_fn_with_state(state.auth.clone(), auth::require);
    let api = Router::new()
        .route("/config", get(config::get).post(config::post))
        .route("/v1/sessions", get(sessions::list).post(sessions::create))
        .route(
            "/v1/sessions/{id}",
            get(sessions::get).delete(sessions::delete),
        )
        .route("/v1/sessions/{id}/fork", post(sessions::fork))
        .route("/v1/sessions/{id}/messages", post(sessions::message))
        .route("/v1/sessions/{id}/interrupt", post(sessions::interrupt))
        .route("/v1/sessions/{id}/control", post(sessions::control))
        .route("/v1/sessions/{id}/permissions", get(sessions::permissions))
        .route(
            "/v1/sessions/{id}/permissions/{request_id}",
            post(sessions::answer_permission),
        )
        .route("/v1/sessions/{id}/files", files::file())
        .route("/v1/sessions/{id}/files/list", get(files::list))
        .route("/v1/sessions/{id}/files/watch", get(files::watch))
        .route("/files", files::file())
        .route("/files/list", get(files::list))
        .route("/files/watch", get(files::watch))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/metrics", get(ops::scrape))
        .layer(DefaultBodyLimit::max(MAX_MESSAGE))
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .route("/ws", get(ws::legacy))
        .route("/v1/sessions/{id}/ws", get(ws::session))
        .route_layer(gate)
        // Not gated, but with CORS: a page polls it while a new sandbox's server starts.
        .route("/healthz", get(ops::health))
        .route("/readyz", get(ops::ready));
    let api = match cors(&state) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    let login = middleware::from_fn_with_state(state.auth.clone(), auth::login);
    api.merge(www.routes().layer(login))
        .layer(middleware::from_fn_with_state(
            state.hosts.clone(),
            hosts::check,
        ))
        .layer(middleware::from_fn(ops::record))
        .with_state(state)
}

/// Which other origins' pages may call the API. With a token, any: the token, which a page
/// sends itself, is what lets a request in (cookies are never allowed across origins). With
/// `--no-auth`, those of `--cors-origin` alone.
fn cors(state: &AppState) -> Option<CorsLayer> {
    let allow = match (state.auth.required(), state.origins.allows_others()) {
        (true, _) => AllowOrigin::any(),
        (false, true) => state.origins.cors(),
        (false, false) => return None,
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]),
    )
}

pub(crate) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}
