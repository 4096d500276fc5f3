//! What goes wrong in the client; each becomes a JS `Error` with this text (a refused request's
//! is the `Error` that `http.rs` made, with the server's `code` and the HTTP `status`).

use js_sys::Reflect;
use thiserror::Error;
use wasm_bindgen::JsValue;

#[derive(Debug, Error, PartialEq)]
pub enum ClientError {
    #[error("connectionUrl {0:?} is not an http://, https://, ws:// or wss:// URL of a server")]
    Url(String),
    #[error("Invalid client options: {0}")]
    Options(String),
    /// A request refused or failed, e.g. "Failed to configure server: Invalid config field …":
    /// the JS `Error` as it is.
    #[error("{}", crate::describe(.0))]
    Js(JsValue),
    #[error("Could not connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The server's own words, e.g. "Server already has an active connection".
    #[error("The server refused the connection: {0}")]
    ConnectionRefused(String),
    #[error("WebSocket is not connected")]
    NotConnected,
    #[error("Invalid message: {0}")]
    InvalidMessage(String),
    #[error("{0}")]
    Message(String),
    #[error("start() was already called")]
    AlreadyStarted,
    #[error("stop() was called before the connection was made")]
    Stopped,
    /// A files method in E2B mode before `start()` (the original's words), or after `stop()`.
    #[error("Sandbox not initialized: call start() first")]
    NoSandbox,
    /// A files method of a client that will create its session, before `start()` did.
    #[error("No session yet: call start() first")]
    NoSession,
}

impl ClientError {
    /// The server's code for a refusal, e.g. `session_not_found`.
    pub fn code(&self) -> Option<String> {
        self.field("code")?.as_string()
    }

    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<f64> {
        self.field("status")?.as_f64()
    }

    fn field(&self, name: &str) -> Option<JsValue> {
        match self {
            Self::Js(error) => Reflect::get(error, &name.into()).ok(),
            _ => None,
        }
    }
}

/// A promise rejected with `error`.
pub(crate) fn rejected(error: ClientError) -> js_sys::Promise {
    js_sys::Promise::reject(&error.into())
}

impl From<ClientError> for JsValue {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Js(error) => error,
            error => js_sys::Error::new(&error.to_string()).into(),
        }
    }
}
