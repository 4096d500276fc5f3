//! Section 4, reconnect: a client that opens the WebSocket with `after=` gets the frames it
//! missed from the session's log; the time to the last of them, against the same frames
//! streamed live by the agent to an attached client (first to last).

use std::time::{Duration, Instant};

use anyhow::Result;
use claude_agent_testkit::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::frames::{bench_marker, bench_turn, id, latest_seq, ws_after};

/// One round: the lines live, and the same number replayed.
#[derive(Debug)]
pub(crate) struct Round {
    pub(crate) live: Duration,
    pub(crate) replay: Duration,
}

pub(crate) async fn measure(server: &TestServer, lines: u64, rounds: usize) -> Result<Vec<Round>> {
    let session = id(&server.create_session(&json!({})).await)?;
    let mut measured = Vec::new();
    for _ in 0..rounds {
        let live = live(server, &session, lines).await?;
        let replay = replay(server, &session, lines).await?;
        measured.push(Round { live, replay });
    }
    Ok(measured)
}

/// An attached client asks for `lines` lines; first to last.
async fn live(server: &TestServer, session: &str, lines: u64) -> Result<Duration> {
    let idle = server
        .wait_for_session(session, |info| info["status"] == "idle")
        .await;
    let (mut client, _) = server
        .attach_to(&ws_after(session, latest_seq(&idle)?))
        .await;
    client.say(&bench_marker(lines, 0)).await;
    let span = bench_turn(&mut client, lines).await?;
    client.close().await;
    Ok(span.duration())
}

/// `lines` lines logged with no client attached (the message over HTTP), then a client opens
/// the WebSocket after the seq before them; from opening to the last line.
async fn replay(server: &TestServer, session: &str, lines: u64) -> Result<Duration> {
    let before = latest_seq(&server.session_info(session).await)?;
    let message =
        json!({"type": "user", "message": {"role": "user", "content": bench_marker(lines, 0)}});
    let path = format!("/v1/sessions/{session}/messages");
    let (status, answer) = server.request(Method::POST, &path, Some(&message)).await;
    anyhow::ensure!(status == StatusCode::ACCEPTED, "{status}: {answer}");
    server
        .wait_for_session(session, |info| {
            info["status"] == "idle" && info["latest_seq"].as_u64() > Some(before + lines)
        })
        .await;
    let opened = Instant::now();
    let mut client = server.connect_to(&ws_after(session, before)).await;
    let span = bench_turn(&mut client, lines).await?;
    client.close().await;
    Ok(span.last - opened)
}
