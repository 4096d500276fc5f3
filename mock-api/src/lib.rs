//! A scripted Anthropic Messages API on 127.0.0.1, which the real `claude` CLI talks to
//! offline (`agent-protocol.md` section 12): the tests' model, scripted by markers in the
//! prompt ([`Marker`]), and the server's `--demo`, which answers anyone with no key yet
//! ([`Script::Demo`]).

mod content;
pub mod demo;
mod markers;
mod plan;
mod recorder;
mod render;
mod request;
mod routes;
mod script;

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{net::TcpListener, task::JoinHandle};

pub use content::text_blocks;
pub use markers::Marker;
use recorder::Recorder;
pub use request::RecordedRequest;

/// How long a test waits for any one thing it expects (the mock's own waits included).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// What the API answers a prompt with no marker, and whether it keeps the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// For tests: it echoes the prompt (`You said: …`) and records every request.
    Echo,
    /// For `--demo`: a reply that says what demo mode is, streamed word by word, or a tool
    /// call for the built-in examples (see [`demo`]). It records nothing, as it runs for as
    /// long as the server does.
    Demo,
}

impl Script {
    /// Whether requests are kept for [`MockApi::requests`] and its waits.
    fn records(self) -> bool {
        self == Self::Echo
    }
}

/// A scripted Messages API on 127.0.0.1; it stops when dropped.
///
/// Replies are scripted by markers in the last user message (see [`Marker`]), and otherwise
/// by its [`Script`].
#[derive(Debug)]
pub struct MockApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

/// State the request handlers share with the test.
#[derive(Debug)]
struct Shared {
    script: Script,
    recorder: Recorder,
    serial: AtomicU64,
}

impl Shared {
    /// Numbers each reply's message, tool use and request ids.
    fn next_serial(&self) -> u64 {
        self.serial.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl MockApi {
    /// The tests' mock ([`Script::Echo`]) on a free port, served in a background task.
    ///
    /// # Panics
    /// If no local port can be bound: a test cannot go on without its mock.
    pub async fn start() -> Self {
        Self::serve(Script::Echo).await.expect("bind mock api")
    }

    /// The API with `script` on a free port of 127.0.0.1, served in a background task of the
    /// current runtime.
    pub async fn serve(script: Script) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            script,
            recorder: Recorder::default(),
            serial: AtomicU64::new(0),
        });
        let app = routes::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("mock api stopped: {err}");
            }
        });
        Ok(Self {
            addr,
            shared,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, for `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every `/v1/messages` request so far, oldest first ([`Script::Echo`] only).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.snapshot()
    }

    /// The first request (already recorded or still to come) for which `matches` holds, or
    /// `None` if there is none within `timeout`.
    pub async fn wait_for_request(
        &self,
        matches: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        self.shared.recorder.wait_for(matches, timeout).await
    }

    /// Whether the request that asked `asked` carried `earlier` along: the agent that sent it
    /// had the conversation before (it resumed, or forked, it). Waits for that request.
    pub async fn sent_history(&self, asked: &str, earlier: &str) -> bool {
        let asking = |r: &RecordedRequest| r.last_user_text().is_some_and(|t| t.contains(asked));
        let request = self.wait_for_request(asking, PATIENCE).await;
        let request = request.unwrap_or_else(|| panic!("no request asked {asked:?}"));
        request.body.to_string().contains(earlier)
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}
