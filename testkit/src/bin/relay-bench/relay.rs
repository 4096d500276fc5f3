//! The path under test: `claude-agent-server` relaying `fake-agent`, and its memory.

use std::{path::Path, time::Duration};

use anyhow::{Context, Result};
use claude_agent_testkit::{TestServer, status_mb};

/// Lets the server finish starting (after its `listening on` line) before idle RSS is read.
const SETTLE: Duration = Duration::from_millis(200);

/// The real server binary on 127.0.0.1, killed on drop.
#[derive(Debug)]
pub(crate) struct Relay {
    server: TestServer,
}

impl Relay {
    pub(crate) async fn start(server: &Path, fake_agent: &Path) -> Self {
        // Quiet logs keep the bench's stderr readable; the server logs nothing per message.
        let env = [("RUST_LOG", "warn")];
        let server = TestServer::start(server, fake_agent, &env, &[]).await;
        tokio::time::sleep(SETTLE).await;
        Self { server }
    }

    pub(crate) fn addr(&self) -> &str {
        &self.server.addr
    }

    /// Resident memory now (`VmRSS`), in MB.
    pub(crate) fn rss_mb(&self) -> Result<f64> {
        self.status_mb("VmRSS:")
    }

    /// The most resident memory so far (`VmHWM`), in MB.
    pub(crate) fn peak_rss_mb(&self) -> Result<f64> {
        self.status_mb("VmHWM:")
    }

    fn status_mb(&self, field: &str) -> Result<f64> {
        let pid = self.server.child.id().context("the server has exited")?;
        status_mb(pid, field)
    }
}
