//! Live control of a running session with the real CLI: its model and permission mode changed
//! mid-session, each answered with the CLI's own answer, and kept across an agent restart.

use std::path::Path;

use claude_agent_protocol::{ServerMessage, control::ControlResult};
use claude_agent_testkit::{
    Client, MockApi, TestServer, agents, command_line, errors, eventually, sdk, signal,
    tool_results,
};
use nix::sys::signal::Signal;
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

/// A v1 session of a new server, and a client of it which has seen its agent start.
async fn start() -> (MockApi, TestServer, String, Client) {
    let api = MockApi::start().await;
    let server = TestServer::with_claude(Path::new(SERVER), &api.base_url()).await;
    let session = server.create_session(&json!({})).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let (client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    (api, server, id, client)
}

/// Kills the session's agent (the last pid its log told of) and waits for `client` to be told.
async fn kill_agent(server: &TestServer, id: &str, client: &mut Client) {
    let (mut reader, connected) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    let ServerMessage::Connected { latest_seq, .. } = connected else {
        unreachable!()
    };
    let history = reader.until(|f| f.seq() >= latest_seq).await;
    let pid = history
        .iter()
        .filter_map(|f| match f {
            ServerMessage::Info { data, .. } => data.strip_prefix(STARTED),
            _ => None,
        })
        .next_back()
        .and_then(|rest| rest.split(')').next()?.parse().ok())
        .expect("the agent's pid");
    signal(pid, Signal::SIGKILL);
    client
        .until(|f| matches!(f, ServerMessage::Error { .. }))
        .await;
}

/// How the session says its agent started, before the pid.
const STARTED: &str = "Claude Code started (pid ";

fn say(text: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "message": {"role": "user", "content": text}}})
    .to_string()
}

/// Sends a `control` frame with `data`; the result.
async fn control(client: &mut Client, data: Value) -> ControlResult {
    client
        .send(&json!({"type": "control", "data": data}).to_string())
        .await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::ControlResult { .. }))
        .await;
    match frames.last() {
        Some(ServerMessage::ControlResult { data }) => data.clone(),
        _ => unreachable!(),
    }
}

/// The model of the newest main-loop request the scripted API received.
fn last_model(api: &MockApi) -> Value {
    let requests = api.requests();
    let main = requests
        .iter()
        .rev()
        .find(|r| r.is_main_loop())
        .expect("a request");
    main.body["model"].clone()
}

#[tokio::test]
async fn a_new_model_takes_the_next_turn_and_outlives_a_restart() {
    let (api, server, id, mut client) = start().await;
    let set = json!({"request_id": "c1", "subtype": "set_model", "model": "claude-live-1"});
    let result = control(&mut client, set).await;
    assert_eq!(
        result,
        ControlResult {
            request_id: "c1".into(),
            subtype: "set_model".into(),
            ok: true,
            error: None
        }
    );
    client.send(&say("Which model?")).await;
    client.turn().await;
    assert_eq!(last_model(&api), "claude-live-1");

    // The agent dies; its successor starts with the model the session was switched to.
    kill_agent(&server, &id, &mut client).await;
    client.send(&say("Still the same?")).await;
    client.turn().await;
    assert_eq!(last_model(&api), "claude-live-1");
    let info = server.session_info(&id).await;
    assert_eq!(info["model"], "claude-live-1");
}

#[tokio::test]
async fn in_plan_mode_a_write_is_not_run_and_the_mode_outlives_a_restart() {
    let (_api, server, id, mut client) = start().await;
    let set = json!({"subtype": "set_permission_mode", "mode": "plan"});
    assert!(control(&mut client, set).await.ok);
    client
        .send(&say("[[tool:bash:touch planned && echo wrote-it]]"))
        .await;
    // Plan mode asks before a write; the person says no (or it is refused outright).
    let mut frames = client
        .until(|f| {
            matches!(f, ServerMessage::PermissionRequest { .. })
                || sdk(f).is_some_and(|m| m["type"] == "result")
        })
        .await;
    if let Some(ServerMessage::PermissionRequest { data, .. }) = frames.last() {
        let deny = json!({"request_id": data.request_id, "behavior": "deny"});
        let frame = json!({"type": "permission_response", "data": deny});
        client.send(&frame.to_string()).await;
        frames.extend(client.turn().await);
    }
    assert!(!tool_results(&frames).0.contains("wrote-it"), "{frames:?}");
    let workspace = server.home.path().join("workspace");
    assert!(!workspace.join("planned").exists());

    kill_agent(&server, &id, &mut client).await;
    client.send(&say("Back?")).await;
    client.turn().await;
    // Its successor (the one agent that is not the default session's) started in plan mode.
    eventually("an agent started in plan mode", || {
        agents(server.pid())
            .into_iter()
            .any(|pid| command_line(pid).contains("--permission-mode=plan"))
    })
    .await;
}

#[tokio::test]
async fn what_the_cli_refuses_or_no_control_is_said_so() {
    let (_api, server, id, mut client) = start().await;
    // Not a change a client may make: refused before it reaches the CLI.
    client
        .send(r#"{"type":"control","data":{"subtype":"rename_session","title":"x"}}"#)
        .await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::Error { .. }))
        .await;
    let error = errors(&frames).pop().unwrap();
    assert!(
        error.starts_with("Invalid control message: data: unknown variant `rename_session`"),
        "{error}"
    );
    // Over HTTP, the same answer as a frame's.
    let (status, result) = server
        .request(
            reqwest::Method::POST,
            &format!("/v1/sessions/{id}/control"),
            Some(&json!({"subtype": "set_max_thinking_tokens", "max_thinking_tokens": 2048})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{result}");
    assert_eq!(result["subtype"], "set_max_thinking_tokens");
    assert!(result["request_id"].is_string());
    assert!(result["ok"].is_boolean(), "{result}");
}

/// A user message frame saying `text`, with `uuid`.
fn say_as(text: &str, uuid: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "uuid": uuid, "message": {"role": "user", "content": text}}})
    .to_string()
}

#[tokio::test]
async fn messages_sent_during_a_turn_queue_in_order_and_one_can_be_withdrawn() {
    let (api, server, id, mut client) = start().await;
    // A turn of four seconds; once it has started, three more messages.
    client.send(&say_as("[[slow:40:100]]", "m-1")).await;
    client
        .until(|f| sdk(f).is_some_and(|m| m["type"] == "system" && m["subtype"] == "init"))
        .await;
    client.send(&say_as("queued second", "m-2")).await;
    client.send(&say_as("queued third", "m-3")).await;
    client.send(&say_as("queued fourth", "m-4")).await;
    // The session shows what waits, and every client sees the CLI queue each message.
    let info = server
        .wait_for_session(&id, |info| {
            info["queued"].as_array().is_some_and(|q| q.len() == 3)
        })
        .await;
    assert_eq!(info["queued"], json!(["m-2", "m-3", "m-4"]));
    let cancel = json!({"subtype": "cancel_message", "uuid": "m-3"});
    client
        .send(&json!({"type": "control", "data": cancel}).to_string())
        .await;

    // The rest run in order (the CLI may take queued ones in one turn); the withdrawn one
    // never reaches the model.
    let lifecycle = |uuid: &'static str, state: &'static str| {
        move |f: &ServerMessage| {
            sdk(f).is_some_and(|m| {
                m["type"] == "command_lifecycle" && m["command_uuid"] == uuid && m["state"] == state
            })
        }
    };
    // The CLI's `cancelled` may come before or after its answer to the cancel.
    let frames = client.until(lifecycle("m-4", "completed")).await;
    assert!(
        frames.iter().any(lifecycle("m-3", "cancelled")),
        "{frames:?}"
    );
    let cancelled = frames.iter().any(|f| {
        matches!(f, ServerMessage::ControlResult { data } if data.subtype == "cancel_message" && data.ok)
    });
    assert!(cancelled, "{frames:?}");
    assert!(api.sent_history("queued fourth", "queued second").await);
    let bodies: Vec<String> = api.requests().iter().map(|r| r.body.to_string()).collect();
    assert!(!bodies.iter().any(|b| b.contains("queued third")));
    let info = server.session_info(&id).await;
    assert_eq!(info["queued"], json!([]));
    // Too late: it has run.
    let again = control(
        &mut client,
        json!({"subtype": "cancel_message", "uuid": "m-2"}),
    )
    .await;
    assert!(!again.ok && again.error.unwrap().contains("is queued"));
}
