//! The graceful drain, with the real CLI against the scripted Messages API: on SIGTERM the
//! server stops accepting and closes its clients (1001), lets a running turn finish within
//! `--drain-timeout`, interrupts one that would not, writes the session logs out and exits 0;
//! started again on the same state, it has both turns' ends.

use std::path::Path;

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, MockApi, PATIENCE, TestServer, assistant_text, eventually, real_claude, result_of,
    sdk_type, signal,
};
use nix::sys::signal::Signal;
use serde_json::json;
use tempfile::TempDir;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");
/// Three times the short turn below (which outlasts the grace an agent gets once its input
/// closes), a quarter of the long one.
const DRAIN_TIMEOUT: &str = "15s";

async fn start_in(home: TempDir, api: &MockApi, drain_timeout: &str) -> TestServer {
    start_with(home, api, &["--drain-timeout", drain_timeout]).await
}

async fn start_with(home: TempDir, api: &MockApi, args: &[&str]) -> TestServer {
    let env = [
        ("ANTHROPIC_BASE_URL", api.base_url()),
        ("ANTHROPIC_API_KEY", "test-key".to_owned()),
    ];
    let env: Vec<_> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_in(home, Path::new(SERVER), &real_claude(), &env, args).await
}

/// Waits until the draining server's listener closes and it exits, with success.
async fn closes_then_exits(server: &mut TestServer) {
    let addr = server.addr.clone();
    eventually("the listener to close", || {
        std::net::TcpStream::connect(&addr).is_err()
    })
    .await;
    let status = tokio::time::timeout(PATIENCE, server.child.wait())
        .await
        .expect("the server exits")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

fn say(text: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "message": {"role": "user", "content": text}}})
    .to_string()
}

/// A new session running a turn on `prompt`: its id, and its client.
async fn running(server: &TestServer, prompt: &str) -> (String, Client) {
    let session = server.create_session(&json!({})).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let (mut client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    client.send(&say(prompt)).await;
    // The CLI says `system` as the turn begins.
    client
        .until(|frame| sdk_type(frame).as_deref() == Some("system"))
        .await;
    (id, client)
}

/// Every frame the session `id` has kept.
async fn history(server: &TestServer, id: &str) -> Vec<ServerMessage> {
    let latest = server.session_info(id).await["latest_seq"]
        .as_u64()
        .unwrap();
    let (mut client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    client.until(|frame| frame.seq() == Some(latest)).await
}

#[tokio::test]
async fn sigterm_lets_running_turns_finish_until_the_drain_timeout_then_interrupts_them() {
    let api = MockApi::start().await;
    let mut server = start_in(tempfile::tempdir().unwrap(), &api, DRAIN_TIMEOUT).await;
    // Five seconds, well within the drain timeout; and a minute, well past it.
    let (finishing, mut finishing_client) = running(&server, "[[slow:50:100]]").await;
    let (cut, mut cut_client) = running(&server, "[[slow:600:100]]").await;

    signal(server.pid(), Signal::SIGTERM);
    assert_eq!(finishing_client.closed().await, Some(1001));
    assert_eq!(cut_client.closed().await, Some(1001));
    // Draining, it takes no new connection.
    closes_then_exits(&mut server).await;

    let home = std::mem::replace(&mut server.home, tempfile::tempdir().unwrap());
    let server = start_in(home, &api, DRAIN_TIMEOUT).await;
    let frames = history(&server, &finishing).await;
    assert_eq!(result_of(&frames)["subtype"], "success");
    let words: String = (0..50).map(|i| format!("w{i} ")).collect();
    assert_eq!(assistant_text(&frames), words, "the whole reply");
    let frames = history(&server, &cut).await;
    assert_eq!(
        result_of(&frames)["subtype"],
        "error_during_execution",
        "interrupted"
    );
}

#[tokio::test]
async fn a_second_signal_interrupts_at_once() {
    let api = MockApi::start().await;
    // Only the second signal can end the drain within the test's patience.
    let mut server = start_in(tempfile::tempdir().unwrap(), &api, "1h").await;
    let (cut, mut client) = running(&server, "[[slow:600:100]]").await;
    signal(server.pid(), Signal::SIGTERM);
    assert_eq!(client.closed().await, Some(1001));
    signal(server.pid(), Signal::SIGINT);
    let status = tokio::time::timeout(PATIENCE, server.child.wait())
        .await
        .expect("the server exits")
        .unwrap();
    assert!(status.success(), "{status:?}");
    let home = std::mem::replace(&mut server.home, tempfile::tempdir().unwrap());
    let server = start_in(home, &api, DRAIN_TIMEOUT).await;
    let frames = history(&server, &cut).await;
    assert_eq!(result_of(&frames)["subtype"], "error_during_execution");
}

#[tokio::test]
async fn with_a_drain_delay_readyz_says_draining_and_new_clients_are_refused_until_it_closes() {
    let api = MockApi::start().await;
    // Long enough to look from outside; the test waits on the listener, not on the delay.
    let args = ["--drain-delay", "5s", "--drain-timeout", DRAIN_TIMEOUT];
    let mut server = start_with(tempfile::tempdir().unwrap(), &api, &args).await;
    let mut client = server.attach().await;
    let get = |path: &'static str| server.request(reqwest::Method::GET, path, None);
    assert_eq!(get("/readyz").await.0, reqwest::StatusCode::OK);

    signal(server.pid(), Signal::SIGTERM);
    assert_eq!(client.closed().await, Some(1001));
    let (status, body) = get("/readyz").await;
    assert_eq!((status.as_u16(), body), (503, json!("draining")));
    assert_eq!(get("/healthz").await.0, reqwest::StatusCode::OK);
    let refused = tokio_tungstenite::connect_async(server.url("/ws").replacen("http", "ws", 1));
    match refused.await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!("a new WebSocket while draining: {other:?}"),
    }

    closes_then_exits(&mut server).await;
}
