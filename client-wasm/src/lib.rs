//! The claude-agent-server client for browsers and Node: `ClaudeAgentClient`, a drop-in
//! replacement for the original TypeScript client (with its E2B sandbox and its files
//! methods), with sessions and reconnects; and the sessions' REST functions. This file is only
//! the JS-facing surface; the logic is in the modules.

mod backoff;
mod check;
mod client;
mod controls;
mod dispatch;
mod endpoints;
mod error;
mod files;
mod handlers;
mod http;
mod messages;
mod options;
mod outgoing;
mod prompts;
mod sandbox;
mod sessions;
mod socket;
mod state;
mod timer;
mod watch;

use js_sys::{Function, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::future_to_promise;

use client::Client;
pub use error::ClientError;
use options::ClientOptions;
pub use options::{ClaudeAgentClientOptions, ServerOptions};
pub use state::{CloseInfo, ConnectionState};

/// A connection to a claude-agent-server.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ClaudeAgentClient {
    client: Client,
}

#[wasm_bindgen]
impl ClaudeAgentClient {
    /// `connectionUrl` (else E2B mode: `start()` creates a sandbox), `token`,
    /// `anthropicApiKey`, `debug`, `onError`, and any agent config (`systemPrompt`, `model`,
    /// `allowedTools`, ...), which `start()` posts to the server.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "ClaudeAgentClientOptions")]
        options: &JsValue,
    ) -> Result<ClaudeAgentClient, ClientError> {
        let on_error = Reflect::get(options, &"onError".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        Ok(Self {
            client: Client::new(ClientOptions::from_js(options)?, on_error),
        })
    }

    /// In E2B mode creates the sandbox and waits for its server; configures the server (when
    /// config options were given) or creates the session (`session: "new"`), and connects;
    /// resolves once the server has accepted the connection.
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

    /// Closes the connection for good (no reconnect), ends the watches, and in E2B mode kills
    /// the sandbox; resolves once done. Calling it twice is safe.
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

    /// Writes `content` to `path` in the session's workspace (a relative path is its `cwd`'s),
    /// creating its folders; resolves with the file's entry.
    #[wasm_bindgen(js_name = writeFile, unchecked_return_type = "Promise<EntryInfo>")]
    pub fn write_file(
        &self,
        path: &str,
        #[wasm_bindgen(unchecked_param_type = "string | Blob | ArrayBuffer | Uint8Array")]
        content: &JsValue,
    ) -> Promise {
        self.files(|files| files.write(path, content))
    }

    // Typed by the overloads in FILES_TYPES.
    #[wasm_bindgen(js_name = readFile, skip_typescript)]
    pub fn read_file(&self, path: &str, format: &JsValue) -> Promise {
        self.files(|files| files.read(path, format))
    }

    /// Removes the file, or the folder with its contents, at `path`.
    #[wasm_bindgen(js_name = removeFile, unchecked_return_type = "Promise<void>")]
    pub fn remove_file(&self, path: &str) -> Promise {
        self.files(|files| files.remove(path))
    }

    /// The entries of the folder `path` (default `"."`, the workspace), sorted by name.
    #[wasm_bindgen(js_name = listFiles, unchecked_return_type = "Promise<EntryInfo[]>")]
    pub fn list_files(&self, path: Option<String>) -> Promise {
        let path = path.unwrap_or_else(|| ".".to_owned());
        self.files(|files| files.list(&path))
    }

    /// Watches the folder `path` (its subfolders too with `recursive: true`): `onEvent` gets
    /// each change, `onExit` the end (with an Error unless stopped). Resolves once the server
    /// has set the watch, with a handle whose `stop()` ends it.
    #[wasm_bindgen(js_name = watchDir, unchecked_return_type = "Promise<WatchHandle>")]
    pub fn watch_dir(
        &self,
        path: &str,
        #[wasm_bindgen(
            js_name = onEvent,
            unchecked_param_type = "(event: FilesystemEvent) => void | Promise<void>"
        )]
        on_event: &Function,
        #[wasm_bindgen(unchecked_optional_param_type = "WatchOpts")] opts: &JsValue,
    ) -> Promise {
        files::watch_dir(&self.client, path, on_event, opts)
    }

    /// `listSessions`, as a static.
    #[wasm_bindgen(js_name = listSessions, unchecked_return_type = "Promise<SessionInfo[]>")]
    pub fn list_sessions(
        #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "ServerOptions")] options: &JsValue,
    ) -> Promise {
        list_sessions(connection_url, options)
    }

    /// `createSession`, as a static.
    #[wasm_bindgen(js_name = createSession, unchecked_return_type = "Promise<SessionInfo>")]
    pub fn create_session(
        #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "QueryConfig")] config: Option<Object>,
        #[wasm_bindgen(unchecked_optional_param_type = "ServerOptions")] options: &JsValue,
    ) -> Promise {
        create_session(connection_url, config, options)
    }

    /// `getSession`, as a static.
    #[wasm_bindgen(js_name = getSession, unchecked_return_type = "Promise<SessionInfo>")]
    pub fn get_session(
        #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
        id: String,
        #[wasm_bindgen(unchecked_optional_param_type = "ServerOptions")] options: &JsValue,
    ) -> Promise {
        get_session(connection_url, id, options)
    }

    /// `deleteSession`, as a static.
    #[wasm_bindgen(js_name = deleteSession, unchecked_return_type = "Promise<void>")]
    pub fn delete_session(
        #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
        id: String,
        #[wasm_bindgen(unchecked_optional_param_type = "ServerOptions")] options: &JsValue,
    ) -> Promise {
        delete_session(connection_url, id, options)
    }
}

impl ClaudeAgentClient {
    /// `call` on the session's files API, or a rejection if the client does not know it yet.
    fn files(&self, call: impl FnOnce(files::Files) -> Promise) -> Promise {
        match self.client.files() {
            Ok(files) => call(files),
            Err(error) => error::rejected(error),
        }
    }
}

/// The server's sessions, oldest first.
#[wasm_bindgen(js_name = listSessions, unchecked_return_type = "Promise<SessionInfo[]>")]
pub fn list_sessions(
    #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "ServerOptions")] options: &JsValue,
) -> Promise {
    let endpoints = options::server_at(connection_url, options);
    future_to_promise(async move { Ok(sessions::list(&endpoints?).await?) })
}

/// Creates a session with `config` (the server's default config when absent); resolves with
/// it. Attach to it with `new ClaudeAgentClient({ connectionUrl, sessionId: session.id })`.
#[wasm_bindgen(js_name = createSession, unchecked_return_type = "Promise<SessionInfo>")]
pub fn create_session(
    #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "QueryConfig")] config: Option<Object>,
    #[wasm_bindgen(unchecked_optional_param_type = "ServerOptions")] options: &JsValue,
) -> Promise {
    let endpoints = options::server_at(connection_url, options);
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
    #[wasm_bindgen(unchecked_optional_param_type = "ServerOptions")] options: &JsValue,
) -> Promise {
    let endpoints = options::server_at(connection_url, options);
    future_to_promise(async move { Ok(sessions::get(&endpoints?, &id).await?) })
}

/// Deletes a session: its agent is stopped and its clients are disconnected.
#[wasm_bindgen(js_name = deleteSession, unchecked_return_type = "Promise<void>")]
pub fn delete_session(
    #[wasm_bindgen(js_name = connectionUrl)] connection_url: &str,
    id: String,
    #[wasm_bindgen(unchecked_optional_param_type = "ServerOptions")] options: &JsValue,
) -> Promise {
    let endpoints = options::server_at(connection_url, options);
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

// The files methods' types, as the e2b SDK's that the original client hands out (its
// `FilesystemEventType` is a value too: npm/events.js, exported beside this module), on the
// server's wire types (`EntryInfo`, `FileEvent`); `readFile`'s overloads, merged into the class.
#[wasm_bindgen(typescript_custom_section)]
const FILES_TYPES: &str = r#"
/** What a change in a watched folder is: the e2b SDK's enum, which the original client re-exports. */
export declare enum FilesystemEventType {
  CHMOD = "chmod",
  CREATE = "create",
  REMOVE = "remove",
  RENAME = "rename",
  WRITE = "write",
}
/** A change in a watched folder, as the e2b SDK's `FilesystemEvent`: `name` relative to the folder (and `path`, absolute). */
export interface FilesystemEvent extends Omit<FileEvent, "type"> {
  type: FilesystemEventType;
}
export interface EntryInfo {
  /** `modified`, as the e2b SDK's `EntryInfo` has it. */
  modifiedTime: Date;
}
/** `watchDir`'s options: watch the subfolders too; told when the watch ends (with an Error unless stopped). */
export interface WatchOpts {
  recursive?: boolean;
  onExit?: (err?: Error) => void | Promise<void>;
}
/** A watch `watchDir` set: `stop()` ends it, and resolves once it has. */
export interface WatchHandle {
  stop(): Promise<void>;
}
export interface ClaudeAgentClient {
  /** The content of the file at `path`, as text (refused if it is not UTF-8) or a `Blob`. */
  readFile(path: string, format?: "text"): Promise<string>;
  readFile(path: string, format: "blob"): Promise<Blob>;
  readFile(path: string, format: "text" | "blob"): Promise<string | Blob>;
}
"#;

/// A JS value's message, for error texts.
pub(crate) fn describe(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
