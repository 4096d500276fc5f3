//! `test-server`: the real server running the pinned CLI against the scripted Messages API, for
//! tests in other languages (the npm package's). Prints `listening on http://ADDR` and runs
//! until its stdin closes, so it never outlives the test that started it.
//!
//! `test-server [SERVER-ARGS...]`; the server binary is found beside this one. With
//! `TEST_SERVER_AGENT=fake` the server runs the `fake-agent` instead of the CLI (benchmarks);
//! with `TEST_SERVER_NO_KEY=1` it has the API's address but no key, as a server started without
//! one (a config's `anthropicApiKey` then gives its agent one).

use std::path::Path;

use claude_agent_testkit::{MockApi, TestServer, built_binary, real_claude};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let me = std::env::current_exe().expect("own path");
    let server_bin = built_binary(&me, "claude-agent-server");
    let api = MockApi::start().await;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut env = vec![("ANTHROPIC_BASE_URL", api.base_url())];
    if std::env::var_os("TEST_SERVER_NO_KEY").is_none() {
        env.push(("ANTHROPIC_API_KEY", "test-key".to_owned()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let agent = match std::env::var("TEST_SERVER_AGENT").as_deref() {
        Ok("fake") => built_binary(&me, "fake-agent"),
        _ => real_claude(),
    };
    let server = TestServer::start(Path::new(&server_bin), &agent, &env, &args).await;
    println!("listening on http://{}", server.addr);
    claude_agent_testkit::until_stdin_closes().await;
    drop(server);
}
