//! `e2b-mock`: the mock of E2B's control plane, proxy and envd (`claude_agent_testkit::e2b`),
//! for tests in other languages (the npm package's E2B mode). Prints
//! `e2b api http://127.0.0.1:P` and `e2b domain localhost:P` and runs until its stdin closes, so
//! it never outlives the test that started it; then it kills every sandbox.
//!
//! Its API key is `E2B_MOCK_API_KEY` (default `e2b_test_key`); the templates whose sandboxes run
//! the server are `E2B_MOCK_TEMPLATES`, comma-separated (default `claude-agent-server`);
//! `never-ready` makes a sandbox whose port never answers. The server binary is found beside
//! this one; it runs the pinned CLI, or with `E2B_MOCK_AGENT=fake` the `fake-agent`.

use claude_agent_testkit::{
    E2bMock, built_binary,
    e2b::{Config, DEFAULT_API_KEY, DEFAULT_TEMPLATE},
    real_claude,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let me = std::env::current_exe()?;
    let agent = match std::env::var("E2B_MOCK_AGENT").as_deref() {
        Ok("fake") => built_binary(&me, "fake-agent"),
        _ => real_claude(),
    };
    let mut config = Config::new(built_binary(&me, "claude-agent-server"), agent);
    config.api_key = std::env::var("E2B_MOCK_API_KEY").unwrap_or_else(|_| DEFAULT_API_KEY.into());
    let templates = std::env::var("E2B_MOCK_TEMPLATES").unwrap_or_else(|_| DEFAULT_TEMPLATE.into());
    config.templates = templates.split(',').map(|t| t.trim().to_owned()).collect();
    let mock = E2bMock::start(config).await?;
    println!("e2b api {}", mock.api_url());
    println!("e2b domain {}", mock.domain());
    claude_agent_testkit::until_stdin_closes().await;
    mock.shutdown().await;
    Ok(())
}
