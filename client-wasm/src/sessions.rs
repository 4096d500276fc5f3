//! The v1 sessions over REST: `listSessions`, `createSession`, `deleteSession`, and the
//! creation behind `session: "new"`.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::{endpoints::Endpoints, error::ClientError};

/// `GET /v1/sessions`: the sessions (`SessionInfo[]`), oldest first.
pub(crate) async fn list(endpoints: &Endpoints) -> Result<JsValue, ClientError> {
    let list = endpoints.request("GET", endpoints.sessions());
    let list = list.send("list sessions").await?;
    Reflect::get(&list, &"sessions".into())
        .ok()
        .filter(js_sys::Array::is_array)
        .ok_or_else(|| ClientError::Message("The server's session list has no `sessions`".into()))
}

/// `POST /v1/sessions` with `config` (a `QueryConfig`'s JSON text, the server's default when
/// absent): the new session's `SessionInfo`.
pub(crate) async fn create(
    endpoints: &Endpoints,
    config: Option<&str>,
) -> Result<JsValue, ClientError> {
    let body = match config {
        Some(config) => format!(r#"{{"config":{config}}}"#),
        None => "{}".to_owned(),
    };
    let create = endpoints.request("POST", endpoints.sessions()).json(&body);
    create.send("create session").await
}

/// `GET /v1/sessions/{id}`: its `SessionInfo`.
pub(crate) async fn get(endpoints: &Endpoints, id: &str) -> Result<JsValue, ClientError> {
    let get = endpoints.request("GET", endpoints.session(id));
    get.send("get session").await
}

/// `DELETE /v1/sessions/{id}`: its agent is stopped and its clients disconnected.
pub(crate) async fn delete(endpoints: &Endpoints, id: &str) -> Result<(), ClientError> {
    let delete = endpoints.request("DELETE", endpoints.session(id));
    delete.send("delete session").await?;
    Ok(())
}

/// The `id` of a `SessionInfo`.
pub(crate) fn id_of(info: &JsValue) -> Result<String, ClientError> {
    Reflect::get(info, &"id".into())
        .ok()
        .and_then(|id| id.as_string())
        .ok_or_else(|| ClientError::Message("The server's new session has no `id`".into()))
}
