//! A scripted Anthropic Messages API for running the real `claude` CLI offline.

mod recorder;
mod render;
mod request;
mod routes;
mod script;

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{net::TcpListener, task::JoinHandle};

use recorder::Recorder;
pub use request::RecordedRequest;

/// A mock Messages API on 127.0.0.1; it stops when dropped.
///
/// Replies are scripted by markers in the last user message (see [`crate::Marker`]).
#[derive(Debug)]
pub struct MockApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

/// State the request handlers share with the test.
#[derive(Debug, Default)]
struct Shared {
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
    /// Binds a free port and serves in a background task.
    ///
    /// # Panics
    /// If no local port can be bound: a test cannot go on without its mock.
    pub async fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind mock api");
        let addr = listener.local_addr().expect("mock api address");
        let shared = Arc::new(Shared::default());
        let app = routes::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("mock api stopped: {err}");
            }
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`, for `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every `/v1/messages` request so far, oldest first.
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
        let request = self.wait_for_request(asking, crate::PATIENCE).await;
        let request = request.unwrap_or_else(|| panic!("no request asked {asked:?}"));
        request.body.to_string().contains(earlier)
    }
}

impl Drop for MockApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}
