//! `/v1/sessions/{id}/files`: a session's files read, written, listed, removed and watched
//! (SSE); the same at `/files` for the legacy session. What may be reached is in
//! `crate::files`.

use std::{sync::Arc, time::Duration};

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{
        DefaultBodyLimit, FromRef, FromRequestParts, Path, Query, rejection::BytesRejection,
    },
    handler::Handler,
    http::{StatusCode, header, request::Parts},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{MethodRouter, get},
};
use claude_agent_protocol::{
    files::{EntryInfo, EntryList},
    sessions::ErrorAnswer,
};
use futures_util::{Stream, StreamExt, stream};
use serde::{Deserialize, de::DeserializeOwned};
use tokio_util::io::ReaderStream;

use super::error::ApiError;
use crate::{
    files::{self, FilesError, Roots, Watch},
    session::{Session, Sessions},
};

/// A comment on an idle watch, so that proxies keep its connection.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The session a route is for: `{id}`'s, or the legacy session on the routes without one.
#[derive(Debug)]
pub(super) struct Target(Arc<Session>);

impl<S: Send + Sync> FromRequestParts<S> for Target
where
    Arc<Sessions>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let sessions = Arc::<Sessions>::from_ref(state);
        let id = Option::<Path<String>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::Invalid(rejection.body_text()))?;
        match id {
            Some(Path(id)) => sessions.get(&id).map(Self).ok_or(ApiError::NoSession(id)),
            None => Ok(Self(sessions.legacy().clone())),
        }
    }
}

impl Target {
    /// Runs `op` on the session's folders as its config has them now, off the async threads:
    /// file system calls block.
    async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(Roots) -> Result<T, FilesError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let cwd = self.0.cwd();
        let additional = self.0.config().additional_directories.unwrap_or_default();
        let done = tokio::task::spawn_blocking(move || op(Roots::new(&cwd, &additional)?));
        match done.await {
            Ok(result) => Ok(result?),
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
}

/// The query, or a `400` with the body every API error has.
#[derive(Debug)]
pub(super) struct Params<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(params)) => Ok(Self(params)),
            Err(rejection) => Err(ApiError::Invalid(rejection.body_text())),
        }
    }
}

/// `path=`: absent is empty, which is refused as every bad path is.
#[derive(Debug, Deserialize)]
pub(super) struct PathParam {
    #[serde(default)]
    path: String,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    /// Only UTF-8, as `text/plain; charset=utf-8`.
    Text,
    #[default]
    Bytes,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReadParams {
    #[serde(default)]
    path: String,
    #[serde(default)]
    format: Format,
}

#[derive(Debug, Deserialize)]
pub(super) struct ListParams {
    #[serde(default = "here")]
    path: String,
}

fn here() -> String {
    ".".to_owned()
}

#[derive(Debug, Deserialize)]
pub(super) struct WatchParams {
    #[serde(default = "here")]
    path: String,
    #[serde(default)]
    recursive: bool,
}

/// `…/files`: a file read, written and removed; writes take larger bodies than the rest of
/// the API.
pub(super) fn file<S: Clone + Send + Sync + 'static>() -> MethodRouter<S>
where
    Arc<Sessions>: FromRef<S>,
{
    get(read)
        .put(write.layer(DefaultBodyLimit::max(files::MAX_WRITE)))
        .delete(remove)
}

/// A file's content, streamed: `format=bytes` (the default) as it is, `format=text` only if
/// it is UTF-8.
#[utoipa::path(get, path = "/v1/sessions/{id}/files", tag = "files", operation_id = "read_file",
    params(("id" = String, Path), ("path" = String, Query, description = "Relative to the \
        session's cwd, or absolute inside it or its additionalDirectories"),
        ("format" = Option<String>, Query, description = "`text` or `bytes` (the default)")),
    responses(
        (status = 200, content((Vec<u8> = "application/octet-stream"), (String = "text/plain"))),
        (status = 400, body = ErrorAnswer), (status = 403, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer), (status = 422, body = ErrorAnswer)))]
pub(super) async fn read(
    target: Target,
    Params(params): Params<ReadParams>,
) -> Result<Response, ApiError> {
    let text = params.format == Format::Text;
    let file = target
        .run(move |roots| files::read(&roots.resolve(&params.path)?, text))
        .await?;
    let content_type = match text {
        true => "text/plain; charset=utf-8",
        false => "application/octet-stream",
    };
    let body = Body::from_stream(ReaderStream::new(tokio::fs::File::from_std(file)));
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// Writes the body to a file in one step (a temp file beside it, renamed over it), making the
/// folders it is in; up to 64 MiB.
#[utoipa::path(put, path = "/v1/sessions/{id}/files", tag = "files", operation_id = "write_file",
    params(("id" = String, Path), ("path" = String, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = EntryInfo), (status = 400, body = ErrorAnswer),
              (status = 403, body = ErrorAnswer), (status = 404, body = ErrorAnswer),
              (status = 413, body = ErrorAnswer)))]
pub(super) async fn write(
    target: Target,
    Params(params): Params<PathParam>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EntryInfo>, ApiError> {
    let content = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => FilesError::TooLarge.into(),
        _ => ApiError::Invalid(rejection.body_text()),
    })?;
    let entry = target
        .run(move |roots| files::write(&roots.resolve(&params.path)?, &content))
        .await?;
    Ok(Json(entry))
}

/// Removes a file, a link, or a folder with all it holds.
#[utoipa::path(delete, path = "/v1/sessions/{id}/files", tag = "files", operation_id = "remove_file",
    params(("id" = String, Path), ("path" = String, Query)),
    responses((status = 204), (status = 400, body = ErrorAnswer),
              (status = 403, body = ErrorAnswer), (status = 404, body = ErrorAnswer)))]
pub(super) async fn remove(
    target: Target,
    Params(params): Params<PathParam>,
) -> Result<StatusCode, ApiError> {
    target
        .run(move |roots| files::remove(&roots.entry(&params.path)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A folder's entries, sorted by name.
#[utoipa::path(get, path = "/v1/sessions/{id}/files/list", tag = "files", operation_id = "list_files",
    params(("id" = String, Path), ("path" = Option<String>, Query, description = "`.` if absent")),
    responses((status = 200, body = EntryList), (status = 400, body = ErrorAnswer),
              (status = 403, body = ErrorAnswer), (status = 404, body = ErrorAnswer)))]
pub(super) async fn list(
    target: Target,
    Params(params): Params<ListParams>,
) -> Result<Json<EntryList>, ApiError> {
    let entries = target
        .run(move |roots| files::list(&roots.resolve(&params.path)?))
        .await?;
    Ok(Json(EntryList { entries }))
}

/// A folder's changes as server-sent events: first `event: start` once the watch is set, then
/// each change as a `FileEvent` in a message's data, and a `: keepalive` comment every 15
/// seconds. It ends when the folder goes away, or with the session.
#[utoipa::path(get, path = "/v1/sessions/{id}/files/watch", tag = "files", operation_id = "watch_files",
    params(("id" = String, Path), ("path" = Option<String>, Query, description = "`.` if absent"),
        ("recursive" = Option<bool>, Query, description = "Its subfolders' changes too")),
    responses(
        (status = 200, content_type = "text/event-stream", body = claude_agent_protocol::files::FileEvent),
        (status = 400, body = ErrorAnswer), (status = 403, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub(super) async fn watch(
    target: Target,
    Params(params): Params<WatchParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, axum::Error>>>, ApiError> {
    let ended = target.0.ended().clone();
    let watch = target
        .run(move |roots| Watch::start(&roots.resolve(&params.path)?, params.recursive))
        .await?;
    let start = Event::default().event("start").data("{}");
    let changes = stream::unfold(watch, |mut watch| async move {
        let change = watch.next().await?;
        Some((Event::default().json_data(change), watch))
    });
    let events = stream::once(async { Ok(start) })
        .chain(changes)
        .take_until(ended.cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive")))
}
