//! What probes and scrapers ask, without the token: `/healthz` (liveness) and `/readyz`
//! (readiness); `/metrics` (behind the token on the main port, alone and open on
//! `--metrics-addr`); and the count of every response by route and status.

use std::sync::Arc;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{hosts, metrics, ready::Readiness, session::Sessions};

/// The route of requests no API route matched: the page's files, and 404s.
const FALLBACK: &str = "fallback";

/// Liveness, for probes and for clients waiting on a new sandbox: no token, no details.
pub(super) async fn health() -> &'static str {
    "ok"
}

/// Readiness: `ready`, or 503 with the one word that says why not.
pub(super) async fn ready(State(readiness): State<Arc<Readiness>>) -> Response {
    match readiness.check().await {
        Ok(()) => "ready".into_response(),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason.to_string()).into_response(),
    }
}

/// The metrics, in the Prometheus text format (OpenMetrics).
pub(super) async fn scrape(State(sessions): State<Arc<Sessions>>) -> Response {
    let census = sessions.census().await;
    let text = metrics::render(&census);
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

/// Counts each response by the template of the route it matched, so that ids and probing
/// make no new series. Parameters are written `:id`, as dashboards do: braces in a label
/// trip some parsers.
pub(super) async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(FALLBACK.to_owned(), |path| {
            path.as_str().replace('{', ":").replace('}', "")
        });
    let response = next.run(request).await;
    metrics::http_response(&route, response.status().as_u16());
    response
}

/// `--metrics-addr`'s routes: `/metrics` alone, with no token, for a cluster-internal port.
pub(crate) fn metrics_router(sessions: Arc<Sessions>, hosts: Arc<hosts::Hosts>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(super::not_found)
        .layer(middleware::from_fn_with_state(hosts, hosts::check))
        .layer(middleware::from_fn(record))
        .with_state(sessions)
}
