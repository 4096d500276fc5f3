//! The claude-agent-server client for browsers and Node: `ClaudeAgentClient`, a drop-in
//! replacement for the original TypeScript client. This file is only the JS-facing surface;
//! the logic is in the modules.

mod check;
mod client;
mod dispatch;
mod endpoints;
mod error;
mod handlers;
mod http;
mod messages;
mod options;
mod socket;

use claude_agent_protocol::{ClientMessage, SdkUserMessage};
use js_sys::{Function, JSON, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use client::Client;
pub use error::ClientError;
pub use options::ClaudeAgentClientOptions;
use options::ClientOptions;

/// A connection to a claude-agent-server.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ClaudeAgentClient {
    client: Client,
}

#[wasm_bindgen]
impl ClaudeAgentClient {
    /// `connectionUrl` (required), `anthropicApiKey`, `debug`, `onError`, and any agent config
    /// (`systemPrompt`, `model`, `allowedTools`, ...), which `start()` posts to the server.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ClaudeAgentClientOptions")] options: &JsValue,
    ) -> Result<ClaudeAgentClient, ClientError> {
        let on_error = Reflect::get(options, &"onError".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        Ok(Self {
            client: Client::new(ClientOptions::from_js(options)?, on_error),
        })
    }

    /// Configures the server (when config options were given) and connects; resolves once the
    /// server has accepted the connection.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn start(&self) -> Promise {
        self.client.start()
    }

    /// Sends a `user_message` or `interrupt`; throws if it is malformed or not connected.
    pub fn send(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientMessage")] message: &JsValue,
    ) -> Result<(), ClientError> {
        check::check_message(message).map_err(|e| ClientError::InvalidMessage(e.to_string()))?;
        let text =
            JSON::stringify(message).map_err(|e| ClientError::InvalidMessage(describe(&e)))?;
        self.client.send(&text)
    }

    /// Sends `text` as a user message.
    #[wasm_bindgen(js_name = sendText)]
    pub fn send_text(&self, text: &str) -> Result<(), ClientError> {
        self.send_built(&ClientMessage::UserMessage {
            data: SdkUserMessage::text(text),
        })
    }

    /// Interrupts the running turn.
    pub fn interrupt(&self) -> Result<(), ClientError> {
        self.send_built(&ClientMessage::Interrupt)
    }

    /// Calls `handler` with every frame from the server; returns a function that unsubscribes.
    #[wasm_bindgen(js_name = onMessage, unchecked_return_type = "() => void")]
    pub fn on_message(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(message: ServerMessage) => void")]
        handler: Function,
    ) -> Function {
        self.client.on_message(handler)
    }

    /// The frames from the server from now on, for `for await`; the loop ends when the
    /// connection closes.
    #[wasm_bindgen(unchecked_return_type = "AsyncIterableIterator<ServerMessage>")]
    pub fn messages(&self) -> js_sys::Object {
        self.client.messages()
    }

    /// Closes the connection; resolves once closed. Calling it twice is safe.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn stop(&self) -> Promise {
        self.client.stop()
    }
}

impl ClaudeAgentClient {
    /// Sends a message built from the protocol's types, valid by construction.
    fn send_built(&self, message: &ClientMessage) -> Result<(), ClientError> {
        let text = serde_json::to_string(message).expect("a client message serializes");
        self.client.send(&text.into())
    }
}

/// A JS value's message, for error texts.
pub(crate) fn describe(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
