use std::{convert::Infallible, sync::Arc};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use futures_util::stream;
use serde_json::{Value, json};

use super::{
    RecordedRequest, Shared,
    render::{Message, SseEvent},
    script::{self, Reply},
};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .fallback(|| async { StatusCode::NOT_FOUND })
        // The CLI's requests carry the whole conversation and can outgrow axum's 2 MB default.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

async fn messages(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST);
    };
    let request = RecordedRequest::new(&headers, body);
    if shared.script.records() {
        shared.recorder.record(request.clone());
    }
    let scripted = match script::reply(&request, shared.script) {
        Reply::Message(scripted) => scripted,
        Reply::Error(status) => {
            return error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    };
    let message = Message::new(shared.next_serial(), request.model(), scripted);
    let request_id = [("request-id", message.request_id())];
    if !request.wants_stream() {
        return (request_id, Json(message.to_json())).into_response();
    }
    let content_type = [(header::CONTENT_TYPE, "text/event-stream")];
    (request_id, content_type, sse_body(message.events())).into_response()
}

async fn count_tokens() -> Json<Value> {
    Json(json!({"input_tokens": 10}))
}

/// A body that writes each event after its delay, so slow replies really trickle.
fn sse_body(events: Vec<SseEvent>) -> Body {
    Body::from_stream(stream::unfold(
        events.into_iter(),
        |mut events| async move {
            let SseEvent { delay, bytes } = events.next()?;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Some((Ok::<_, Infallible>(bytes), events))
        },
    ))
}

/// An API error the CLI gives up on at once instead of retrying for minutes.
fn error(status: StatusCode) -> Response {
    let kind = match status.as_u16() {
        400 => "invalid_request_error",
        401 => "authentication_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    let message = format!("mock error {}", status.as_u16());
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (status, [("x-should-retry", "false")], Json(body)).into_response()
}
