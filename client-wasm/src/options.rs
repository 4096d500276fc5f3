//! `new ClaudeAgentClient(options)`: the original's options and the session ones, read from the
//! JS object.

use claude_agent_protocol::QueryConfig;
use js_sys::{JSON, Object, Reflect};
use tsify::Tsify;
use wasm_bindgen::JsValue;

use crate::{endpoints::Endpoints, error::ClientError, sandbox::SandboxOptions};

/// The options of `new ClaudeAgentClient(options)`: the original client's, the session ones, and
/// every agent option of [`QueryConfig`], which `start()` posts to the server's `/config` (or
/// creates the session with, given `session: "new"`).
// Declares the TypeScript type; the object itself is read field by field (`ClientOptions`).
#[derive(Debug, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ClaudeAgentClientOptions {
    /// The server: `http(s)://host:port`, or its `ws(s)://host:port/ws`. Without it, `start()`
    /// creates an E2B sandbox running one, as the original client does.
    #[serde(default)]
    pub connection_url: Option<String>,
    /// The server's token (in Node, `CLAUDE_AGENT_TOKEN` when absent): sent as
    /// `Authorization: Bearer` and in the WebSocket's subprotocols. None for a server started
    /// with `--no-auth`. In E2B mode the client makes the sandbox's own.
    #[serde(default)]
    pub token: Option<String>,
    /// Logs each step and every frame to the console.
    #[serde(default)]
    pub debug: Option<bool>,
    /// Told of exceptions thrown by `onMessage` handlers; `console.error` when absent.
    #[tsify(optional, type = "(error: unknown) => void")]
    pub on_error: Option<()>,
    /// E2B mode: the E2B API key (in Node, `E2B_API_KEY` when absent).
    #[serde(default)]
    pub e2b_api_key: Option<String>,
    /// E2B mode: the sandbox template (default `"claude-agent-server"`).
    #[serde(default)]
    pub template: Option<String>,
    /// E2B mode: the sandbox's lifetime in milliseconds (default 300000, five minutes).
    #[serde(default)]
    pub timeout_ms: Option<f64>,
    /// E2B mode: how long to wait for the server in a new sandbox to be up, in milliseconds
    /// (default 60000).
    #[serde(default)]
    pub ready_timeout_ms: Option<f64>,
    /// E2B mode: E2B's API (in Node, `E2B_API_URL` when absent; default
    /// `https://api.<e2bDomain>`). A self-hosted E2B's, or a mock's.
    #[serde(default)]
    pub e2b_api_url: Option<String>,
    /// E2B mode: the domain of sandbox hosts (in Node, `E2B_DOMAIN` when absent; default the
    /// one E2B answers with, else `e2b.app`).
    #[serde(default)]
    pub e2b_domain: Option<String>,
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
    /// The agent's config; in E2B mode `anthropicApiKey` is `ANTHROPIC_API_KEY` in Node when
    /// absent.
    #[serde(flatten)]
    pub config: QueryConfig,
}

/// How the sessions' functions (`listSessions`, …) reach a server.
#[derive(Debug, Tsify)]
pub struct ServerOptions {
    /// The server's token (in Node, `CLAUDE_AGENT_TOKEN` when absent); none for a server
    /// started with `--no-auth`.
    #[serde(default)]
    pub token: Option<String>,
}

/// The client's options.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClientOptions {
    pub(crate) server: Server,
    pub(crate) debug: bool,
    /// The agent config to post before connecting; `None` when no config option was given.
    pub(crate) config: Option<String>,
    pub(crate) session: Session,
    pub(crate) reconnect: bool,
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Server {
    /// At `connectionUrl`.
    At(Endpoints),
    /// In an E2B sandbox that `start()` creates.
    Sandbox(SandboxOptions),
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
    /// From the options object (none at all: E2B mode with the defaults, as the original). Only
    /// the agent config fields are posted, unchecked: the server checks them and refuses a bad
    /// one with a reason that `start()` passes on.
    pub(crate) fn from_js(options: &JsValue) -> Result<Self, ClientError> {
        let options = match options.is_undefined() || options.is_null() {
            true => Object::new().into(),
            false => options.clone(),
        };
        if !options.is_object() {
            return Err(ClientError::Options("options must be an object".to_owned()));
        }
        let options = Options(options);
        let server = match options.string("connectionUrl")? {
            Some(url) => {
                let token = options.string_or_env("token", "CLAUDE_AGENT_TOKEN")?;
                Server::At(Endpoints::from_url(&url)?.with_token(token))
            }
            None if options.get("token").is_some() => {
                return Err(ClientError::Options(
                    "token is for the server at connectionUrl: in E2B mode the client makes \
                     the sandbox's own"
                        .to_owned(),
                ));
            }
            None => Server::Sandbox(SandboxOptions {
                api_key: options.string_or_env("e2bApiKey", "E2B_API_KEY")?,
                anthropic_api_key: options.string_or_env("anthropicApiKey", "ANTHROPIC_API_KEY")?,
                template: (options.string("template")?)
                    .unwrap_or_else(|| "claude-agent-server".to_owned()),
                timeout_ms: options.number("timeoutMs")?.unwrap_or(300_000.0),
                ready_timeout_ms: options.number("readyTimeoutMs")?.unwrap_or(60_000.0),
                api_url: options.string_or_env("e2bApiUrl", "E2B_API_URL")?,
                domain: options.string_or_env("e2bDomain", "E2B_DOMAIN")?,
            }),
        };
        let debug = options.flag("debug", false)?;
        let reconnect = options.flag("reconnect", true)?;
        let config = Object::new();
        let mut posted = false;
        for field in QueryConfig::FIELDS {
            if let Some(value) = options.get(field) {
                let _ = Reflect::set(&config, &field.into(), &value);
                posted = true;
            }
        }
        // In E2B mode the key may come from Node's environment: the sandbox's server needs it.
        if let Server::Sandbox(SandboxOptions {
            anthropic_api_key: Some(key),
            ..
        }) = &server
        {
            let _ = Reflect::set(&config, &"anthropicApiKey".into(), &key.into());
            posted = true;
        }
        let config = match posted {
            false => None,
            true => Some(
                JSON::stringify(&config)
                    .map_err(|e| ClientError::Options(crate::describe(&e)))?
                    .into(),
            ),
        };
        let session = match (options.string("sessionId")?, options.get("session")) {
            (None, None) => Session::Legacy,
            (None, Some(new)) if new.as_string().as_deref() == Some("new") => Session::New,
            (None, Some(_)) => {
                return Err(ClientError::Options(r#"session must be "new""#.to_owned()));
            }
            (Some(id), None) => Session::Existing(id),
            (Some(_), Some(_)) => {
                return Err(ClientError::Options(
                    r#"give sessionId (an existing session) or session: "new", not both"#
                        .to_owned(),
                ));
            }
        };
        if matches!(session, Session::Existing(_)) && matches!(server, Server::Sandbox(_)) {
            return Err(ClientError::Options(
                "sessionId is a session of the server at connectionUrl: a new E2B sandbox has none"
                    .to_owned(),
            ));
        }
        // Config options would be silently dropped: an existing session keeps its own.
        if matches!(session, Session::Existing(_)) && config.is_some() {
            return Err(ClientError::Options(
                "sessionId attaches to a session as it is configured: give no agent config"
                    .to_owned(),
            ));
        }
        Ok(Self {
            server,
            debug,
            config,
            session,
            reconnect,
        })
    }
}

/// The server at `url`, with the token of `options` (a [`ServerOptions`], or undefined).
pub(crate) fn server_at(url: &str, options: &JsValue) -> Result<Endpoints, ClientError> {
    let token = Options(options.clone()).string_or_env("token", "CLAUDE_AGENT_TOKEN")?;
    Ok(Endpoints::from_url(url)?.with_token(token))
}

/// The options object, read field by field.
struct Options(JsValue);

impl Options {
    /// A field; `null` and `undefined` both mean absent, as JSON.stringify would have it.
    fn get(&self, key: &str) -> Option<JsValue> {
        Reflect::get(&self.0, &key.into())
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<String>, ClientError> {
        self.get(key)
            .map(|value| value.as_string().ok_or_else(|| wrong(key, "a string")))
            .transpose()
    }

    /// A string field, else (in Node) the environment variable `env`, only read then; empty
    /// counts as absent, as the original's `option || process.env.X` has it.
    fn string_or_env(&self, key: &str, env: &str) -> Result<Option<String>, ClientError> {
        let given = self.string(key)?.filter(|value| !value.is_empty());
        Ok(given.or_else(|| node_env(env)))
    }

    /// A positive number of milliseconds.
    fn number(&self, key: &str) -> Result<Option<f64>, ClientError> {
        self.get(key)
            .map(|value| {
                (value.as_f64())
                    .filter(|ms| ms.is_finite() && *ms > 0.0)
                    .ok_or_else(|| wrong(key, "a positive number"))
            })
            .transpose()
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, ClientError> {
        match self.get(key) {
            None => Ok(default),
            Some(flag) => flag.as_bool().ok_or_else(|| wrong(key, "a boolean")),
        }
    }
}

fn wrong(key: &str, what: &str) -> ClientError {
    ClientError::Options(format!("{key} must be {what}"))
}

/// `process.env[name]` in Node; nothing in a browser, which has no `process`.
fn node_env(name: &str) -> Option<String> {
    let process = Reflect::get(&js_sys::global(), &"process".into()).ok()?;
    let env = Reflect::get(&process, &"env".into()).ok()?;
    let value = Reflect::get(&env, &name.into()).ok()?.as_string()?;
    (!value.is_empty()).then_some(value)
}
