//! What goes wrong in the client; each becomes a JS `Error` with this text (and the server's
//! `code`, when it gave one).

use js_sys::Reflect;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClientError {
    #[error("connectionUrl is required: the http(s) or ws(s) URL of a claude-agent-server")]
    NoUrl,
    #[error("connectionUrl {0:?} is not an http://, https://, ws:// or wss:// URL of a server")]
    Url(String),
    #[error("Invalid client options: {0}")]
    Options(String),
    /// The server refused a request, e.g. "Failed to configure server: Invalid config field …".
    #[error("Failed to {action}: {reason}")]
    Refused {
        action: &'static str,
        reason: String,
        /// The server's stable code, e.g. `session_not_found`.
        code: Option<String>,
    },
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
}

impl ClientError {
    /// The server's code for a refusal, e.g. `session_not_found`.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

impl From<ClientError> for wasm_bindgen::JsValue {
    fn from(error: ClientError) -> Self {
        let js = js_sys::Error::new(&error.to_string());
        if let Some(code) = error.code() {
            let _ = Reflect::set(&js, &"code".into(), &code.into());
        }
        js.into()
    }
}
