//! What goes wrong in the client; each becomes a JS `Error` with this text.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClientError {
    #[error("connectionUrl is required: the http(s) or ws(s) URL of a claude-agent-server")]
    NoUrl,
    #[error("connectionUrl {0:?} is not an http://, https://, ws:// or wss:// URL of a server")]
    Url(String),
    #[error("Invalid client options: {0}")]
    Options(String),
    #[error("Failed to configure server: {0}")]
    Config(String),
    #[error("Could not connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The server's own words, e.g. "Server already has an active connection".
    #[error("The server refused the connection: {0}")]
    Refused(String),
    #[error("WebSocket is not connected")]
    NotConnected,
    #[error("Invalid message: {0}")]
    InvalidMessage(String),
    #[error("{0}")]
    Message(String),
    #[error("start() was already called")]
    AlreadyStarted,
}

impl From<ClientError> for wasm_bindgen::JsValue {
    fn from(error: ClientError) -> Self {
        js_sys::Error::new(&error.to_string()).into()
    }
}
