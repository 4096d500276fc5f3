//! HTTP requests through the runtime's own `fetch` (browsers, Node 18+): the server's routes
//! (`/config`, `/v1/sessions…`, the files API) and E2B's. Requests are built here on the `init`
//! object `fetch` takes; sending one and reading its answer is a chain of promises, written in
//! JS, where it is a few lines (each await in Rust costs the `.wasm` hundreds of bytes).

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::{JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;

use crate::error::ClientError;

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = send)]
    fn send_request(url: &str, init: &Object, action: &str, read: &str) -> Promise;
}

/// A request, built on the `init` object `fetch` takes.
#[derive(Debug)]
pub(crate) struct Request {
    url: String,
    init: Object,
    headers: Object,
}

impl Request {
    pub(crate) fn new(method: &str, url: String) -> Self {
        let (init, headers) = (Object::new(), Object::new());
        set(&init, "method", &method.into());
        set(&init, "headers", &headers);
        Self { url, init, headers }
    }

    pub(crate) fn header(self, name: &str, value: &str) -> Self {
        set(&self.headers, name, &value.into());
        self
    }

    /// `Authorization: Bearer <token>`, when there is one: a server started without auth
    /// (`--no-auth`, as the original) gets exactly what it got before.
    pub(crate) fn bearer(self, token: Option<&str>) -> Self {
        match token {
            Some(token) => self.header("Authorization", &format!("Bearer {token}")),
            None => self,
        }
    }

    /// A JSON body.
    pub(crate) fn json(self, body: &str) -> Self {
        self.header("Content-Type", "application/json")
            .body(&body.into())
    }

    /// Any body `fetch` takes: a string, a `Blob`, an `ArrayBuffer`, a typed array.
    pub(crate) fn body(self, body: &JsValue) -> Self {
        set(&self.init, "body", body);
        self
    }

    /// An `AbortSignal` that ends the request, and the reading of its answer.
    pub(crate) fn signal(self, signal: &JsValue) -> Self {
        set(&self.init, "signal", signal);
        self
    }

    /// Sends it: the promise of its answer read as `read` says (`"json"`, `"text"`, `"blob"`,
    /// `"response"`), rejected with an `Error` saying "Failed to {action}: {the reason}".
    pub(crate) fn promise(self, action: &str, read: &str) -> Promise {
        send_request(&self.url, &self.init, action, read)
    }

    /// Sends it: the answer's JSON (`undefined` when it has none), or why not.
    pub(crate) async fn send(self, action: &str) -> Result<JsValue, ClientError> {
        JsFuture::from(self.promise(action, "json"))
            .await
            .map_err(ClientError::Js)
    }
}

pub(crate) fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).expect("setting a field of a plain object");
}
