//! Connections that end badly, from the fake agent: cut at random by close, reset, FIN and a
//! client that stops reading; a client that vanishes; a log that overflows; protocol errors.

use std::{path::Path, time::Duration};

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{Client, TestServer, built_binary, eventually, sdk, sdk_type, seeded};
use futures_util::SinkExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{
    Message,
    protocol::frame::{Frame, coding::Data, coding::OpCode},
};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

async fn start(args: &[&str]) -> TestServer {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    TestServer::start(Path::new(SERVER), &fake, &[], args).await
}

fn ws_path(session: &Value, after: u64) -> String {
    format!(
        "/v1/sessions/{}/ws?after={after}",
        session["id"].as_str().unwrap()
    )
}

fn say(text: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user",
        "message": {"role": "user", "content": text}}})
    .to_string()
}

/// How a connection is cut.
#[derive(Debug, Clone, Copy)]
enum Cut {
    Close,
    Reset,
    Fin,
    StopReadingThenReset,
}

#[tokio::test]
async fn a_client_cut_at_random_gets_every_line_exactly_once_across_reconnections() {
    const LINES: u64 = 200_000;
    let server = start(&[]).await;
    let session = server.create_session(&json!({})).await;
    let mut random = seeded("CUT_SEED");
    let mut last = 0; // the last seq handled
    let mut next_line = 0; // the next bench line expected
    let mut cuts = 0;
    let mut sent = false;
    let result = 'run: loop {
        let (mut client, _) = server.attach_to(&ws_path(&session, last)).await;
        if !sent {
            client.send(&say(&format!("[[bench:{LINES}:100:0]]"))).await;
            sent = true;
        }
        let budget = 1 + random.u64(..2 * LINES / 60);
        for _ in 0..budget {
            let frame = client.next().await;
            let seq = frame.seq().expect("a logged frame");
            assert!(seq > last, "seq {seq} again after {last}");
            last = seq;
            let Some(message) = sdk(&frame) else { continue };
            match message["type"].as_str() {
                Some("stream_event") => {
                    assert_eq!(message["seq"], next_line, "a line lost or twice");
                    next_line += 1;
                }
                Some("result") => break 'run message,
                _ => {}
            }
        }
        let cut = [Cut::Close, Cut::Reset, Cut::Fin, Cut::StopReadingThenReset][cuts % 4];
        cuts += 1;
        match cut {
            Cut::Close => {
                client.close().await;
            }
            Cut::Reset => client.reset(),
            Cut::Fin => client.fin().await,
            Cut::StopReadingThenReset => {
                // Long enough for the server's writes to fill the socket buffers.
                tokio::time::sleep(Duration::from_millis(1 + random.u64(..50))).await;
                client.reset();
            }
        }
    };
    assert_eq!(next_line, LINES);
    assert_eq!(result["result"], format!("bench: {LINES} lines"));
    assert!(cuts >= 50, "only {cuts} cuts");
}

#[tokio::test]
async fn a_client_that_stops_answering_no_longer_holds_the_session() {
    let server = start(&["--ping-interval", "200ms"]).await;
    let vanished = server.attach().await;
    let mut refused = server.connect().await;
    assert_eq!(
        refused.next().await,
        ServerMessage::error("Server already has an active connection")
    );
    // It reads nothing from now on, so it answers no ping.
    eventually("the silent client to be dropped", || {
        server
            .log()
            .contains("dropped a client that stopped answering")
    })
    .await;
    let mut next = server.attach().await;
    next.say("Still there?").await;
    assert_eq!(
        claude_agent_testkit::assistant_text(&next.turn().await),
        "fake: Still there?"
    );
    drop(vanished);
}

#[tokio::test]
async fn a_client_behind_what_is_kept_is_told_to_resync() {
    let server = start(&["--history-bytes", "65536"]).await;
    let session = server.create_session(&json!({})).await;
    let id = session["id"].as_str().unwrap();
    let message = json!({"type": "user", "message": {"role": "user",
        "content": "[[bench:2000:200:0]]"}});
    let path = format!("/v1/sessions/{id}/messages");
    server.request(Method::POST, &path, Some(&message)).await;
    server
        .wait_for_session(id, |info| {
            info["status"] == "idle" && info["latest_seq"].as_u64() > Some(2000)
        })
        .await;
    let (mut client, _) = server.attach_to(&ws_path(&session, 0)).await;
    let ServerMessage::ResyncRequired {
        oldest_seq,
        latest_seq,
    } = client.next().await
    else {
        panic!("expected resync_required");
    };
    assert!(
        oldest_seq > 1 && latest_seq > 2000,
        "{oldest_seq} {latest_seq}"
    );
    let first = client.next().await;
    assert_eq!(first.seq(), Some(oldest_seq));
    let frames = client.until(|f| f.seq() == Some(latest_seq)).await;
    assert!(
        frames
            .iter()
            .any(|f| sdk_type(f).as_deref() == Some("result"))
    );
}

/// The `tr` (timer) field of the server's side of the connection from local port `client`, in
/// /proc/net/tcp: 2 is the keepalive timer.
fn server_socket_timer(server_port: u16, client_port: u16) -> Option<u8> {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let port = |address: &str| u16::from_str_radix(address.rsplit(':').next()?, 16).ok();
        let ours = port(fields[1])? == server_port && port(fields[2])? == client_port;
        ours.then(|| u8::from_str_radix(fields[5].split(':').next()?, 16).ok())?
    })
}

#[tokio::test]
async fn accepted_sockets_keep_alive() {
    let server = start(&[]).await;
    let client = server.attach().await;
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = client.ws.get_ref() else {
        panic!("plain TCP");
    };
    let client_port = tcp.local_addr().unwrap().port();
    let server_port = server.addr.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(server_socket_timer(server_port, client_port), Some(2));
}

async fn close_code(client: &mut Client) -> Option<u16> {
    client.closed().await
}

#[tokio::test]
async fn closes_are_answered_and_protocol_errors_get_their_codes() {
    let server = start(&[]).await;
    let client = server.attach().await;
    assert_eq!(
        client.close().await,
        Some(1000),
        "a close frame is answered with one"
    );

    let mut client = server.attach().await;
    let invalid = Frame::message(vec![0xff, 0xfe], OpCode::Data(Data::Text), true);
    client.ws.send(Message::Frame(invalid)).await.unwrap();
    assert_eq!(close_code(&mut client).await, Some(1007));

    let mut client = server.attach().await;
    let _ = client
        .ws
        .send(Message::binary(vec![b'x'; (16 << 20) + 1]))
        .await;
    assert_eq!(close_code(&mut client).await, Some(1009));
}
