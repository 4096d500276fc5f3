//! `mock-api`: the scripted Messages API alone, for a server the test did not start (the one in
//! the container image's test). Prints `listening on http://127.0.0.1:P` and runs until its
//! stdin closes, so it never outlives the test that started it.

use claude_agent_testkit::{MockApi, until_stdin_closes};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let api = MockApi::start().await;
    println!("listening on {}", api.base_url());
    until_stdin_closes().await;
}
