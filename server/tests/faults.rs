//! Faults the real CLI cannot be made to show, from the fake agent: garbage on stdout, a huge
//! line, a hang, a crash in the middle of a line.

use std::path::Path;

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, PATIENCE, TestServer, agents, assistant_text, built_binary, eventually, infos,
    is_alive, sdk, sdk_type,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

async fn start() -> (TestServer, Client) {
    start_with(&[]).await
}

async fn start_with(args: &[&str]) -> (TestServer, Client) {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    let server = TestServer::start(Path::new(SERVER), &fake, &[], args).await;
    let client = server.attach().await;
    (server, client)
}

/// Makes the agent hang (stdin ignored, SIGTERM blocked); returns its pid.
async fn hang(server: &TestServer, client: &mut Client) -> u32 {
    client.say("[[hang]]").await;
    client
        .until(
            |f| matches!(f, ServerMessage::Info { data, .. } if data.contains("SIGTERM blocked")),
        )
        .await;
    let agents = agents(server.pid());
    assert_eq!(agents.len(), 1, "{agents:?}");
    agents[0]
}

#[tokio::test]
async fn garbage_lines_become_notices_and_the_rest_flows() {
    let (_server, mut client) = start().await;
    client.say("[[garbage]]").await;
    let frames = client.turn().await;
    let notices: Vec<_> = infos(&frames)
        .into_iter()
        .filter(|i| i.starts_with("Ignored"))
        .collect();
    assert_eq!(notices.len(), 2, "{frames:?}");
    assert!(notices[0].ends_with(": this is not json"), "{}", notices[0]);
    assert!(
        notices[1].contains("not JSON") && notices[1].ends_with(r#"{"type":"assistant", broken"#)
    );
    assert_eq!(assistant_text(&frames), "after garbage");
    // Nothing that is no JSON object ever reaches a client as agent output.
    assert!(frames.iter().filter_map(sdk).all(|m| m["type"].is_string()));
}

#[tokio::test]
async fn a_ten_megabyte_line_arrives_whole() {
    let (_server, mut client) = start().await;
    client.say("[[big:10000000]]").await;
    let frames = client.turn().await;
    assert_eq!(assistant_text(&frames).len(), 10_000_000);
    assert!(assistant_text(&frames).bytes().all(|b| b == b'x'));
}

#[tokio::test]
async fn lines_over_the_limits_are_dropped_with_a_notice_and_the_turn_goes_on() {
    let (_server, mut client) = start().await;
    // stdout: 40 MB in one line, over the 32 MiB a message may have.
    client.say("[[big:40000000]]").await;
    let frames = client.turn().await;
    assert_eq!(assistant_text(&frames), "", "the line was dropped");
    let notice = infos(&frames)
        .into_iter()
        .find(|i| i.starts_with("Dropped a line of"))
        .map(str::to_owned);
    assert!(
        notice
            .as_deref()
            .is_some_and(|n| n.ends_with("over 33554432 bytes")),
        "{notice:?}"
    );
    // stderr: 100 KB in one line, over its 64 KiB. Its own pipe: the notice may come before
    // or after the turn's result, so both are waited for.
    client
        .say(&format!("[[stderr:{}]]", "e".repeat(100_000)))
        .await;
    let (mut noticed, mut ended) = (false, false);
    client
        .until(|f| {
            noticed |= matches!(f, ServerMessage::Info { data, .. }
                if data.starts_with("Dropped a line of") && data.ends_with("over 65536 bytes"));
            ended |= sdk_type(f).as_deref() == Some("result");
            noticed && ended
        })
        .await;
    client.say("Still there?").await;
    assert_eq!(assistant_text(&client.turn().await), "fake: Still there?");
}

#[tokio::test]
async fn stderr_is_relayed_as_info() {
    let (_server, mut client) = start().await;
    client.say("[[stderr:something odd happened]]").await;
    // stderr is its own pipe: its lines keep their order, not their place among stdout's.
    client
        .until(
            |f| matches!(f, ServerMessage::Info { data, .. } if data == "something odd happened"),
        )
        .await;
}

#[tokio::test]
async fn a_crash_mid_line_is_reported_and_the_next_message_restarts_the_agent() {
    let (_server, mut client) = start().await;
    client.say("hello").await;
    client.turn().await;
    client.say("[[exit-mid-line]]").await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::Error { .. }))
        .await;
    let notice = infos(&frames)
        .into_iter()
        .find(|i| i.contains("middle of a line"))
        .unwrap();
    assert!(
        notice.ends_with(r#"{"type":"assistant","message":{"id":"msg_"#),
        "{notice}"
    );
    let Some(ServerMessage::Error { error, .. }) = frames.last() else {
        unreachable!()
    };
    assert_eq!(
        error,
        "Claude Code process exited with code 3. Its last stderr output:\nfake agent: crashing on purpose"
    );

    client.say("are you back?").await;
    let frames = client.turn().await;
    assert!(
        infos(&frames)
            .iter()
            .any(|i| i.contains("resuming session fake-session")),
        "{frames:?}"
    );
    assert_eq!(assistant_text(&frames), "fake: are you back?");
}

#[tokio::test]
async fn a_hung_agent_is_killed_on_shutdown() {
    // The drain interrupts its turn at once, which it does not answer either.
    let args = ["--drain-timeout", "0s", "--interrupt-timeout", "1s"];
    let (mut server, mut client) = start_with(&args).await;
    let agent = hang(&server, &mut client).await;
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
    eventually("the hung agent to be gone", || !is_alive(agent)).await;
}

#[tokio::test]
async fn a_hung_agent_does_not_block_other_input() {
    let (server, mut client) = start().await;
    hang(&server, &mut client).await;
    // The agent reads no more stdin: more than its pipe (64 KiB) and the server's queue for it
    // hold is sent to it, and the connection still reads on, answering a bad frame at once;
    // what cannot wait is refused.
    let big = "x".repeat(4096);
    for _ in 0..300 {
        client.say(&big).await;
    }
    client.send("{broken").await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::Error { error, .. } if error.starts_with("Invalid")))
        .await;
    assert!(frames.iter().all(|f| sdk_type(f).is_none()));
    let refused = claude_agent_testkit::errors(&frames)
        .into_iter()
        .filter(|e| e.ends_with("was not sent") || e.starts_with("the agent is not reading"))
        .count();
    assert!(refused > 0, "{frames:?}");
}

#[tokio::test]
async fn a_hung_agent_never_holds_up_an_http_message() {
    let (server, _) = start_with(&["--interrupt-timeout", "1s"]).await;
    let session = server.create_session(&json!({})).await;
    let id = session["id"].as_str().unwrap();
    let (mut client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    let post = |text: String| {
        let body = json!({"type": "user", "parent_tool_use_id": null,
            "message": {"role": "user", "content": text}});
        let path = format!("/v1/sessions/{id}/messages");
        let server = &server;
        async move { server.request(Method::POST, &path, Some(&body)).await }
    };
    assert_eq!(post("[[hang]]".to_owned()).await.0, StatusCode::ACCEPTED);
    client
        .until(
            |f| matches!(f, ServerMessage::Info { data, .. } if data.contains("SIGTERM blocked")),
        )
        .await;
    // Each answered at once, the pipe and the queue filling, until the rest are refused.
    let refused = async {
        for _ in 0..300 {
            let (status, answer) = post("x".repeat(4096)).await;
            if status != StatusCode::ACCEPTED {
                return Some((status, answer));
            }
        }
        None
    };
    let refused = tokio::time::timeout(PATIENCE, refused).await;
    let (status, answer) = refused
        .expect("a request held up")
        .expect("a message refused");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["code"], "agent_busy", "{answer}");
    // An interrupt still gets through, finds the agent hung, and restarts it.
    let path = format!("/v1/sessions/{id}/interrupt");
    let (status, _) = server.request(Method::POST, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        post("Still there?".to_owned()).await.0,
        StatusCode::ACCEPTED
    );
    let frames = client.turn().await;
    assert_eq!(assistant_text(&frames), "fake: Still there?");
}

#[tokio::test]
async fn a_hung_agent_that_ignores_an_interrupt_is_restarted_and_the_session_goes_on() {
    let (server, mut client) = start_with(&["--interrupt-timeout", "1s"]).await;
    let pid = hang(&server, &mut client).await;
    for _ in 0..3 {
        client.send(r#"{"type":"interrupt"}"#).await;
    }
    let frames = client
        .until(|f| {
            matches!(f, ServerMessage::Info { data, .. }
                if data.contains("did not answer the interrupt within 1s"))
        })
        .await;
    assert!(
        claude_agent_testkit::errors(&frames).is_empty(),
        "{frames:?}"
    );
    eventually("the hung agent to end", || !is_alive(pid)).await;
    client.say("Still there?").await;
    let frames = client.turn().await;
    assert_eq!(assistant_text(&frames), "fake: Still there?");
    let again = infos(&frames)
        .into_iter()
        .filter(|i| i.contains("did not answer the interrupt"))
        .count();
    assert_eq!(again, 0, "the three interrupts restarted it once");
}

#[tokio::test]
async fn an_agent_control_request_the_server_does_not_serve_is_refused_at_once() {
    let (_server, mut client) = start().await;
    client.say("[[ask:elicitation]]").await;
    let frames = client.turn().await;
    // The request itself is the server's business, never relayed.
    assert!(
        frames
            .iter()
            .filter_map(sdk)
            .all(|m| m["type"] != "control_request")
    );
    assert_eq!(
        assistant_text(&frames),
        r#"answer: {"subtype":"error","request_id":"fake-ask","error":"Unsupported control request subtype: elicitation","error_code":"unsupported_request"}"#
    );
}

#[tokio::test]
async fn a_permission_request_the_server_cannot_read_is_denied_at_once() {
    let (_server, mut client) = start().await;
    client.say("[[ask:can_use_tool]]").await;
    let frames = client.turn().await;
    assert!(
        !frames
            .iter()
            .any(|f| matches!(f, ServerMessage::PermissionRequest { .. })),
        "no prompt for people: {frames:?}"
    );
    assert_eq!(
        assistant_text(&frames),
        r#"answer: {"subtype":"success","request_id":"fake-ask","response":{"behavior":"deny","message":"an unreadable permission request: missing field `tool_name`"}}"#
    );
}

#[tokio::test]
async fn the_agent_dies_with_a_killed_server() {
    let (mut server, mut client) = start().await;
    let agent = hang(&server, &mut client).await;
    // No chance to shut down: the agent must not be left running.
    claude_agent_testkit::signal(server.pid(), nix::sys::signal::Signal::SIGKILL);
    server.child.wait().await.unwrap();
    eventually("the orphaned agent to die", || !is_alive(agent)).await;
}

#[tokio::test]
async fn a_multi_threaded_server_relays_the_same() {
    let (_server, mut client) = start_with(&["--worker-threads", "2"]).await;
    client.say("[[big:3000000]]").await;
    assert_eq!(assistant_text(&client.turn().await).len(), 3_000_000);
    client.say("[[exit-mid-line]]").await;
    client
        .until(|f| matches!(f, ServerMessage::Error { .. }))
        .await;
    client.say("again").await;
    assert_eq!(assistant_text(&client.turn().await), "fake: again");
}

#[tokio::test]
async fn messages_an_agent_never_got_are_named_and_can_be_sent_again() {
    let (server, _) = start().await;
    let session = server.create_session(&json!({})).await;
    let id = session["id"].as_str().unwrap();
    let (mut client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    let post = |uuid: String, text: String| {
        let body = json!({"type": "user", "parent_tool_use_id": null, "uuid": uuid,
            "message": {"role": "user", "content": text}});
        let path = format!("/v1/sessions/{id}/messages");
        let server = &server;
        async move { server.request(Method::POST, &path, Some(&body)).await }
    };
    post("hang".into(), "[[hang]]".into()).await;
    let frames = client
        .until(
            |f| matches!(f, ServerMessage::Info { data, .. } if data.contains("SIGTERM blocked")),
        )
        .await;
    let pid = frames
        .iter()
        .find_map(|f| match f {
            ServerMessage::Info { data, .. } => data.strip_prefix("Claude Code started (pid "),
            _ => None,
        })
        .and_then(|rest| rest.split(')').next()?.parse().ok())
        .expect("the agent's pid");
    // The pipe (64 KiB) takes some; the rest wait in the server's queue for the agent.
    for i in 0..20 {
        let (status, _) = post(format!("u-{i}"), "x".repeat(8192)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    claude_agent_testkit::signal(pid, nix::sys::signal::Signal::SIGKILL);
    let frames = client
        .until(|f| matches!(f, ServerMessage::Error { error, .. } if error.contains("send them again")))
        .await;
    let error = claude_agent_testkit::errors(&frames)
        .pop()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("u-19"),
        "the last one never got there: {error}"
    );
    // Sent again with its uuid, it is no repeat: the next agent takes it.
    let (status, accepted) = post("u-19".into(), "again".into()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(accepted["duplicate"], false, "{accepted}");
    let frames = client.turn().await;
    assert_eq!(assistant_text(&frames), "fake: again");
}
