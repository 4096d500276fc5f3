//! The v1 sessions API with the real CLI against the scripted Messages API: sessions created,
//! shared by many clients with numbered frames, forked, hibernated, and surviving the server.

use std::path::Path;

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, MockApi, TestServer, assistant_text, descendants, eventually, is_alive, real_claude,
    sdk_type,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

fn env(api: &MockApi) -> [(&'static str, String); 2] {
    [
        ("ANTHROPIC_BASE_URL", api.base_url()),
        ("ANTHROPIC_API_KEY", "test-key".to_owned()),
    ]
}

async fn start(args: &[&str]) -> (MockApi, TestServer) {
    let api = MockApi::start().await;
    let env = env(&api);
    let env: Vec<_> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = TestServer::start(Path::new(SERVER), &real_claude(), &env, args).await;
    (api, server)
}

fn ws_path(session: &Value, after: Option<u64>) -> String {
    let id = session["id"].as_str().unwrap();
    match after {
        Some(after) => format!("/v1/sessions/{id}/ws?after={after}"),
        None => format!("/v1/sessions/{id}/ws"),
    }
}

/// The session's id.
fn id(session: &Value) -> &str {
    session["id"].as_str().unwrap()
}

/// Waits until the session's status is `status`.
async fn wait_for_status(server: &TestServer, session: &Value, status: &str) {
    server
        .wait_for_session(id(session), |info| info["status"] == status)
        .await;
}

/// The agents the server runs now.
fn agents(server: &TestServer) -> usize {
    claude_agent_testkit::agents(server.pid()).len()
}

/// A user message frame saying `text` with `uuid`.
fn say(text: &str, uuid: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user", "uuid": uuid,
        "parent_tool_use_id": null, "message": {"role": "user", "content": text}}})
    .to_string()
}

/// The texts of the `user_message` frames among `frames`.
fn user_texts(frames: &[ServerMessage]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|frame| match frame {
            ServerMessage::UserMessage { data, .. } => {
                Some(serde_json::to_value(&data.message).unwrap()["content"].to_string())
            }
            _ => None,
        })
        .collect()
}

fn seqs(frames: &[ServerMessage]) -> Vec<u64> {
    frames.iter().filter_map(ServerMessage::seq).collect()
}

/// Frames until `results` turns have ended.
async fn turns(client: &mut Client, results: usize) -> Vec<ServerMessage> {
    let mut seen = 0;
    client
        .until(|frame| {
            seen += usize::from(sdk_type(frame).as_deref() == Some("result"));
            seen == results
        })
        .await
}

#[tokio::test]
async fn sessions_are_created_listed_inspected_and_deleted() {
    let (_api, server) = start(&[]).await;
    // The legacy session's agent starts with the server.
    eventually("the legacy agent", || agents(&server) == 1).await;
    let session = server
        .create_session(&json!({"config": {"model": "claude-test", "cwd": "/tmp"}}))
        .await;
    for field in ["id", "created_at", "last_activity_at"] {
        assert!(session[field].is_string(), "{field}: {session}");
    }
    assert_eq!(session["model"], "claude-test");
    assert_eq!(session["cwd"], "/tmp");
    assert_eq!(session["clients"], 0);
    assert_eq!(session["total_cost_usd"], 0.0);
    assert!(session["latest_seq"].as_u64().unwrap() >= 1, "{session}");
    // Pre-warmed: its agent runs before any message.
    eventually("its agent", || agents(&server) == 2).await;
    wait_for_status(&server, &session, "idle").await;

    let (status, list) = server.request(Method::GET, "/v1/sessions", None).await;
    assert_eq!(status, StatusCode::OK);
    let field = |name: &str| -> Vec<Value> {
        let sessions = list["sessions"].as_array().unwrap();
        sessions.iter().map(|s| s[name].clone()).collect()
    };
    let ids = field("id");
    assert_eq!(ids.len(), 2, "the legacy session and the new one: {list}");
    assert_eq!(ids[1], session["id"], "oldest first");
    let defaults = field("default");
    assert_eq!(
        defaults,
        [true, false],
        "the legacy session is the default one"
    );

    let (mut client, _) = server.attach_to(&ws_path(&session, None)).await;
    let path = format!("/v1/sessions/{}", session["id"].as_str().unwrap());
    let (status, _) = server.request(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(client.closed().await, Some(1001), "its clients are let go");
    let (status, error) = server.request(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["code"], "session_not_found");
    eventually("its agent to end", || agents(&server) == 1).await;

    let legacy = format!("/v1/sessions/{}", ids[0].as_str().unwrap());
    let (status, error) = server.request(Method::DELETE, &legacy, None).await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::CONFLICT, &json!("default_session"))
    );
}

#[tokio::test]
async fn bad_session_requests_are_refused_clearly() {
    let (_api, server) = start(&[]).await;
    let cases = [
        (
            json!({"config": {"maxTurns": "x"}}),
            r#"Invalid config field `maxTurns`: invalid type: string "x", expected u32"#,
        ),
        (
            json!({"config": {"modle": "x"}}),
            "Unknown config fields: modle",
        ),
        (json!({"fork": true}), "`fork` needs `resume`"),
    ];
    for (body, error) in cases {
        let (status, answer) = server
            .request(Method::POST, "/v1/sessions", Some(&body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer, json!({"error": error, "code": "invalid_request"}));
    }
    let response = reqwest::Client::new()
        .post(server.url("/v1/sessions"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, answer) = server
        .request(Method::POST, "/v1/sessions/nope/messages", Some(&json!({})))
        .await;
    assert_eq!(
        (status, &answer["code"]),
        (StatusCode::NOT_FOUND, &json!("session_not_found"))
    );
    let (_, list) = server.request(Method::GET, "/v1/sessions", None).await;
    assert_eq!(
        list["sessions"].as_array().unwrap().len(),
        1,
        "none was made"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let (_api, server) = start(&[]).await;
    let (status, document) = server.request(Method::GET, "/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with('3'));
    for path in [
        "/v1/sessions",
        "/v1/sessions/{id}",
        "/v1/sessions/{id}/fork",
        "/v1/sessions/{id}/messages",
        "/v1/sessions/{id}/interrupt",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    assert!(document["components"]["schemas"]["SessionInfo"].is_object());
}

/// Every client of a session sees the same frames, numbered without gaps, and every message.
async fn clients_share_a_session(count: usize) {
    let (_api, server) = start(&[]).await;
    let session = server.create_session(&json!({})).await;
    let mut clients = Vec::new();
    for _ in 0..count {
        clients.push(server.attach_to(&ws_path(&session, None)).await.0);
    }
    clients[0].send(&say("Hello from the first", "u-1")).await;
    clients[count - 1]
        .send(&say("Hello from the last", "u-2"))
        .await;
    let mut seen = Vec::new();
    for client in &mut clients {
        seen.push(turns(client, 2).await);
    }
    let first = seqs(&seen[0]);
    assert_eq!(
        first,
        (1..=first.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );
    for frames in &seen {
        assert_eq!(seqs(frames), first, "the same frames for every client");
        let mut users = user_texts(frames);
        users.sort();
        assert_eq!(
            users,
            [r#""Hello from the first""#, r#""Hello from the last""#]
        );
        let text = assistant_text(frames);
        assert!(text.contains("You said: Hello from the first"), "{text}");
        assert!(text.contains("You said: Hello from the last"), "{text}");
    }
    assert_eq!(server.session_info(id(&session)).await["clients"], count);
}

#[tokio::test]
async fn two_clients_see_the_same_numbered_frames_and_each_others_messages() {
    clients_share_a_session(2).await;
}

#[tokio::test]
async fn ten_clients_see_the_same_numbered_frames_and_each_others_messages() {
    clients_share_a_session(10).await;
}

#[tokio::test]
async fn a_client_gets_the_history_or_the_frames_after_its_last() {
    let (_api, server) = start(&[]).await;
    let session = server.create_session(&json!({})).await;
    let (mut first, _) = server.attach_to(&ws_path(&session, None)).await;
    first.send(&say("One", "u-1")).await;
    let history = turns(&mut first, 1).await;
    let all = seqs(&history);

    // A reload: everything.
    let (mut reloaded, connected) = server.attach_to(&ws_path(&session, None)).await;
    match connected {
        ServerMessage::Connected {
            protocol_version,
            latest_seq,
            oldest_seq,
            ..
        } => {
            assert_eq!((protocol_version, oldest_seq), (Some(2), Some(1)));
            assert!(latest_seq >= all.last().copied());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(seqs(&turns(&mut reloaded, 1).await), all);

    // A resume: exactly what follows.
    let middle = all[all.len() / 2];
    let (mut resumed, _) = server.attach_to(&ws_path(&session, Some(middle))).await;
    assert_eq!(
        seqs(&turns(&mut resumed, 1).await),
        all[all.len() / 2 + 1..]
    );
}

#[tokio::test]
async fn the_legacy_ws_numbers_its_frames_and_resumes_after_one() {
    let (_api, server) = start(&[]).await;
    let mut client = server.attach().await;
    client.say("One").await;
    let frames = client.turn().await;
    let numbered = seqs(&frames);
    assert!(numbered.len() >= 3 && numbered.windows(2).all(|w| w[0] < w[1]));
    drop(client);
    // The original's clients are not sent their user messages back.
    assert!(user_texts(&frames).is_empty());
    let after = numbered[1];
    let (mut resumed, _) = server.attach_to(&format!("/ws?after={after}")).await;
    assert_eq!(seqs(&resumed.turn().await), numbered[2..]);
    drop(resumed);
    // Without `after`, it goes on from the first frame no client had, and says so.
    let mut next = server.connect().await;
    match next.next().await {
        ServerMessage::Connected { after, .. } => assert!(after >= numbered.last().copied()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_message_over_http_runs_once_per_uuid() {
    let (api, server) = start(&[]).await;
    let session = server.create_session(&json!({})).await;
    let (mut client, _) = server.attach_to(&ws_path(&session, None)).await;
    let path = format!("/v1/sessions/{}/messages", session["id"].as_str().unwrap());
    let message = json!({"type": "user", "uuid": "retried-1",
        "message": {"role": "user", "content": "Once only"}});
    let (status, first) = server.request(Method::POST, &path, Some(&message)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let (status, second) = server.request(Method::POST, &path, Some(&message)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(first["duplicate"], false);
    assert_eq!(
        second,
        json!({"uuid": "retried-1", "seq": first["seq"], "duplicate": true})
    );
    client.send(&say("Then this", "u-2")).await;
    let frames = turns(&mut client, 2).await;
    assert_eq!(user_texts(&frames), [r#""Once only""#, r#""Then this""#]);
    let asked = api
        .requests()
        .iter()
        .filter(|r| r.last_user_text().is_some_and(|t| t.contains("Once only")))
        .count();
    assert_eq!(asked, 1, "the repeat ran no turn");

    let (status, answer) = server
        .request(Method::POST, &path, Some(&json!({"type": "user"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["error"],
        "Invalid user_message message: data: missing field `message`"
    );
    let smuggled = reqwest::Client::new()
        .post(server.url(&path))
        .header("content-type", "application/json")
        .body(r#"{}, "type": "interrupt""#)
        .send()
        .await
        .unwrap();
    assert_eq!(smuggled.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_fork_goes_on_from_a_copy_of_the_conversation() {
    let (api, server) = start(&[]).await;
    let source = server.create_session(&json!({})).await;
    let fork_path = format!("/v1/sessions/{}/fork", source["id"].as_str().unwrap());
    let (status, error) = server.request(Method::POST, &fork_path, None).await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::CONFLICT, &json!("nothing_to_fork"))
    );

    let (mut client, _) = server.attach_to(&ws_path(&source, None)).await;
    client
        .send(&say("Remember the word pineapple.", "u-1"))
        .await;
    turns(&mut client, 1).await;
    let (status, fork) = server.request(Method::POST, &fork_path, None).await;
    assert_eq!(status, StatusCode::CREATED, "{fork}");
    assert_ne!(fork["id"], source["id"]);
    let (mut forked, _) = server.attach_to(&ws_path(&fork, None)).await;
    forked.send(&say("What was the word?", "u-2")).await;
    turns(&mut forked, 1).await;
    assert!(
        api.sent_history("What was the word?", "pineapple").await,
        "the fork lost the history"
    );
    let (source, fork) = (
        server.session_info(id(&source)).await,
        server.session_info(id(&fork)).await,
    );
    assert!(fork["cli_session_id"].is_string());
    assert_ne!(
        fork["cli_session_id"], source["cli_session_id"],
        "a copy, not the same"
    );
}

#[tokio::test]
async fn an_idle_agent_hibernates_and_the_next_message_resumes_it() {
    let (api, server) = start(&["--idle-timeout", "1s"]).await;
    let session = server.create_session(&json!({})).await;
    let (mut client, _) = server.attach_to(&ws_path(&session, None)).await;
    client
        .send(&say("Remember the word pineapple.", "u-1"))
        .await;
    let frames = turns(&mut client, 1).await;
    let pids = descendants(server.pid());
    drop(client);

    wait_for_status(&server, &session, "hibernated").await;
    // Its agent (and the idle legacy session's) ends: a hibernated session runs no process.
    eventually("the agents to end", || {
        pids.iter().all(|&pid| !is_alive(pid))
    })
    .await;
    let after = *seqs(&frames).last().unwrap();
    let (mut client, _) = server.attach_to(&ws_path(&session, Some(after))).await;
    client.send(&say("What was the word?", "u-2")).await;
    let frames = turns(&mut client, 1).await;
    assert_eq!(assistant_text(&frames), "You said: What was the word?");
    assert!(
        api.sent_history("What was the word?", "pineapple").await,
        "not resumed"
    );
}

#[tokio::test]
async fn sessions_survive_a_killed_server() {
    let (api, server) = start(&[]).await;
    let session = server.create_session(&json!({})).await;
    let (mut client, _) = server.attach_to(&ws_path(&session, None)).await;
    client
        .send(&say("Remember the word pineapple.", "u-1"))
        .await;
    let mut handled = turns(&mut client, 1).await;
    client.send(&say("[[slow:100:50]]", "u-2")).await;
    handled.extend(
        client
            .until(|f| sdk_type(f).as_deref() == Some("system"))
            .await,
    );
    let home = server.kill().await;

    let env = env(&api);
    let env: Vec<_> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = TestServer::start_in(home, Path::new(SERVER), &real_claude(), &env, &[]).await;
    let (status, list) = server.request(Method::GET, "/v1/sessions", None).await;
    assert_eq!(status, StatusCode::OK);
    let listed = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == session["id"])
        .expect("the session is listed after the restart")
        .clone();
    assert_eq!(listed["status"], "hibernated");

    // What the server had read before it died, from disk: the resumed client misses nothing.
    let latest = listed["latest_seq"].as_u64().unwrap();
    let last_handled = seqs(&handled).last().copied().unwrap();
    assert!(latest >= last_handled);
    let (mut fresh, _) = server.attach_to(&ws_path(&session, None)).await;
    let stored = fresh.until(|f| f.seq() == Some(latest)).await;
    let (mut resumed, _) = server
        .attach_to(&ws_path(&session, Some(last_handled)))
        .await;
    let mut rest = Vec::new();
    if latest > last_handled {
        rest = resumed.until(|f| f.seq() == Some(latest)).await;
    }
    handled.extend(rest);
    assert_eq!(seqs(&handled), seqs(&stored));
    assert_eq!(seqs(&stored), (1..=latest).collect::<Vec<_>>());

    // A retry of a message from before the restart is known, and not run again.
    let path = format!("/v1/sessions/{}/messages", session["id"].as_str().unwrap());
    let retry = json!({"type": "user", "uuid": "u-1",
        "message": {"role": "user", "content": "Remember the word pineapple."}});
    let (_, answer) = server.request(Method::POST, &path, Some(&retry)).await;
    assert_eq!(answer["duplicate"], true, "{answer}");

    // And the conversation goes on.
    resumed.send(&say("What was the word?", "u-3")).await;
    let frames = turns(&mut resumed, 1).await;
    assert_eq!(assistant_text(&frames), "You said: What was the word?");
    assert!(
        api.sent_history("What was the word?", "pineapple").await,
        "not resumed"
    );
}
