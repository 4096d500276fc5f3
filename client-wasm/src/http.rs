//! `POST /config` through the runtime's own `fetch` (browsers, Node 18+).

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

/// Posts `config` (JSON text); the server's own reason when it refuses.
pub(crate) async fn post_config(url: &str, config: &str) -> Result<(), ClientError> {
    let init = Object::new();
    let headers = Object::new();
    set(&headers, "Content-Type", &"application/json".into());
    set(&init, "method", &"POST".into());
    set(&init, "headers", &headers);
    set(&init, "body", &config.into());
    let unreachable = |e: JsValue| ClientError::Connect {
        url: url.to_owned(),
        reason: crate::describe(&e),
    };
    let response: Response = JsFuture::from(global_fetch(url, &init))
        .await
        .map_err(unreachable)?
        .unchecked_into();
    if response.ok() {
        return Ok(());
    }
    let body = match response.text() {
        Ok(text) => JsFuture::from(text)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    // The server answers {"error": "..."}; anything else is shown as it came.
    let reason = JSON::parse(&body)
        .ok()
        .filter(JsValue::is_object)
        .and_then(|v| Reflect::get(&v, &"error".into()).ok())
        .and_then(|e| e.as_string())
        .unwrap_or_else(|| format!("HTTP {}: {body}", response.status()));
    Err(ClientError::Config(reason))
}

fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).expect("setting a field of a plain object");
}
