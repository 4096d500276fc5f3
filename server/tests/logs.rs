//! `--log-format json`: every line on stderr is a JSON object, and those logged in a session's
//! work (its agent, its clients) carry its id.

use std::path::Path;

use claude_agent_testkit::{TestServer, built_binary, eventually, sdk_type};
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

/// The session id a log line carries, if any.
fn session_id(line: &Value) -> Option<&str> {
    line["span"]["session_id"].as_str()
}

#[tokio::test]
async fn json_lines_carry_the_session_id() {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    let server = TestServer::start(Path::new(SERVER), &fake, &[], &["--log-format", "json"]).await;
    let session = server.create_session(&json!({})).await;
    let id = session["id"].as_str().unwrap();
    let (mut client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    let say = json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "message": {"role": "user", "content": "[[stderr:a line from the agent]]"}}});
    client.send(&say.to_string()).await;
    client
        .until(|f| sdk_type(f).as_deref() == Some("result"))
        .await;
    drop(client);
    eventually("the client's detach to be logged", || {
        server.log().contains("client detached")
    })
    .await;

    let log = server.log();
    // Up to the last whole line: another may be being written.
    let whole = &log[..log.rfind('\n').map_or(0, |end| end + 1)];
    let lines: Vec<Value> = whole
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let of_session = |message: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|line| line["message"].as_str() == Some(message))
            .collect()
    };
    for message in [
        "agent started",
        "client attached",
        "a line from the agent",
        "client detached",
    ] {
        let found = of_session(message);
        assert!(
            found.iter().any(|line| session_id(line) == Some(id)),
            "no {message:?} line of session {id}: {found:?}"
        );
    }
    // Each agent's lines are its own session's: the default session's agent started too.
    let started = of_session("agent started");
    assert_eq!(started.len(), 2, "{started:?}");
    assert_ne!(session_id(started[0]), session_id(started[1]));
    // Lines of no session carry none.
    let loaded = of_session("sessions loaded");
    assert_eq!(loaded.len(), 1);
    assert_eq!(session_id(loaded[0]), None);
    assert_eq!(loaded[0]["level"], "INFO");
}
