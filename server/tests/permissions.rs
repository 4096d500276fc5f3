//! Permission prompts answered by people: the real CLI in `default` mode asks before running a
//! Bash command (`can_use_tool`), every client of the session sees the prompt, and the first
//! answer reaches the CLI.

use std::path::Path;

use claude_agent_protocol::{
    ServerMessage,
    permissions::{PermissionBehavior, PermissionRequest, PermissionResolved, ResolvedReason},
};
use claude_agent_testkit::{Client, MockApi, TestServer, errors, result_of, tool_results};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

async fn start() -> (MockApi, TestServer, String) {
    let api = MockApi::start().await;
    let server = TestServer::with_claude(Path::new(SERVER), &api.base_url()).await;
    let session = server
        .create_session(&json!({"config": {"permissionMode": "default"}}))
        .await;
    let id = session["id"].as_str().unwrap().to_owned();
    (api, server, id)
}

async fn attach(server: &TestServer, id: &str) -> (Client, ServerMessage) {
    server.attach_to(&format!("/v1/sessions/{id}/ws")).await
}

/// A user message frame saying `text`.
fn say(text: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "message": {"role": "user", "content": text}}})
    .to_string()
}

/// A Bash command that `default` mode asks about (it writes a file), then `command`.
fn asking(command: &str) -> String {
    format!("[[tool:bash:touch made-here && {command}]]")
}

/// Asks for [`asking`]`(command)`; the prompt.
async fn ask_to_run(client: &mut Client, command: &str) -> PermissionRequest {
    client.send(&say(&asking(command))).await;
    prompt(client).await
}

async fn prompt(client: &mut Client) -> PermissionRequest {
    let frames = client
        .until(|f| matches!(f, ServerMessage::PermissionRequest { .. }))
        .await;
    match frames.last() {
        Some(ServerMessage::PermissionRequest { seq, data }) => {
            assert!(seq.is_some(), "a prompt is a frame of the log");
            data.clone()
        }
        _ => unreachable!(),
    }
}

async fn resolution(client: &mut Client) -> PermissionResolved {
    let frames = client
        .until(|f| matches!(f, ServerMessage::PermissionResolved { .. }))
        .await;
    match frames.last() {
        Some(ServerMessage::PermissionResolved { data, .. }) => data.clone(),
        _ => unreachable!(),
    }
}

fn answer(prompt: &PermissionRequest, decision: Value) -> String {
    let mut data = decision;
    data["request_id"] = prompt.request_id.clone().into();
    json!({"type": "permission_response", "data": data}).to_string()
}

#[tokio::test]
async fn an_allowed_tool_runs_and_every_client_sees_the_prompt_resolved() {
    let (_api, server, id) = start().await;
    let (mut first, _) = attach(&server, &id).await;
    let (mut second, _) = attach(&server, &id).await;
    let asked = ask_to_run(&mut first, "echo allowed-ran").await;
    assert_eq!(asked.tool_name, "Bash");
    assert_eq!(
        asked.input["command"],
        "touch made-here && echo allowed-ran"
    );
    assert_eq!(prompt(&mut second).await, asked);

    second
        .send(&answer(&asked, json!({"behavior": "allow"})))
        .await;
    for client in [&mut first, &mut second] {
        let resolved = resolution(client).await;
        assert_eq!(resolved.request_id, asked.request_id);
        assert_eq!(resolved.behavior, PermissionBehavior::Allow);
        assert_eq!(resolved.reason, ResolvedReason::Answered);
        assert!(resolved.by.as_deref().unwrap().starts_with("client-"));
    }
    let frames = first.turn().await;
    let (text, failed) = tool_results(&frames);
    assert!(text.contains("allowed-ran") && !failed, "{frames:?}");
}

#[tokio::test]
async fn a_denied_tool_does_not_run_and_the_model_reads_why() {
    let (_api, server, id) = start().await;
    let (mut client, _) = attach(&server, &id).await;
    let asked = ask_to_run(&mut client, "echo denied-ran").await;
    let deny = json!({"behavior": "deny", "message": "Not today."});
    client.send(&answer(&asked, deny)).await;
    assert_eq!(
        resolution(&mut client).await.behavior,
        PermissionBehavior::Deny
    );
    let frames = client.turn().await;
    let (text, failed) = tool_results(&frames);
    assert!(failed && text.contains("Not today.") && !text.contains("denied-ran"));
    assert_eq!(result_of(&frames)["subtype"], "success");
}

#[tokio::test]
async fn an_allowed_tool_runs_with_the_input_a_person_gave() {
    let (_api, server, id) = start().await;
    let (mut client, _) = attach(&server, &id).await;
    let asked = ask_to_run(&mut client, "echo as-the-model-wrote").await;
    let mut input = asked.input.clone();
    input.insert("command".into(), "echo as-a-person-wrote".into());
    let allow = json!({"behavior": "allow", "updated_input": input});
    client.send(&answer(&asked, allow)).await;
    let frames = client.turn().await;
    let (text, _) = tool_results(&frames);
    assert!(text.contains("as-a-person-wrote") && !text.contains("as-the-model-wrote"));
}

#[tokio::test]
async fn always_allow_stops_the_same_prompt() {
    let (_api, server, id) = start().await;
    let (mut client, _) = attach(&server, &id).await;
    let asked = ask_to_run(&mut client, "echo again").await;
    // The CLI's own suggestion of a rule, kept for this session.
    let mut rule = asked
        .permission_suggestions
        .iter()
        .flatten()
        .find(|s| s["type"] == "addRules")
        .cloned()
        .expect("a suggested rule");
    rule["destination"] = "session".into();
    let allow = json!({"behavior": "allow", "updated_permissions": [rule]});
    client.send(&answer(&asked, allow)).await;
    client.turn().await;

    client.send(&say(&asking("echo again"))).await;
    let frames = client.turn().await;
    assert!(
        !frames
            .iter()
            .any(|f| matches!(f, ServerMessage::PermissionRequest { .. })),
        "asked again: {frames:?}"
    );
    assert!(tool_results(&frames).0.contains("again"));
}

#[tokio::test]
async fn the_first_answer_wins_and_a_late_one_is_told_so() {
    let (_api, server, id) = start().await;
    let (mut first, _) = attach(&server, &id).await;
    let (mut second, _) = attach(&server, &id).await;
    let asked = ask_to_run(&mut first, "echo raced").await;
    prompt(&mut second).await;
    // Both at once: one is taken, the other refused, and both see one resolution.
    first
        .send(&answer(&asked, json!({"behavior": "allow"})))
        .await;
    second
        .send(&answer(&asked, json!({"behavior": "deny"})))
        .await;
    let frames = first.turn().await;
    let resolutions = |frames: &[ServerMessage]| {
        frames
            .iter()
            .filter(|f| matches!(f, ServerMessage::PermissionResolved { .. }))
            .count()
    };
    assert_eq!(resolutions(&frames), 1);
    let frames = second.turn().await;
    assert_eq!(resolutions(&frames), 1);
    let late = errors(&frames);
    assert!(
        late.iter().any(|e| e.contains("was already resolved")),
        "{frames:?}"
    );
}

#[tokio::test]
async fn a_prompt_waits_for_a_client_that_comes_later() {
    let (_api, server, id) = start().await;
    let (mut client, _) = attach(&server, &id).await;
    let asked = ask_to_run(&mut client, "echo later").await;
    drop(client);
    // Nobody attached: it waits. The next client is told at once, in `connected`.
    let (mut later, connected) = attach(&server, &id).await;
    match connected {
        ServerMessage::Connected {
            pending_permissions,
            ..
        } => assert_eq!(pending_permissions, std::slice::from_ref(&asked)),
        other => panic!("{other:?}"),
    }
    later
        .send(&answer(&asked, json!({"behavior": "allow"})))
        .await;
    let frames = later.turn().await;
    assert!(tool_results(&frames).0.contains("later"));
}

#[tokio::test]
async fn an_interrupt_cancels_a_pending_prompt() {
    let (_api, server, id) = start().await;
    let (mut client, _) = attach(&server, &id).await;
    let asked = ask_to_run(&mut client, "echo never").await;
    client.send(r#"{"type":"interrupt"}"#).await;
    let resolved = resolution(&mut client).await;
    assert_eq!(resolved.request_id, asked.request_id);
    assert_eq!(resolved.reason, ResolvedReason::Cancelled);
    let frames = client.turn().await;
    assert!(!tool_results(&frames).0.contains("never"));
    let (status, list) = server
        .request(Method::GET, &format!("/v1/sessions/{id}/permissions"), None)
        .await;
    assert_eq!((status, list), (StatusCode::OK, json!({"permissions": []})));
}

#[tokio::test]
async fn bad_answers_are_refused_and_the_prompt_stays() {
    let (_api, server, id) = start().await;
    let (mut client, _) = attach(&server, &id).await;
    let asked = ask_to_run(&mut client, "echo kept").await;
    let bad = [
        (
            json!({"type": "permission_response", "data": {"request_id": "nope", "behavior": "allow"}}),
            r#"No permission request "nope" is pending"#,
        ),
        (
            json!({"type": "permission_response", "data": {"request_id": asked.request_id,
                "behavior": "allow", "updated_input": "rm -rf /"}}),
            "Invalid permission_response message: data.updated_input: invalid type: string \
             \"rm -rf /\", expected a map",
        ),
        (
            json!({"type": "permission_response", "data": {"request_id": asked.request_id,
                "behavior": "maybe"}}),
            "Invalid permission_response message: data.behavior: unknown variant `maybe`, \
             expected `allow` or `deny`",
        ),
    ];
    for (frame, expected) in bad {
        client.send(&frame.to_string()).await;
        let frames = client
            .until(|f| matches!(f, ServerMessage::Error { .. }))
            .await;
        assert_eq!(errors(&frames), [expected]);
    }
    // Still pending, over HTTP too; answered there, once.
    let path = format!("/v1/sessions/{id}/permissions");
    let (_, list) = server.request(Method::GET, &path, None).await;
    assert_eq!(
        list["permissions"][0]["request_id"],
        asked.request_id.as_str()
    );
    let answer_path = format!("{path}/{}", asked.request_id);
    let allow = json!({"behavior": "allow"});
    let (status, _) = server
        .request(Method::POST, &answer_path, Some(&allow))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, error) = server
        .request(Method::POST, &answer_path, Some(&allow))
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::CONFLICT, Some("prompt_resolved"))
    );
    let resolved = resolution(&mut client).await;
    assert_eq!(resolved.by.as_deref(), Some("http"));
    assert!(tool_results(&client.turn().await).0.contains("kept"));
}

#[tokio::test]
async fn with_no_client_a_prompt_is_denied_after_the_session_s_timeout() {
    let api = MockApi::start().await;
    let server = TestServer::with_claude(Path::new(SERVER), &api.base_url()).await;
    let config = json!({"permissionMode": "default", "permissionTimeoutSeconds": 1});
    let session = server.create_session(&json!({"config": config})).await;
    let id = session["id"].as_str().unwrap();
    let (mut client, _) = attach(&server, id).await;
    let asked = ask_to_run(&mut client, "echo timed-out").await;
    drop(client);
    // A second after the client left, with nobody there, it is denied.
    server
        .wait_for_session(id, |info| info["clients"] == 0)
        .await;
    let path = format!("/v1/sessions/{id}/permissions");
    let deadline = tokio::time::Instant::now() + claude_agent_testkit::PATIENCE;
    while server.request(Method::GET, &path, None).await.1["permissions"] != json!([]) {
        assert!(tokio::time::Instant::now() < deadline, "never denied");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A client coming back sees why.
    let (mut back, _) = server
        .attach_to(&format!("/v1/sessions/{id}/ws?after=0"))
        .await;
    let resolved = resolution(&mut back).await;
    assert_eq!(resolved.request_id, asked.request_id);
    assert_eq!(
        (resolved.behavior, resolved.reason, resolved.by),
        (PermissionBehavior::Deny, ResolvedReason::Timeout, None)
    );
    let frames = back.turn().await;
    let (text, failed) = tool_results(&frames);
    assert!(
        failed && text.contains("No one answered within 1s"),
        "{text}"
    );
}

#[tokio::test]
async fn two_tools_called_at_once_ask_in_turn_and_each_answer_counts() {
    let (_api, server, id) = start().await;
    let (mut client, _) = attach(&server, &id).await;
    let both = "[[tools:bash:touch one && echo ran-one|touch two && echo ran-two]]";
    client.send(&say(both)).await;
    // The CLI asks about one call at a time (transcript b9): the second after the first's answer.
    let first = prompt(&mut client).await;
    assert!(first.input["command"].as_str().unwrap().contains("one"));
    client
        .send(&answer(&first, json!({"behavior": "allow"})))
        .await;
    let mut frames = client
        .until(|f| matches!(f, ServerMessage::PermissionRequest { .. }))
        .await;
    let Some(ServerMessage::PermissionRequest { data: second, .. }) = frames.last().cloned() else {
        unreachable!()
    };
    assert_ne!(first.request_id, second.request_id);
    assert!(second.input["command"].as_str().unwrap().contains("two"));
    let deny = json!({"behavior": "deny", "message": "Not two."});
    client.send(&answer(&second, deny)).await;
    frames.extend(client.turn().await);
    let (text, failed) = tool_results(&frames);
    assert!(
        text.contains("ran-one") && text.contains("Not two.") && failed,
        "{text}"
    );
    assert!(!text.contains("ran-two"), "{text}");
}
