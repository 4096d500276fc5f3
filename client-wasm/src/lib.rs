//! The claude-agent-server client for browsers and Node: `ClaudeAgentClient`, a drop-in
//! replacement for the original TypeScript client, with sessions and reconnects; and the
//! sessions' REST functions. This file is only the JS-facing surface; the logic is in the
//! modules.

mod backoff;
mod check;
mod client;
mod controls;
mod dispatch;
mod endpoints;
mod error;
mod handlers;
mod http;
mod messages;
mod options;
mod outgoing;
mod prompts;
mod sessions;
mod socket;
mod state;
mod timer;

use js_sys::{Function, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::future_to_promise;

use client::Client;
use endpoints::Endpoints;
pub use error::ClientError;
pub use options::ClaudeAgentClientOptions;
use options::ClientOptions;
pub use state::{CloseInfo, ConnectionState};

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

    /// Configures the server (when config options were given) or creates the session
    /// (`session: "new"`), and connects; resolves once the server has accepted the connection.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn start(&self) -> Promise {
        self.client.start()
    }

    /// Sends a client message (`user_message`, `interrupt`, …); throws if it is malformed or
    /// not connected.
    pub fn send(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientMessage")] message: &JsValue,
    ) -> Result<(), ClientError> {
        self.client.send(&outgoing::checked(message)?)
    }

    /// Sends `text` as a user message.
    #[wasm_bindgen(js_name = sendText)]
    pub fn send_text(&self, text: &str) -> Result<(), ClientError> {
        self.client.send(&outgoing::text_message(text).into())
    }

    /// Interrupts the running turn.
    pub fn interrupt(&self) -> Result<(), ClientError> {
        self.client.send(&outgoing::INTERRUPT.into())
    }

    /// Calls `handler` with each permission prompt of the session that waits for an answer
    /// (those waiting when the client connects too), once per prompt; what it returns, or its
    /// promise resolves with, is sent as the answer, unless the prompt was resolved meanwhile.
    /// Nothing (`undefined`, `null`) leaves the prompt to the next handler, or another client.
    /// Returns a function that unsubscribes.
    #[wasm_bindgen(js_name = onPermissionRequest, unchecked_return_type = "() => void")]
    pub fn on_permission_request(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PermissionHandler")] handler: Function,
    ) -> Function {
        self.client.on_permission_request(handler)
    }

    /// Answers the permission prompt `requestId` with `decision`; throws if the decision is
    /// malformed or the client is not connected.
    #[wasm_bindgen(js_name = respondToPermission)]
    pub fn respond_to_permission(
        &self,
        #[wasm_bindgen(js_name = requestId)] request_id: &str,
        #[wasm_bindgen(unchecked_param_type = "PermissionDecision")] decision: &JsValue,
    ) -> Result<(), ClientError> {
        prompts::respond(&self.client, request_id, decision)
    }

    /// Switches the session to `model` (`null`: the default) from its next turn; resolves with
    /// the CLI's answer, or rejects with its error.
    #[wasm_bindgen(js_name = setModel, unchecked_return_type = "Promise<ControlResult>")]
    pub fn set_model(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | null")] model: &JsValue,
    ) -> Promise {
        controls::send(&self.client, "set_model", Some(("model", model)))
    }

    /// Switches the session's permission mode; resolves with the CLI's answer, or rejects with
    /// its error.
    #[wasm_bindgen(js_name = setPermissionMode, unchecked_return_type = "Promise<ControlResult>")]
    pub fn set_permission_mode(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PermissionMode")] mode: &JsValue,
    ) -> Promise {
        controls::send(&self.client, "set_permission_mode", Some(("mode", mode)))
    }

    /// Sets the session's thinking budget (`null`: the default); resolves with the CLI's answer,
    /// or rejects with its error.
    #[wasm_bindgen(
        js_name = setMaxThinkingTokens,
        unchecked_return_type = "Promise<ControlResult>"
    )]
    pub fn set_max_thinking_tokens(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | null")] tokens: &JsValue,
    ) -> Promise {
        let field = ("max_thinking_tokens", tokens);
        controls::send(&self.client, "set_max_thinking_tokens", Some(field))
    }

    /// Withdraws the message `uuid` while it waits behind the running turn; rejects if it is
    /// not queued (it has started, ended, or was never sent).
    #[wasm_bindgen(js_name = cancelMessage, unchecked_return_type = "Promise<ControlResult>")]
    pub fn cancel_message(&self, uuid: &str) -> Promise {
        controls::send(&self.client, "cancel_message", Some(("uuid", &uuid.into())))
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

    /// Closes the connection for good (no reconnect); resolves once closed. Calling it twice is
    /// safe.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn stop(&self) -> Promise {
        self.client.stop()
    }

    /// Calls `handler` with each new state; returns a function that unsubscribes.
    #[wasm_bindgen(js_name = onStateChange, unchecked_return_type = "() => void")]
    pub fn on_state_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: ConnectionState) => void")]
        handler: Function,
    ) -> Function {
        self.client.on_state_change(handler)
    }

    /// Where the connection is: `idle`, `connecting`, `connected`, `reconnecting` or `closed`.
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionState")]
    pub fn state(&self) -> JsValue {
        self.client.state().name().into()
    }

    /// The server's id of the session: the one given, the one `start()` created, or the legacy
    /// one's once connected.
    #[wasm_bindgen(getter = sessionId)]
    pub fn session_id(&self) -> Option<String> {
        self.client.session_id()
    }

    /// Resolves once the client is closed for good: `stop()`, a failed `start()`, or the
    /// connection lost with `reconnect: false`.
    #[wasm_bindgen(getter, unchecked_return_type = "Promise<CloseInfo>")]
    pub fn closed(&self) -> Promise {
        self.client.closed()
    }

    /// `listSessions`, as a static.
    #[wasm_bindgen(js_name = listSessions, unchecked_return_type = "Promise<SessionInfo[]>")]
    pub fn list_sessions(#[wasm_bindgen(js_name = connectionUrl)] connection_url: &str) -> Promise {
        list_sessions(connection_url)
    }

    /// `createSession`, as a static.
    #[wasm_bindgen(js_name = createSession, unchecked_return_type = "Promise<SessionInfo>")]
    pub fn create_session(
        #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "QueryConfig")] config: Option<Object>,
    ) -> Promise {
        create_session(connection_url, config)
    }

    /// `getSession`, as a static.
    #[wasm_bindgen(js_name = getSession, unchecked_return_type = "Promise<SessionInfo>")]
    pub fn get_session(
        #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
        id: String,
    ) -> Promise {
        get_session(connection_url, id)
    }

    /// `deleteSession`, as a static.
    #[wasm_bindgen(js_name = deleteSession, unchecked_return_type = "Promise<void>")]
    pub fn delete_session(
        #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
        id: String,
    ) -> Promise {
        delete_session(connection_url, id)
    }
}

/// The server's sessions, oldest first.
#[wasm_bindgen(js_name = listSessions, unchecked_return_type = "Promise<SessionInfo[]>")]
pub fn list_sessions(#[wasm_bindgen(js_name = connectionUrl)] connection_url: &str) -> Promise {
    let endpoints = Endpoints::from_url(connection_url);
    future_to_promise(async move { Ok(sessions::list(&endpoints?).await?) })
}

/// Creates a session with `config` (the server's default config when absent); resolves with
/// it. Attach to it with `new ClaudeAgentClient({ connectionUrl, sessionId: session.id })`.
#[wasm_bindgen(js_name = createSession, unchecked_return_type = "Promise<SessionInfo>")]
pub fn create_session(
    #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "QueryConfig")] config: Option<Object>,
) -> Promise {
    let endpoints = Endpoints::from_url(connection_url);
    let config = config.map(|config| JSON::stringify(&config).map(String::from));
    future_to_promise(async move {
        let config = config
            .transpose()
            .map_err(|e| ClientError::Options(describe(&e)))?;
        Ok(sessions::create(&endpoints?, config.as_deref()).await?)
    })
}

/// One session, by its id.
#[wasm_bindgen(js_name = getSession, unchecked_return_type = "Promise<SessionInfo>")]
pub fn get_session(
    #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
    id: String,
) -> Promise {
    let endpoints = Endpoints::from_url(connection_url);
    future_to_promise(async move { Ok(sessions::get(&endpoints?, &id).await?) })
}

/// Deletes a session: its agent is stopped and its clients are disconnected.
#[wasm_bindgen(js_name = deleteSession, unchecked_return_type = "Promise<void>")]
pub fn delete_session(
    #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
    id: String,
) -> Promise {
    let endpoints = Endpoints::from_url(connection_url);
    future_to_promise(async move {
        sessions::delete(&endpoints?, &id).await?;
        Ok(JsValue::UNDEFINED)
    })
}

// A permission handler's answer: the protocol's `PermissionAnswer`, less the `request_id` the
// client adds, with the fields of each behavior.
#[wasm_bindgen(typescript_custom_section)]
const PERMISSION_TYPES: &str = r#"
/** An answer to a permission prompt: allow (with the input to run with instead of the model's, and rules that stop the same prompt coming again), or deny (with why, for the model, and whether to end the turn). */
export type PermissionDecision =
  | ({ behavior: "allow" } & Pick<PermissionAnswer, "updated_input" | "updated_permissions">)
  | ({ behavior: "deny" } & Pick<PermissionAnswer, "message" | "interrupt">);
/** Decides on a permission prompt, or leaves it to others by returning nothing. */
export type PermissionHandler = (
  request: PermissionRequest,
) => PermissionDecision | null | undefined | void | Promise<PermissionDecision | null | undefined | void>;
"#;

/// A JS value's message, for error texts.
pub(crate) fn describe(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
