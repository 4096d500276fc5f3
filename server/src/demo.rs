//! `--demo`: the scripted Messages API runs inside the server, and every agent talks to it
//! instead of Anthropic's. Someone with no key sees the real CLI's replies, tool calls and
//! streaming at once; the replies are scripted (`claude_agent_mock_api::demo`), not Claude's.

use std::io;

use claude_agent_mock_api::{MockApi, Script};

/// The scripted API, serving on 127.0.0.1 for as long as this lives.
#[derive(Debug)]
pub(crate) struct Demo {
    api: MockApi,
}

impl Demo {
    /// Starts the API on a free port of 127.0.0.1.
    pub(crate) async fn start() -> io::Result<Self> {
        let api = MockApi::serve(Script::Demo).await?;
        tracing::info!(api = %api.base_url(), "demo mode: the agents talk to a scripted API");
        Ok(Self { api })
    }

    /// What each agent's environment gets, over the server's and the config's.
    pub(crate) fn agent_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ANTHROPIC_BASE_URL", self.api.base_url()),
            // The CLI will not call an API without a key; this one takes any.
            ("ANTHROPIC_API_KEY", "demo-mode-no-key-needed".to_owned()),
            // No calls besides the scripted API's (telemetry, updates): the demo works offline.
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_owned()),
        ]
    }
}
