//! Section 1, pre-warm: the real CLI against the scripted Messages API. A session's agent
//! starts when the session is created; its first turn, sent once the agent is up (status
//! `idle`), against the warm second turn of the same session; and, for context, a cold first
//! turn sent as soon as the session exists.

use std::time::{Duration, Instant};

use anyhow::Result;
use claude_agent_testkit::{Client, TestServer, sdk};
use reqwest::Method;
use serde_json::json;

use crate::frames::{id, latest_seq, ws_after};

/// One turn, from the message sent over the WebSocket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Turn {
    /// To the agent's `system`/`init` frame, which the CLI writes once it takes the turn up.
    pub(crate) init: Duration,
    /// To the turn's `result` frame.
    pub(crate) result: Duration,
}

/// One round: a pre-warmed session's two turns, and a cold session's first.
#[derive(Debug)]
pub(crate) struct Round {
    /// From `POST /v1/sessions` to status `idle`.
    pub(crate) startup: Duration,
    pub(crate) first: Turn,
    pub(crate) warm: Turn,
    pub(crate) cold: Turn,
}

pub(crate) async fn measure(server: &TestServer, sessions: usize) -> Result<Vec<Round>> {
    let mut rounds = Vec::new();
    for _ in 0..sessions {
        // Pre-warmed: the turns start once the agent is up.
        let created = Instant::now();
        let session = id(&server.create_session(&json!({})).await)?;
        let up = server
            .wait_for_session(&session, |info| info["status"] == "idle")
            .await;
        let startup = created.elapsed();
        let (mut client, _) = server
            .attach_to(&ws_after(&session, latest_seq(&up)?))
            .await;
        let first = turn(&mut client, "Hello").await;
        let warm = turn(&mut client, "Hello again").await;
        delete(server, &session).await;

        // Cold: the message goes to an agent still starting.
        let created = server.create_session(&json!({})).await;
        let session = id(&created)?;
        let after = latest_seq(&created)?;
        let (mut client, _) = server.attach_to(&ws_after(&session, after)).await;
        let cold = turn(&mut client, "Hello").await;
        delete(server, &session).await;
        rounds.push(Round {
            startup,
            first,
            warm,
            cold,
        });
    }
    Ok(rounds)
}

/// Says `text` and times the turn.
async fn turn(client: &mut Client, text: &str) -> Turn {
    let sent = Instant::now();
    client.say(text).await;
    let mut init = None;
    client
        .until(|frame| {
            let message = sdk(frame).unwrap_or_default();
            if message["type"] == "system" && message["subtype"] == "init" {
                init.get_or_insert(sent.elapsed());
            }
            message["type"] == "result"
        })
        .await;
    let result = sent.elapsed();
    Turn {
        init: init.unwrap_or(result),
        result,
    }
}

/// Ends the session and its agent, so that the next round has the CPUs to itself.
async fn delete(server: &TestServer, id: &str) {
    let (status, answer) = server
        .request(Method::DELETE, &format!("/v1/sessions/{id}"), None)
        .await;
    assert!(status.is_success(), "deleting {id}: {answer}");
}
