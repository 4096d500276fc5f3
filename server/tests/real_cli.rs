//! The relay driving the real Claude Code CLI (pinned) against the scripted Messages API.

use std::path::Path;

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, MockApi, PATIENCE, TestServer, agents, assistant_text, command_line, descendants,
    errors, eventually, is_alive, real_claude, result_of, sdk, sdk_type, signal,
};
use nix::sys::signal::Signal;
use serde_json::Value;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

async fn start() -> (MockApi, TestServer) {
    let api = MockApi::start().await;
    let server = TestServer::with_claude(Path::new(SERVER), &api.base_url()).await;
    (api, server)
}

/// The session answers a plain message, as the mock echoes it.
async fn still_answers(client: &mut Client, text: &str) {
    client.say(text).await;
    assert_eq!(
        assistant_text(&client.turn().await),
        format!("You said: {text}")
    );
}

/// The pid of the agent the server runs (its only child).
async fn agent_pid(server: &TestServer) -> u32 {
    let mut pid = None;
    eventually("the agent process", || {
        pid = agents(server.pid()).first().copied();
        pid.is_some()
    })
    .await;
    pid.unwrap()
}

#[tokio::test]
async fn a_full_turn_is_relayed() {
    let (_api, server) = start().await;
    let mut client = server.attach().await;
    client.say("Say hello").await;
    let frames = client.turn().await;
    let kinds: Vec<_> = frames.iter().filter_map(sdk_type).collect();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("system"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"assistant".to_owned()), "{kinds:?}");
    assert_eq!(assistant_text(&frames), "You said: Say hello");
    let result = result_of(&frames);
    assert_eq!(
        (result["subtype"].as_str(), result["is_error"].as_bool()),
        (Some("success"), Some(false))
    );
    assert!(errors(&frames).is_empty(), "{frames:?}");

    // The session goes on: a second turn in the same conversation.
    client.say("Again").await;
    let second = client.turn().await;
    assert_eq!(assistant_text(&second), "You said: Again");
    assert_eq!(result_of(&second)["session_id"], result["session_id"]);
}

#[tokio::test]
async fn the_config_reaches_the_agent() {
    let api = MockApi::start().await;
    let server = TestServer::start(
        Path::new(SERVER),
        &claude_agent_testkit::real_claude(),
        &[("ANTHROPIC_BASE_URL", &api.base_url())],
        &[],
    )
    .await;
    let cwd = server.home.path().join("configured/deep/cwd");
    let config = serde_json::json!({
        "systemPrompt": "You are the relay test agent.",
        "anthropicApiKey": "sk-from-config-7f3a",
        "model": "claude-relay-test",
        "cwd": cwd,
        // From a private file: the CLI starts with it (the server is down; no matter).
        "mcpServers": {"docs": {"type": "http", "url": "http://127.0.0.1:9/mcp",
            "headers": {"authorization": "Bearer mcp-secret-2"}}},
    });
    let (status, _) = server
        .request(reqwest::Method::POST, "/config", Some(&config))
        .await;
    assert!(status.is_success());
    let mut client = server.attach().await;
    client.say("Who are you?").await;
    let frames = client.turn().await;
    let request = api
        .wait_for_request(|r| r.is_main_loop(), PATIENCE)
        .await
        .expect("a request");
    assert!(
        request
            .system_text()
            .contains("You are the relay test agent."),
        "{}",
        request.system_text()
    );
    // The key reached the agent, with the rest of its environment (the mock's URL) intact.
    assert_eq!(request.api_key(), Some("sk-from-config-7f3a"));
    assert_eq!(request.body["model"], "claude-relay-test");
    // The configured working directory was created and used.
    let init = frames
        .iter()
        .filter_map(sdk)
        .find(|m| m["subtype"] == "init")
        .unwrap();
    assert_eq!(init["cwd"], cwd.display().to_string());
    // It read the MCP config from its file.
    assert_eq!(init["mcp_servers"][0]["name"], "docs", "{init}");
    // The key never reaches a log line.
    let log = server.log();
    assert!(log.contains("agent started"), "the log is captured");
    assert!(
        !log.contains("sk-from-config-7f3a"),
        "the API key was logged:\n{log}"
    );
}

#[tokio::test]
async fn a_tool_round_trip() {
    let (_api, server) = start().await;
    let mut client = server.attach().await;
    client.say("[[tool:bash:echo relay-tool-ok]]").await;
    let frames = client.turn().await;
    let messages: Vec<Value> = frames.iter().filter_map(sdk).collect();
    let tool_use = messages
        .iter()
        .flat_map(|m| {
            m["message"]["content"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|block| block["type"] == "tool_use")
        .expect("a tool_use block");
    assert_eq!(tool_use["input"]["command"], "echo relay-tool-ok");
    let tool_result = messages
        .iter()
        .filter(|m| m["type"] == "user")
        .flat_map(|m| {
            m["message"]["content"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|block| block["type"] == "tool_result")
        .expect("a tool_result block");
    assert_eq!(tool_result["content"], "relay-tool-ok");
    assert_eq!(assistant_text(&frames), "Tool result: relay-tool-ok");
}

#[tokio::test]
async fn interrupt_ends_a_slow_turn() {
    let (_api, server) = start().await;
    let mut client = server.attach().await;
    client.say("[[slow:200:100]]").await;
    // Once the model is streaming, interrupt.
    client.until(|f| sdk_type(f) == Some("system".into())).await;
    client.send(r#"{"type":"interrupt"}"#).await;
    let frames = client.turn().await;
    let result = result_of(&frames);
    assert_eq!(result["subtype"], "error_during_execution", "{result}");
    assert!(frames.iter().filter_map(sdk).any(|m| m["type"] == "user"
        && m["message"]["content"][0]["text"] == "[Request interrupted by user]"));
    // The session is still usable.
    still_answers(&mut client, "After the interrupt").await;
}

#[tokio::test]
async fn a_second_connection_is_refused_as_in_the_original() {
    let (_api, server) = start().await;
    let mut first = server.attach().await;
    let mut second = server.connect().await;
    assert_eq!(
        second.next().await,
        ServerMessage::error("Server already has an active connection")
    );
    assert_eq!(second.closed().await, Some(1000));
    // The first is unaffected.
    still_answers(&mut first, "Still here?").await;
}

#[tokio::test]
async fn bad_input_gets_an_error_and_breaks_nothing() {
    let (_api, server) = start().await;
    let mut client = server.attach().await;
    let cases = [
        (
            "{not json",
            "Invalid message format: key must be a string at line 1 column 2",
        ),
        (
            "null",
            r#"Invalid message format: expected a JSON object with a string "type", found null"#,
        ),
        (
            "123",
            r#"Invalid message format: expected a JSON object with a string "type", found a number"#,
        ),
        (
            "[]",
            r#"Invalid message format: expected a JSON object with a string "type", found an array"#,
        ),
        (
            "{}",
            r#"Invalid message format: expected a JSON object with a string "type", found an object without "type""#,
        ),
        (
            r#"{"type":"bogus"}"#,
            r#"Unknown message type "bogus": expected "user_message", "interrupt", "permission_response" or "control""#,
        ),
        // Each of these crashed the original server (original-server.md 3.7).
        (
            r#"{"type":"user_message"}"#,
            "Invalid user_message message: missing field `data`",
        ),
        (
            r#"{"type":"user_message","data":{"foo":1}}"#,
            "Invalid user_message message: data: missing field `type`",
        ),
        (
            r#"{"type":"user_message","data":{"content":"Hello, Claude!"}}"#,
            "Invalid user_message message: data: missing field `type`",
        ),
        (
            r#"{"type":"user_message","data":{"type":"user"}}"#,
            "Invalid user_message message: data: missing field `message`",
        ),
    ];
    for (frame, error) in cases {
        client.send(frame).await;
        let reply = client
            .until(|f| matches!(f, ServerMessage::Error { .. }))
            .await;
        assert_eq!(reply.last(), Some(&ServerMessage::error(error)), "{frame}");
    }
    // A binary frame is read as text, as the original did.
    client.send_binary(b"{oops").await;
    let reply = client
        .until(|f| matches!(f, ServerMessage::Error { .. }))
        .await;
    assert!(
        matches!(reply.last(), Some(ServerMessage::Error { error, .. }) if error.starts_with("Invalid message format"))
    );

    // Neither the connection nor the agent suffered.
    client.say("Still fine?").await;
    let frames = client.turn().await;
    assert_eq!(assistant_text(&frames), "You said: Still fine?");
    assert!(errors(&frames).is_empty(), "{frames:?}");
}

#[tokio::test]
async fn output_while_disconnected_reaches_the_next_connection_in_order() {
    let (_api, server) = start().await;
    let mut client = server.attach().await;
    client.say("[[slow:20:50]]").await;
    client.until(|f| sdk_type(f) == Some("system".into())).await;
    drop(client);

    // The turn finishes while nobody is connected; the next client gets all of it.
    let mut next = server.attach().await;
    let frames = next.turn().await;
    assert_eq!(
        assistant_text(&frames),
        (0..20).map(|i| format!("w{i} ")).collect::<String>()
    );
    still_answers(&mut next, "And now?").await;
}

#[tokio::test]
async fn a_killed_agent_is_reported_and_the_next_message_resumes() {
    let (api, server) = start().await;
    let mut client = server.attach().await;
    client.say("Remember the word pineapple.").await;
    client.turn().await;
    client.say("[[slow:200:100]]").await;
    client.until(|f| sdk_type(f) == Some("system".into())).await;
    let pid = agent_pid(&server).await;
    signal(pid, Signal::SIGKILL);
    let frames = client
        .until(|f| matches!(f, ServerMessage::Error { .. }))
        .await;
    let error = errors(&frames).pop().unwrap();
    assert!(
        error.starts_with("Claude Code process terminated by signal SIGKILL"),
        "{error}"
    );

    client.say("What was the word?").await;
    let frames = client.turn().await;
    assert_eq!(assistant_text(&frames), "You said: What was the word?");
    assert!(frames.iter().any(
        |f| matches!(f, ServerMessage::Info { data, .. } if data.contains("resuming session"))
    ));
    // The new agent sent the earlier conversation along: it resumed.
    assert!(
        api.sent_history("What was the word?", "pineapple").await,
        "the resumed agent lost the history"
    );
    assert_ne!(agent_pid(&server).await, pid);
}

#[tokio::test]
async fn shutdown_leaves_no_process_behind() {
    let api = MockApi::start().await;
    let env = [
        ("ANTHROPIC_BASE_URL", api.base_url()),
        ("ANTHROPIC_API_KEY", "test-key".to_owned()),
    ];
    let env: Vec<_> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The tool never ends, nor does its turn: the drain interrupts it at once.
    let args = ["--drain-timeout", "0s"];
    let mut server = TestServer::start(Path::new(SERVER), &real_claude(), &env, &args).await;
    let mut client = server.attach().await;
    client.say("[[tool:bash:tail -f /dev/null]]").await;
    // Wait until the agent runs the tool, below the server's own processes and the CLI.
    let mut tree = Vec::new();
    eventually("the tool's process", || {
        tree = descendants(server.pid());
        tree.iter()
            .any(|&pid| command_line(pid) == "tail -f /dev/null")
    })
    .await;
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
    for pid in tree {
        assert!(!is_alive(pid), "process {pid} outlived the server");
    }
}

#[tokio::test]
async fn an_api_error_ends_the_turn_and_the_session_goes_on() {
    let (_api, server) = start().await;
    let mut client = server.attach().await;
    client.say("[[error:500]]").await;
    let result = result_of(&client.turn().await);
    assert_eq!(
        (
            result["is_error"].as_bool(),
            result["api_error_status"].as_u64()
        ),
        (Some(true), Some(500))
    );
    still_answers(&mut client, "Better now?").await;
}

#[tokio::test]
async fn the_connection_closes_when_the_server_is_interrupted() {
    let (_api, mut server) = start().await;
    let mut client = server.attach().await;
    let stopping = tokio::spawn(async move {
        signal(server.pid(), Signal::SIGINT);
        let status = tokio::time::timeout(PATIENCE, server.child.wait())
            .await
            .unwrap()
            .unwrap();
        (status, server)
    });
    assert_eq!(
        tokio::time::timeout(PATIENCE, client.closed())
            .await
            .unwrap(),
        Some(1001)
    );
    let (status, _server) = stopping.await.unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_system_prompt_too_long_for_a_command_line_reaches_the_agent() {
    let (api, server) = start().await;
    // 200 KB: one argument may hold 128 KiB at most on Linux.
    let prompt = "Be brief and kind. ".repeat(10_000);
    let config = serde_json::json!({ "systemPrompt": prompt });
    let (status, _) = server
        .request(reqwest::Method::POST, "/config", Some(&config))
        .await;
    assert!(status.is_success());
    let mut client = server.attach().await;
    still_answers(&mut client, "Long prompt?").await;
    let request = api
        .wait_for_request(|r| r.is_main_loop(), PATIENCE)
        .await
        .expect("a request");
    assert!(
        request.system_text().contains(&prompt),
        "the prompt was cut"
    );
}

#[tokio::test]
async fn as_root_without_a_sandbox_the_error_says_what_to_do() {
    use std::os::unix::fs::MetadataExt as _;
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        return; // the CLI refuses only root
    }
    let api = MockApi::start().await;
    let env = [
        ("ANTHROPIC_BASE_URL", api.base_url()),
        ("IS_SANDBOX", String::new()),
    ];
    let env: Vec<_> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = TestServer::start(
        Path::new(SERVER),
        &claude_agent_testkit::real_claude(),
        &env,
        &[],
    )
    .await;
    let mut client = server.attach().await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::Error { .. }))
        .await;
    let error = errors(&frames).pop().unwrap();
    assert!(error.contains("root/sudo privileges"), "{error}");
    assert!(error.ends_with("start it with IS_SANDBOX=1."), "{error}");
}
