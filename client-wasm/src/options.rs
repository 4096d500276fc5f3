//! `new ClaudeAgentClient(options)`: the original's options and the session ones, read from the
//! JS object.

use claude_agent_protocol::QueryConfig;
use js_sys::{JSON, Object, Reflect};
use tsify::Tsify;
use wasm_bindgen::JsValue;

use crate::{endpoints::Endpoints, error::ClientError};

/// The options of `new ClaudeAgentClient(options)`: the original client's, the session ones, and
/// every agent option of [`QueryConfig`], which `start()` posts to the server's `/config` (or
/// creates the session with, given `session: "new"`).
// Declares the TypeScript type; the object itself is read field by field (`ClientOptions`).
#[derive(Debug, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ClaudeAgentClientOptions {
    /// The server: `http(s)://host:port`, or its `ws(s)://host:port/ws`.
    pub connection_url: String,
    /// Logs each step and every frame to the console.
    #[serde(default)]
    pub debug: Option<bool>,
    /// Told of exceptions thrown by `onMessage` handlers; `console.error` when absent.
    #[tsify(optional, type = "(error: unknown) => void")]
    pub on_error: Option<()>,
    /// The original's E2B options, accepted and ignored: this client creates no sandbox.
    #[serde(default)]
    pub e2b_api_key: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub timeout_ms: Option<f64>,
    /// Attach to this existing session (`/v1/sessions/{id}/ws`); no config is posted.
    #[serde(default)]
    pub session_id: Option<String>,
    /// `"new"`: create a session with the config given (`POST /v1/sessions`), then attach.
    /// Without it or `sessionId`, the server's one legacy session (`/config`, `/ws`).
    #[tsify(optional, type = "\"new\"")]
    pub session: Option<()>,
    /// Reconnect and resume after the connection drops (default `true`).
    #[serde(default)]
    pub reconnect: Option<bool>,
    #[serde(flatten)]
    pub config: QueryConfig,
}

/// The client's options.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClientOptions {
    pub(crate) endpoints: Endpoints,
    pub(crate) debug: bool,
    /// The agent config to post before connecting; `None` when no config option was given.
    pub(crate) config: Option<String>,
    pub(crate) session: Session,
    pub(crate) reconnect: bool,
}

/// Which session the client talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Session {
    /// The server's legacy one: the config posted to `/config`, the socket `/ws`.
    Legacy,
    /// One created by `start()` with the config.
    New,
    /// An existing one.
    Existing(String),
}

impl ClientOptions {
    /// From the options object. Only the agent config fields are posted, unchecked: the server
    /// checks them and refuses a bad one with a reason that `start()` passes on.
    pub(crate) fn from_js(options: &JsValue) -> Result<Self, ClientError> {
        if options.is_undefined() || options.is_null() {
            return Err(ClientError::NoUrl);
        }
        if !options.is_object() {
            return Err(ClientError::Options("options must be an object".to_owned()));
        }
        // `null` and `undefined` both mean absent, as JSON.stringify would have it.
        let get = |key: &str| {
            Reflect::get(options, &key.into())
                .ok()
                .filter(|value| !value.is_undefined() && !value.is_null())
        };
        let url = get("connectionUrl").ok_or(ClientError::NoUrl)?;
        let url = url
            .as_string()
            .ok_or_else(|| ClientError::Options("connectionUrl must be a string".to_owned()))?;
        let flag = |key: &str, default: bool| match get(key) {
            None => Ok(default),
            Some(flag) => flag
                .as_bool()
                .ok_or_else(|| ClientError::Options(format!("{key} must be a boolean"))),
        };
        let debug = flag("debug", false)?;
        let reconnect = flag("reconnect", true)?;
        let config = Object::new();
        let mut posted = false;
        for field in QueryConfig::FIELDS {
            if let Some(value) = get(field) {
                let _ = Reflect::set(&config, &field.into(), &value);
                posted = true;
            }
        }
        let config = match posted {
            false => None,
            true => Some(
                JSON::stringify(&config)
                    .map_err(|e| ClientError::Options(crate::describe(&e)))?
                    .into(),
            ),
        };
        let session = match (get("sessionId"), get("session")) {
            (None, None) => Session::Legacy,
            (None, Some(new)) if new.as_string().as_deref() == Some("new") => Session::New,
            (None, Some(_)) => {
                return Err(ClientError::Options(r#"session must be "new""#.to_owned()));
            }
            (Some(id), None) => Session::Existing(
                id.as_string()
                    .ok_or_else(|| ClientError::Options("sessionId must be a string".to_owned()))?,
            ),
            (Some(_), Some(_)) => {
                return Err(ClientError::Options(
                    r#"give sessionId (an existing session) or session: "new", not both"#
                        .to_owned(),
                ));
            }
        };
        // Config options would be silently dropped: an existing session keeps its own.
        if matches!(session, Session::Existing(_)) && config.is_some() {
            return Err(ClientError::Options(
                "sessionId attaches to a session as it is configured: give no agent config"
                    .to_owned(),
            ));
        }
        Ok(Self {
            endpoints: Endpoints::from_url(&url)?,
            debug,
            config,
            session,
            reconnect,
        })
    }
}
