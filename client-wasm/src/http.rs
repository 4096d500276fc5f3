//! The server's JSON routes (`POST /config`, `/v1/sessions…`) through the runtime's own `fetch`
//! (browsers, Node 18+).

use js_sys::{JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use crate::error::ClientError;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, whatever the runtime (no `window` in Node).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &Object) -> Promise;
}

/// `method url` with a JSON `body`: the answer's JSON (`undefined` when it has none), or the
/// server's reason for refusing to `action` (as in "Failed to {action}: …").
pub(crate) async fn request(
    method: &str,
    url: &str,
    body: Option<&str>,
    action: &'static str,
) -> Result<JsValue, ClientError> {
    let init = Object::new();
    set(&init, "method", &method.into());
    if let Some(body) = body {
        let headers = Object::new();
        set(&headers, "Content-Type", &"application/json".into());
        set(&init, "headers", &headers);
        set(&init, "body", &body.into());
    }
    let unreachable = |e: JsValue| ClientError::Connect {
        url: url.to_owned(),
        reason: crate::describe(&e),
    };
    let response: Response = JsFuture::from(global_fetch(url, &init))
        .await
        .map_err(unreachable)?
        .unchecked_into();
    let text = match response.text() {
        Ok(text) => JsFuture::from(text).await.map_err(unreachable)?,
        Err(e) => return Err(unreachable(e)),
    };
    let text = text.as_string().unwrap_or_default();
    let json = JSON::parse(&text).ok().filter(|_| !text.is_empty());
    if response.ok() {
        return Ok(json.unwrap_or(JsValue::UNDEFINED));
    }
    // The server answers {"error": "...", "code"?: "..."}; anything else is shown as it came.
    let field = |name: &str| {
        json.as_ref()
            .filter(|json| json.is_object())
            .and_then(|json| Reflect::get(json, &name.into()).ok())
            .and_then(|value| value.as_string())
    };
    Err(ClientError::Refused {
        action,
        reason: field("error").unwrap_or_else(|| format!("HTTP {}: {text}", response.status())),
        code: field("code"),
    })
}

fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).expect("setting a field of a plain object");
}
