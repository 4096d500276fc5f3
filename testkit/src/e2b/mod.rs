//! A mock of E2B's control plane, built from E2B's OpenAPI spec, whose sandboxes run the real
//! server: for the client's E2B mode without E2B.
//!
//! One listener on 127.0.0.1 serves both of E2B's faces. Its control plane (`X-API-Key`) creates
//! (`POST /sandboxes`, `/v2/sandboxes`), describes, lists (`GET /v2/sandboxes`), times out and
//! kills sandboxes, checking every request body, and its own every answer, against the spec. A
//! request whose `Host` is `<port>-<sandboxID>.localhost:<port of the mock>` goes to that
//! sandbox instead, as E2B's proxy routes `<port>-<sandboxID>.e2b.app`.
//!
//! Every sandbox has a folder of its own for its `/`, and its envd on [`ENVD_PORT`], which
//! writes files there for whoever holds the `envdAccessToken` the create answered. A sandbox of
//! a server template runs `claude-agent-server` on [`SERVER_PORT`] as the template's start
//! command does (E2B snapshots it running, so the request's `envVars` never reach it): waiting
//! for its token in [`TOKEN_FILE`], its agent talking to a scripted Messages API. One of
//! [`NEVER_READY`] has nothing on that port. `GET /_mock/sandboxes` lists every sandbox ever
//! created, with the requests it got, for tests.

mod answer;
mod control;
mod envd;
mod proxy;
mod registry;
mod sandbox;
mod spec;

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::Arc,
};

use tokio::{net::TcpListener, task::JoinHandle};

pub use envd::ENVD_PORT;
pub use registry::{EnvdCall, KilledBy, RecordedCall, SandboxRecord, SandboxState};
pub use sandbox::{NEVER_READY, SERVER_PORT, TOKEN_FILE, WORKSPACE};
pub use spec::{Mismatch, Operation, Spec, SpecError};

use crate::{MockApi, PATIENCE};
use control::Operations;
use registry::Registry;
use sandbox::Images;

/// The mock's API key unless told another.
pub const DEFAULT_API_KEY: &str = "e2b_test_key";
/// The template that runs the server unless told others: the client's default.
pub const DEFAULT_TEMPLATE: &str = "claude-agent-server";

/// How the mock starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// What `X-API-Key` must be.
    pub api_key: String,
    /// The templates whose sandboxes run the server; any other (but [`NEVER_READY`]) is unknown.
    pub templates: Vec<String>,
    /// The `claude-agent-server` binary.
    pub server: PathBuf,
    /// The agent the server runs: the real `claude`, or `fake-agent`.
    pub agent: PathBuf,
}

impl Config {
    /// The default key and template, with these binaries.
    pub fn new(server: PathBuf, agent: PathBuf) -> Self {
        Self {
            api_key: DEFAULT_API_KEY.to_owned(),
            templates: vec![DEFAULT_TEMPLATE.to_owned()],
            server,
            agent,
        }
    }
}

/// The mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// What the routes and the proxy share.
#[derive(Debug)]
struct Shared {
    api_key: String,
    /// `localhost:<port>`: what sandbox hosts end with, and what creates answer as `domain`.
    domain: String,
    images: Images,
    operations: Operations,
    registry: Arc<Registry>,
}

/// The running mock, stopped (with every sandbox) on drop.
#[derive(Debug)]
pub struct E2bMock {
    addr: SocketAddr,
    shared: Arc<Shared>,
    messages_api: MockApi,
    task: JoinHandle<()>,
}

impl E2bMock {
    /// Starts the mock on a free port of 127.0.0.1, served in tasks of the current runtime.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let operations = Operations::load(&Spec::load()?)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let messages_api = MockApi::start().await;
        let shared = Arc::new(Shared {
            api_key: config.api_key,
            domain: format!("localhost:{}", addr.port()),
            images: Images {
                server: config.server,
                agent: config.agent,
                templates: config.templates,
                messages_api: messages_api.base_url(),
            },
            operations,
            registry: Registry::new(),
        });
        let control = control::router(Arc::clone(&shared));
        let task = tokio::spawn(proxy::serve(listener, Arc::clone(&shared), control));
        Ok(Self {
            addr,
            shared,
            messages_api,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`: the control plane, for a client's E2B API URL.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `localhost:<port>`: the sandboxes' domain, their ports at `<port>-<sandboxID>.<domain>`.
    pub fn domain(&self) -> &str {
        &self.shared.domain
    }

    /// The scripted Messages API the sandboxes' agents talk to.
    pub fn messages_api(&self) -> &MockApi {
        &self.messages_api
    }

    /// Every sandbox created so far, as `GET /_mock/sandboxes` lists them.
    pub fn sandboxes(&self) -> Vec<SandboxRecord> {
        self.shared.registry.records()
    }

    /// Waits until `check` holds of the sandboxes (each change is an event); them then.
    ///
    /// # Panics
    /// If it does not hold within [`PATIENCE`]: the test fails instead of hanging.
    pub async fn wait_for(&self, check: impl Fn(&[SandboxRecord]) -> bool) -> Vec<SandboxRecord> {
        let waiting = self.shared.registry.wait_for(check);
        match tokio::time::timeout(PATIENCE, waiting).await {
            Ok(records) => records,
            Err(_) => panic!("the sandboxes are still {:?}", self.sandboxes()),
        }
    }

    /// Stops serving, kills every running sandbox and waits for their servers to exit.
    pub async fn shutdown(self) {
        self.task.abort();
        for machine in self.shared.registry.kill_all(KilledBy::Shutdown) {
            machine.stop().await;
        }
    }
}

impl Drop for E2bMock {
    fn drop(&mut self) {
        self.task.abort();
        // Dropping a server sends it SIGTERM; after shutdown() there is none left.
        drop(self.shared.registry.kill_all(KilledBy::Shutdown));
    }
}
