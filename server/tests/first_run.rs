//! What someone trying the server meets first, with the real CLI: demo mode (no key at all),
//! no key (the failure says how to give one), and a key given with a new session.

use std::path::Path;

use claude_agent_mock_api::demo;
use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, MockApi, PATIENCE, TestServer, errors, real_claude, sdk, sdk_type,
};
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

/// The server with `env` (it has no `ANTHROPIC_*` variable but these) and `args`.
async fn start(env: &[(&str, &str)], args: &[&str]) -> TestServer {
    TestServer::start(Path::new(SERVER), &real_claude(), env, args).await
}

/// A new v1 session with `config`, and a client attached to it.
async fn session(server: &TestServer, config: Value) -> Client {
    let session = server.create_session(&json!({ "config": config })).await;
    let id = session["id"].as_str().unwrap();
    server.attach_to(&format!("/v1/sessions/{id}/ws")).await.0
}

/// The agent messages among `frames`.
fn messages(frames: &[ServerMessage]) -> Vec<Value> {
    frames.iter().filter_map(sdk).collect()
}

/// The turn's `result`: the last among `frames`.
fn result(frames: &[ServerMessage]) -> Value {
    let mut messages = messages(frames).into_iter();
    messages.rfind(|m| m["type"] == "result").expect("a result")
}

/// The content blocks of type `kind` in the messages of type `message` among `frames`.
fn blocks(frames: &[ServerMessage], message: &str, kind: &str) -> Vec<Value> {
    let of_type = messages(frames)
        .into_iter()
        .filter(|m| m["type"] == message);
    let content = of_type.filter_map(|m| m["message"]["content"].as_array().cloned());
    content.flatten().filter(|b| b["type"] == kind).collect()
}

#[tokio::test]
async fn demo_mode_answers_with_no_key_and_shows_a_tool() {
    let server = start(&[], &["--demo"]).await;
    let (_, config) = server.request(reqwest::Method::GET, "/config", None).await;
    assert_eq!(config["demo"], true, "{config}");
    let mut client = session(&server, json!({"includePartialMessages": true})).await;

    client.say("hello there").await;
    let frames = client.turn().await;
    let answer = result(&frames);
    assert_eq!(answer["subtype"], "success", "{answer}");
    assert_eq!(answer["is_error"], false);
    assert_eq!(answer["result"], demo::text_reply("hello there"));
    // Streamed a word at a time.
    let deltas = frames
        .iter()
        .filter(|f| sdk_type(f).as_deref() == Some("stream_event"));
    assert!(deltas.count() > 50);
    assert!(errors(&frames).is_empty(), "{frames:?}");

    client.say("list files").await;
    let frames = client.turn().await;
    let uses = blocks(&frames, "assistant", "tool_use");
    assert_eq!(uses.len(), 1, "{frames:?}");
    assert_eq!(
        (&uses[0]["name"], &uses[0]["input"]["command"]),
        (&json!("Bash"), &json!("ls -la"))
    );
    let results = blocks(&frames, "user", "tool_result");
    assert_eq!(results.len(), 1, "{frames:?}");
    assert_eq!(results[0]["tool_use_id"], uses[0]["id"]);
    assert_eq!(results[0]["is_error"], false, "{}", results[0]);
    assert_eq!(result(&frames)["result"], demo::AFTER_TOOL);
}

#[tokio::test]
async fn without_a_key_the_failed_turn_says_how_to_give_one() {
    let server = start(&[], &[]).await;
    let (_, config) = server.request(reqwest::Method::GET, "/config", None).await;
    assert_eq!(config.get("demo"), None, "{config}");
    let mut client = session(&server, json!({})).await;
    client.say("Say hello").await;
    let frames = client.turn().await;
    // The CLI's own words, with no way to act on them here.
    let answer = result(&frames);
    assert_eq!(answer["is_error"], true, "{answer}");
    assert_eq!(answer["result"], "Not logged in · Please run /login");
    // Then how to give it a key, ahead of the turn's end.
    let hints = errors(&frames);
    assert_eq!(hints.len(), 1, "{frames:?}");
    for way in ["ANTHROPIC_API_KEY", "anthropicApiKey", "--demo"] {
        assert!(hints[0].contains(way), "{}", hints[0]);
    }
    let hint_at = frames
        .iter()
        .position(|f| matches!(f, ServerMessage::Error { .. }));
    assert_eq!(hint_at, Some(frames.len() - 2), "{frames:?}");
}

#[tokio::test]
async fn a_key_given_with_a_new_session_reaches_its_agent() {
    let api = MockApi::start().await;
    let url = api.base_url();
    // The server has the API's address but no key: only the session's config gives one.
    let server = start(&[("ANTHROPIC_BASE_URL", &url)], &[]).await;
    let mut client = session(&server, json!({"anthropicApiKey": "sk-from-the-page-5b1"})).await;
    client.say("Say hello").await;
    let frames = client.turn().await;
    assert_eq!(result(&frames)["result"], "You said: Say hello");
    assert!(errors(&frames).is_empty(), "{frames:?}");
    let request = api.wait_for_request(|r| r.is_main_loop(), PATIENCE).await;
    assert_eq!(request.unwrap().api_key(), Some("sk-from-the-page-5b1"));
}
