//! Connections that would hold the server's file descriptors: ones that send no complete
//! request head, idle keep-alive ones, more than `--max-connections`, and thousands at once.

use std::{path::Path, time::Duration};

use claude_agent_testkit::{
    Client, PATIENCE, TestServer, assistant_text, built_binary, eventually,
};
use futures_util::{StreamExt, future::join_all};
use serde_json::json;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    time::{Instant, timeout},
};
use tokio_tungstenite::MaybeTlsStream;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

/// How long the server may take to close a connection past its deadline.
const CLOSE_WITHIN: Duration = Duration::from_secs(10);
/// Timers may fire this much early, as the test measures them.
const EARLY: Duration = Duration::from_millis(100);

async fn start(args: &[&str]) -> TestServer {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    TestServer::start(Path::new(SERVER), &fake, &[], args).await
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(&server.addr).await.unwrap()
}

/// Sends `GET /v1/sessions` on `tcp`; the response's status and head.
async fn get(server: &TestServer, tcp: &mut TcpStream) -> (u16, String) {
    let request = format!("GET /v1/sessions HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    tcp.write_all(request.as_bytes()).await.unwrap();
    timeout(PATIENCE, response(tcp))
        .await
        .expect("no response in time")
}

/// Reads one response, its body by its `content-length`; its status and head.
async fn response(tcp: &mut TcpStream) -> (u16, String) {
    let mut reader = BufReader::new(tcp);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).await.unwrap();
        assert!(
            read > 0,
            "the connection ended in the response's head: {head}"
        );
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length = header(&head, "content-length")
        .unwrap_or_else(|| panic!("no content-length: {head}"))
        .parse()
        .unwrap();
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    assert!(reader.buffer().is_empty(), "more than one response");
    (status, head)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Waits for the server to close `tcp` (end of stream or reset); fails after [`CLOSE_WITHIN`].
async fn closed_by_server(mut tcp: TcpStream) {
    let mut buffer = [0; 1024];
    timeout(CLOSE_WITHIN, async {
        while let Ok(1..) = tcp.read(&mut buffer).await {}
    })
    .await
    .expect("the server kept the connection open");
}

/// Closes `client`'s WebSocket and waits for the server to close its socket.
async fn close_websocket(client: Client) {
    let mut ws = client.ws;
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = timeout(PATIENCE, ws.next())
        .await
        .expect("no close in time")
    {}
    let MaybeTlsStream::Plain(tcp) = ws.into_inner() else {
        panic!("a plain TCP WebSocket");
    };
    closed_by_server(tcp).await;
}

/// Sockets the process `pid` has open.
fn sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

/// A user message frame for a v1 session.
fn say(text: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user",
        "message": {"role": "user", "content": text}}})
    .to_string()
}

#[tokio::test]
async fn a_connection_without_a_complete_request_head_is_closed_after_the_header_timeout() {
    let server = start(&["--header-timeout", "1s"]).await;
    let silent = connect(&server).await;
    let mut half = connect(&server).await;
    let opened = Instant::now();
    half.write_all(b"GET /v1/sess").await.unwrap();
    tokio::join!(closed_by_server(silent), closed_by_server(half));
    assert!(opened.elapsed() >= Duration::from_secs(1) - EARLY);
    let mut fresh = connect(&server).await;
    assert_eq!(get(&server, &mut fresh).await.0, 200);
}

#[tokio::test]
async fn an_idle_keepalive_connection_is_closed_but_an_idle_websocket_is_not() {
    // No ping during the test: the WebSocket is as idle as the keep-alive connection.
    let server = start(&["--keepalive-timeout", "1s", "--ping-interval", "10m"]).await;
    let mut websocket = server.attach().await;
    let mut tcp = connect(&server).await;
    let (status, head) = get(&server, &mut tcp).await;
    assert_eq!(status, 200);
    assert_eq!(header(&head, "connection"), None, "{head}");
    let served = Instant::now();
    closed_by_server(tcp).await;
    assert!(served.elapsed() >= Duration::from_secs(1) - EARLY);
    // The WebSocket has been idle since before that request: longer than the timeout.
    websocket.say("Still there?").await;
    assert_eq!(
        assistant_text(&websocket.turn().await),
        "fake: Still there?"
    );
}

#[tokio::test]
async fn connections_past_the_cap_are_answered_503_until_one_closes() {
    const MAX: usize = 50;
    let server = start(&["--max-connections", "50", "--header-timeout", "10m"]).await;
    let mut idle = Vec::new();
    for _ in 0..MAX - 1 {
        idle.push(connect(&server).await);
    }
    // The WebSocket takes the last slot.
    let mut websocket = server.attach().await;
    for _ in 0..2 {
        let mut over = connect(&server).await;
        let (status, head) = get(&server, &mut over).await;
        assert_eq!(status, 503, "{head}");
        assert_eq!(header(&head, "retry-after"), Some("1"), "{head}");
        closed_by_server(over).await;
    }
    let warnings = server.log().matches("at the connection limit").count();
    assert_eq!(warnings, 1, "{}", server.log());
    // The WebSocket is served on.
    websocket.say("Still there?").await;
    assert_eq!(
        assistant_text(&websocket.turn().await),
        "fake: Still there?"
    );

    // One closes: the server sees its end and frees its slot.
    let mut leaving = idle.pop().unwrap();
    leaving.shutdown().await.unwrap();
    closed_by_server(leaving).await;
    let mut next = connect(&server).await;
    assert_eq!(get(&server, &mut next).await.0, 200);

    // The WebSocket's slot frees when it closes: one more idle connection fits besides a request.
    close_websocket(websocket).await;
    idle.push(next);
    let mut last = connect(&server).await;
    assert_eq!(get(&server, &mut last).await.0, 200);
}

#[tokio::test]
async fn thousands_of_idle_connections_leave_room_for_clients_and_agents() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    const IDLE: usize = 2000;
    const BATCH: usize = 250;
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    assert!(
        hard > IDLE as u64 + 1024,
        "the hard limit of open files, {hard}, leaves no room for {IDLE} connections"
    );
    let server = start(&[]).await;
    let mut idle = Vec::with_capacity(IDLE);
    // In batches that the accept queue holds, each taken by the server before the next: past
    // the queue, connections wait for the kernel to resend their handshake, or are lost.
    while idle.len() < IDLE {
        idle.extend(join_all((0..BATCH).map(|_| connect(&server))).await);
        eventually("the server to take the connections", || {
            sockets(server.pid()) > idle.len()
        })
        .await;
    }
    let mut tcp = connect(&server).await;
    assert_eq!(get(&server, &mut tcp).await.0, 200);
    let mut legacy = server.attach().await;
    legacy.say("Still there?").await;
    assert_eq!(assistant_text(&legacy.turn().await), "fake: Still there?");
    // A new session starts a new agent, which needs pipes.
    let session = server.create_session(&json!({})).await;
    let path = format!("/v1/sessions/{}/ws", session["id"].as_str().unwrap());
    let (mut client, _) = server.attach_to(&path).await;
    client.send(&say("And you?")).await;
    assert_eq!(assistant_text(&client.turn().await), "fake: And you?");
    drop(idle);
}

#[tokio::test]
async fn a_body_that_trickles_in_past_the_header_timeout_is_answered_with_an_error() {
    let server = start(&["--header-timeout", "1s"]).await;
    let mut tcp = connect(&server).await;
    let head = format!(
        "POST /v1/sessions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"config\"",
        server.addr
    );
    let sent = Instant::now();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let (status, head) = timeout(CLOSE_WITHIN, response(&mut tcp))
        .await
        .expect("no answer in time");
    assert!((400..500).contains(&status), "{head}");
    assert!(sent.elapsed() >= Duration::from_secs(1) - EARLY);
}
