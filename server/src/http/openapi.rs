//! `/v1/openapi.json`: the OpenAPI document of the v1 API, generated from the handlers and the
//! protocol's types.

use axum::Json;
use utoipa::OpenApi;

use super::{files, sessions};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "claude-agent-server",
        description = "Sessions of the Claude Code agent. \
        Each session's frames stream over the WebSocket `/v1/sessions/{id}/ws?after=<seq>`. \
        The legacy session's files are also at `/files`, `/files/list` and `/files/watch`."
    ),
    paths(
        sessions::list,
        sessions::create,
        sessions::get,
        sessions::delete,
        sessions::fork,
        sessions::message,
        sessions::interrupt,
        sessions::control,
        sessions::permissions,
        sessions::answer_permission,
        files::read,
        files::write,
        files::remove,
        files::list,
        files::watch
    )
)]
struct ApiDoc;

pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
