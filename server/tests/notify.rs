//! Webhook notifications with the real CLI: a session posts to `--notify-url` (or its config's
//! `notifyUrl`) when a turn ends and when a permission prompt waits, signed with
//! `--notify-secret`, retried while the receiver fails, and never holding the session up.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, StatusCode},
};
use claude_agent_protocol::{Seq, ServerMessage};
use claude_agent_testkit::{
    Client, MockApi, PATIENCE, TestServer, agents, command_line, eventually, real_claude, sdk,
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");
const SECRET: &str = "hook-secret";

/// How the receiver answers a request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// Never answers: holds the request open.
    Hold,
}

/// A request the receiver got.
#[derive(Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

/// A webhook receiver on 127.0.0.1 that records every request, answering the n-th (from 0) as
/// its `reply` says.
struct Receiver {
    url: String,
    requests: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    async fn start(reply: impl Fn(usize) -> Reply + Clone + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook?token=t", listener.local_addr().unwrap());
        let (sender, requests) = mpsc::unbounded_channel();
        let count = Arc::new(AtomicUsize::new(0));
        let app = Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let reply = reply(count.fetch_add(1, Ordering::SeqCst));
            let _ = sender.send(Received { headers, body });
            async move {
                match reply {
                    Reply::Status(code) => StatusCode::from_u16(code).unwrap(),
                    Reply::Hold => std::future::pending::<StatusCode>().await,
                }
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, requests }
    }

    /// The next request; fails the test after [`PATIENCE`].
    async fn next(&mut self) -> Received {
        tokio::time::timeout(PATIENCE, self.requests.recv())
            .await
            .expect("no notification in time")
            .expect("the receiver stopped")
    }
}

fn always(code: u16) -> impl Fn(usize) -> Reply + Clone + Send + Sync + 'static {
    move |_| Reply::Status(code)
}

/// The server with the real CLI on `api`, with `args` and a notification secret.
async fn serve(api: &MockApi, args: &[&str]) -> TestServer {
    let base = api.base_url();
    let env = [
        ("ANTHROPIC_BASE_URL", base.as_str()),
        ("ANTHROPIC_API_KEY", "test-key"),
        ("NOTIFY_SECRET", SECRET),
    ];
    TestServer::start(Path::new(SERVER), &real_claude(), &env, args).await
}

/// A session made with `config`, and a client attached to it.
async fn session(server: &TestServer, config: Value) -> (String, Client) {
    let session = server.create_session(&json!({"config": config})).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let (client, _) = server.attach_to(&format!("/v1/sessions/{id}/ws")).await;
    (id, client)
}

fn say(text: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "message": {"role": "user", "content": text}}})
    .to_string()
}

/// Runs a turn saying `text`: its `result` and that frame's `seq`.
async fn turn(client: &mut Client, text: &str) -> (Value, Seq) {
    client.send(&say(text)).await;
    let frames = client.turn().await;
    match frames.last() {
        Some(frame @ ServerMessage::SdkMessage { seq: Some(seq), .. }) => {
            (sdk(frame).unwrap(), *seq)
        }
        other => panic!("not a numbered result: {other:?}"),
    }
}

fn verify(received: &Received) {
    let timestamp = received.header("x-claude-agent-timestamp");
    let signature = received.header("x-claude-agent-signature");
    let hex = signature.strip_prefix("sha256=").expect("sha256=<hex>");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&received.body);
    mac.verify_slice(&hex::decode(hex).unwrap())
        .expect("the signature verifies with the secret");
}

#[tokio::test]
async fn a_turns_end_is_posted_and_signed() {
    let mut receiver = Receiver::start(always(200)).await;
    let api = MockApi::start().await;
    let server = serve(&api, &["--notify-url", &receiver.url]).await;
    let (id, mut client) = session(&server, json!({})).await;
    let (result, seq) = turn(&mut client, "hello").await;

    let received = receiver.next().await;
    assert_eq!(received.header("content-type"), "application/json");
    verify(&received);
    let body = received.json();
    assert_eq!(body["session_id"], id.as_str());
    assert_eq!(body["reason"], "turn_ended");
    assert_eq!(body["seq"], seq);
    assert_eq!(body["subtype"], "success");
    assert_eq!(body["is_error"], false);
    assert_eq!(body["result"], "You said: hello");
    assert_eq!(body["result"], result["result"]);
    assert_eq!(body["duration_ms"], result["duration_ms"]);
    assert!(body["cost_usd"].is_number() && body["total_cost_usd"].is_number());
    assert_eq!(body["summary"], "Turn ended: You said: hello");
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(body["occurred_at"].is_string());
    // The secret is in no log line.
    assert!(!server.log().contains(SECRET));
}

#[tokio::test]
async fn a_permission_prompt_posts_needs_input() {
    let mut receiver = Receiver::start(always(200)).await;
    let api = MockApi::start().await;
    let server = serve(&api, &["--notify-url", &receiver.url]).await;
    let (id, mut client) = session(&server, json!({"permissionMode": "default"})).await;
    client
        .send(&say("[[tool:bash:touch made-here && echo x]]"))
        .await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::PermissionRequest { .. }))
        .await;
    let Some(ServerMessage::PermissionRequest {
        seq: Some(seq),
        data: asked,
    }) = frames.last()
    else {
        unreachable!()
    };

    let received = receiver.next().await;
    verify(&received);
    let body = received.json();
    assert_eq!(body["session_id"], id.as_str());
    assert_eq!(body["reason"], "needs_input");
    assert_eq!(body["request_id"], asked.request_id.as_str());
    assert_eq!(body["seq"], *seq);
    assert_eq!(body["tool_name"], "Bash");
    assert_eq!(body["input"], "touch made-here && echo x");
    assert_eq!(
        body["summary"],
        "Bash needs permission: touch made-here && echo x"
    );
}

#[tokio::test]
async fn a_failing_receiver_gets_the_notification_until_it_takes_it() {
    // 500 twice, then 200.
    let mut receiver = Receiver::start(|n| Reply::Status(if n < 2 { 500 } else { 200 })).await;
    let api = MockApi::start().await;
    let server = serve(&api, &["--notify-url", &receiver.url]).await;
    let (_, mut client) = session(&server, json!({})).await;
    turn(&mut client, "again").await;

    let tries = [
        receiver.next().await,
        receiver.next().await,
        receiver.next().await,
    ];
    for received in &tries {
        verify(received);
        assert_eq!(received.body, tries[0].body, "the same notification");
    }
    assert_eq!(tries[0].json()["reason"], "turn_ended");
}

#[tokio::test]
async fn a_refusing_receiver_gets_the_notification_once() {
    let mut receiver = Receiver::start(always(400)).await;
    let api = MockApi::start().await;
    let server = serve(&api, &["--notify-url", &receiver.url]).await;
    let (_, mut client) = session(&server, json!({})).await;
    turn(&mut client, "refused").await;

    assert_eq!(receiver.next().await.json()["reason"], "turn_ended");
    // Once the server has given it up, nothing more can come.
    eventually("the notification given up", || {
        server.log().contains("notification refused, not retried")
    })
    .await;
    assert!(receiver.requests.try_recv().is_err(), "tried again");
    // The log names the receiver's origin, not its URL (whose path may hold a token).
    assert!(!server.log().contains("token=t"));
}

#[tokio::test]
async fn a_receiver_that_holds_the_request_does_not_hold_the_turn() {
    let mut receiver = Receiver::start(|_| Reply::Hold).await;
    let api = MockApi::start().await;
    let server = serve(&api, &["--notify-url", &receiver.url]).await;
    let (_, mut client) = session(&server, json!({})).await;
    turn(&mut client, "first").await;
    let held = receiver.next().await.json();
    assert_eq!(held["reason"], "turn_ended");

    // The receiver holds the first notification unanswered: the next turn goes on all the
    // same, and its notification is sent too.
    let (result, seq) = turn(&mut client, "second").await;
    assert_eq!(result["result"], "You said: second");
    let next = receiver.next().await.json();
    assert_eq!(next["seq"], seq);
    assert_ne!(next["id"], held["id"]);
}

#[tokio::test]
async fn a_sessions_own_url_wins_over_the_servers() {
    let mut servers = Receiver::start(always(200)).await;
    let mut own = Receiver::start(always(200)).await;
    let api = MockApi::start().await;
    let server = serve(&api, &["--notify-url", &servers.url]).await;

    let (first, mut client) = session(&server, json!({"notifyUrl": own.url})).await;
    turn(&mut client, "to my own").await;
    assert_eq!(own.next().await.json()["session_id"], first.as_str());
    // Never on an agent's command line.
    let running = agents(server.pid());
    assert!(!running.is_empty());
    for agent in running {
        assert!(!command_line(agent).contains(&own.url));
    }

    let (second, mut client) = session(&server, json!({})).await;
    turn(&mut client, "to the server's").await;
    // The first the server's receiver gets is the second session's: the first's went elsewhere.
    assert_eq!(servers.next().await.json()["session_id"], second.as_str());

    let bad = json!({"config": {"notifyUrl": "ftp://example.com/hook"}});
    let (status, error) = server
        .request(reqwest::Method::POST, "/v1/sessions", Some(&bad))
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"],
        "Invalid config field `notifyUrl`: an http or https URL is needed, not ftp:"
    );
}
