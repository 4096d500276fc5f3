//! E2B mode: the sandbox that `start()` creates through E2B's REST API (`POST /sandboxes`),
//! hands its server's token, waits for until that server is up, and `stop()` kills
//! (`DELETE /sandboxes/{id}`).
//!
//! Better than the original: the client makes the server's token, so that only this client
//! can drive that agent. E2B resumes a template's snapshot with its server already running, so
//! the create's `envVars` never reach it: the token goes into the file the template's server
//! waits for (`--token-file`), written through the sandbox's envd with the create's
//! `envdAccessToken`; until then the server refuses everything but its health check.

use std::future::Future;

use js_sys::{Date, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsValue, prelude::wasm_bindgen};

use crate::{
    endpoints::Endpoints,
    error::ClientError,
    http::{Request, set},
};

/// The port the server listens on in the template.
const PORT: u16 = 3000;
/// The port of envd, E2B's daemon in every sandbox.
const ENVD_PORT: u16 = 49983;
/// The file the template's server reads its token from.
const TOKEN_FILE: &str = "/home/user/.claude-agent-server/token";

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    /// The token of the server in a new sandbox.
    #[wasm_bindgen(js_name = newToken)]
    fn new_token() -> String;
    fn killed(answer: Promise, closing: &Promise) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    /// A signal that aborts a request after `ms`: a health check must not hang past the
    /// deadline.
    #[wasm_bindgen(js_namespace = AbortSignal, js_name = timeout)]
    fn abort_after(ms: f64) -> JsValue;
}

/// The E2B options, with Node's environment already read for the absent ones.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SandboxOptions {
    pub(crate) api_key: Option<String>,
    pub(crate) anthropic_api_key: Option<String>,
    pub(crate) template: String,
    pub(crate) timeout_ms: f64,
    pub(crate) ready_timeout_ms: f64,
    pub(crate) api_url: Option<String>,
    pub(crate) domain: Option<String>,
}

/// A sandbox created, running (or starting) the server.
#[derive(Debug, Clone)]
pub(crate) struct Sandbox {
    pub(crate) id: String,
    /// Its server, with the token it is to take.
    pub(crate) endpoints: Endpoints,
    /// Its envd, and the token that lets this client write there.
    envd: String,
    envd_token: Option<String>,
    api_url: String,
    api_key: String,
}

impl SandboxOptions {
    /// Creates a sandbox from the template, with the Anthropic key in its environment (for
    /// commands; the server has it with the config).
    pub(crate) async fn create(&self) -> Result<Sandbox, ClientError> {
        // The original's words, first.
        let api_key = self.api_key.clone().ok_or_else(|| {
            ClientError::Message(
                "E2B_API_KEY is required: pass e2bApiKey (or, in Node, set E2B_API_KEY), or the \
                 connectionUrl of a server"
                    .to_owned(),
            )
        })?;
        let anthropic_api_key = self.anthropic_api_key.as_deref().ok_or_else(|| {
            ClientError::Message(
                "ANTHROPIC_API_KEY is required: pass anthropicApiKey (or, in Node, set \
                 ANTHROPIC_API_KEY)"
                    .to_owned(),
            )
        })?;
        let domain = self.domain.as_deref();
        let api_url = match &self.api_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://api.{}", domain.unwrap_or("e2b.app")),
        };
        // Sandbox hosts take the API's scheme: http only for a plain-http self-hosted E2B (or
        // the mock).
        let scheme = if api_url.starts_with("https://") {
            "https"
        } else if api_url.starts_with("http://") {
            "http"
        } else {
            return Err(ClientError::Options(format!(
                "e2bApiUrl {api_url:?} is not an http:// or https:// URL"
            )));
        };
        let env = Object::new();
        set(&env, "ANTHROPIC_API_KEY", &anthropic_api_key.into());
        let metadata = Object::new();
        set(&metadata, "client", &"@claude-agent/client".into());
        let body = Object::new();
        set(&body, "templateID", &self.template.as_str().into());
        set(&body, "timeout", &(self.timeout_ms / 1000.0).ceil().into());
        set(&body, "envVars", &env);
        set(&body, "metadata", &metadata);
        // envd takes only the `envdAccessToken` the answer holds: no one else can write the
        // server's token.
        set(&body, "secure", &true.into());
        let body = String::from(JSON::stringify(&body).expect("a plain object is JSON"));
        let action = format!("create an E2B sandbox from template {:?}", self.template);
        let created = Request::new("POST", format!("{api_url}/sandboxes"))
            .header("X-API-Key", &api_key)
            .json(&body)
            .send(&action)
            .await
            .map_err(|error| match error.status() {
                Some(401.0 | 403.0) => ClientError::Message(
                    "Failed to create an E2B sandbox: E2B refused the API key (e2bApiKey, or \
                     E2B_API_KEY in Node)"
                        .to_owned(),
                ),
                _ => error,
            })?;
        let field = |name: &str| {
            Reflect::get(&created, &name.into())
                .ok()
                .and_then(|value| value.as_string())
        };
        let id = field("sandboxID").ok_or_else(|| {
            ClientError::Message("E2B's answer to creating a sandbox has no sandboxID".to_owned())
        })?;
        let domain = domain
            .map(str::to_owned)
            .or_else(|| field("domain"))
            .unwrap_or_else(|| "e2b.app".to_owned());
        let host = |port| format!("{scheme}://{port}-{id}.{domain}");
        Ok(Sandbox {
            endpoints: Endpoints::from_url(&host(PORT))?.with_token(Some(new_token())),
            envd: host(ENVD_PORT),
            envd_token: field("envdAccessToken"),
            id,
            api_url,
            api_key,
        })
    }
}

impl Sandbox {
    /// Hands the server its token, then waits until it answers its health check, for
    /// `timeout_ms` at most; `pause(ms)` waits between checks (and fails once the client is
    /// stopped).
    pub(crate) async fn start_server<P: Future<Output = Result<(), ClientError>>>(
        &self,
        timeout_ms: f64,
        pause: impl Fn(u32) -> P,
    ) -> Result<(), ClientError> {
        let token = self.endpoints.token().unwrap_or_default();
        let url = format!("{}/files?path={TOKEN_FILE}&username=user", self.envd);
        let mut write = Request::new("POST", url)
            .header("Content-Type", "application/octet-stream")
            .body(&token.into());
        if let Some(access) = &self.envd_token {
            write = write.header("X-Access-Token", access);
        }
        write.send("hand the sandbox's server its token").await?;
        let deadline = Date::now() + timeout_ms;
        let mut delay = 100.0_f64;
        loop {
            let left = deadline - Date::now();
            let check = Request::new("GET", self.endpoints.health())
                .signal(&abort_after(left.clamp(1.0, 10_000.0)))
                .send("check its health");
            let why = match check.await {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            let left = deadline - Date::now();
            if left <= 0.0 {
                // Whole seconds: formatting a float would add 20 KB to the `.wasm`.
                let seconds = (timeout_ms / 1000.0).ceil() as u32;
                return Err(ClientError::Message(format!(
                    "The server in E2B sandbox {} was not ready in {seconds} s: {why}",
                    self.id
                )));
            }
            pause(delay.min(left) as u32).await?;
            delay = (delay * 2.0).min(1_000.0);
        }
    }

    /// Kills it: the promise resolves once it is gone (one gone already counts) and
    /// `closing` has resolved.
    pub(crate) fn kill(&self, closing: &Promise) -> Promise {
        let kill = Request::new("DELETE", format!("{}/sandboxes/{}", self.api_url, self.id))
            .header("X-API-Key", &self.api_key);
        killed(kill.promise("kill the E2B sandbox", "json"), closing)
    }
}
