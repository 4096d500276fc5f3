//! Client frames from a seeded fuzzer, one at a time, against the fake agent (thousands) and
//! the real CLI (hundreds): random and mutated valid messages, odd content blocks, deep
//! nesting, huge numbers, control characters, U+2028/U+2029, invalid UTF-8 and oversized
//! frames. Every frame is answered (an `error`, a `result`, or for a broken WebSocket frame a
//! close with its code), the server never dies, and the session takes a normal turn after.
//! `FUZZ_SEED=<n>` replays a run; each run prints its seed.

use std::path::Path;

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, MockApi, PATIENCE, Rng, TestServer, assistant_text, built_binary, sdk, seeded,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");
/// The server's WebSocket message limit (`http/ws.rs`), to go past it.
const MAX_FRAME: usize = 16 << 20;
/// A normal turn every so many frames: no accepted message may make a later turn fail.
const CHECK_EVERY: usize = 50;

#[tokio::test]
async fn fuzzed_frames_against_the_fake_agent() {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    let server = TestServer::start(Path::new(SERVER), &fake, &[], &[]).await;
    fuzz(&server, 2_000, "fake: ").await;
}

#[tokio::test]
async fn fuzzed_frames_against_the_real_cli() {
    let api = MockApi::start().await;
    let server = TestServer::with_claude(Path::new(SERVER), &api.base_url()).await;
    fuzz(&server, 300, "You said: ").await;
}

/// Sends `frames` fuzzed frames to a new session of `server`, checking each is answered, and a
/// normal turn (whose reply starts with `echo`) now and then and at the end.
async fn fuzz(server: &TestServer, frames: usize, echo: &str) {
    let mut rng = seeded("FUZZ_SEED");
    let seed = rng.get_seed();
    let session = server.create_session(&json!({})).await;
    let path = format!("/v1/sessions/{}/ws", session["id"].as_str().unwrap());
    let mut client = attach(server, &path).await;
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for n in 0..frames {
        let frame = fuzzed(&mut rng);
        let context = || format!("seed {seed}, frame {n}: {}", frame.describe());
        let answered = tokio::time::timeout(PATIENCE, answer(&mut client, &frame)).await;
        let answered = answered.unwrap_or_else(|_| panic!("no answer in time; {}", context()));
        *tally.entry(format!("{answered:?}")).or_default() += 1;
        match answered {
            Answer::Result | Answer::Error => {}
            Answer::Closed(code) => {
                assert!(
                    frame.closes_with().contains(&code),
                    "closed {code}; {}",
                    context()
                );
                client = attach(server, &path).await;
            }
        }
        if n % CHECK_EVERY == CHECK_EVERY - 1 || n + 1 == frames {
            normal_turn(&mut client, echo, &context()).await;
        }
    }
    println!("answers: {tally:?}");
}

async fn attach(server: &TestServer, path: &str) -> Client {
    // From the newest frame on: what earlier frames caused is no answer to the next one.
    let info = server
        .request(reqwest::Method::GET, &path.replace("/ws", ""), None)
        .await
        .1;
    let after = info["latest_seq"].as_u64().unwrap();
    server.attach_to(&format!("{path}?after={after}")).await.0
}

/// A turn anyone might take goes as usual.
async fn normal_turn(client: &mut Client, echo: &str, context: &str) {
    client
        .send(&user(&json!("Are you still there?")).to_string())
        .await;
    let frames = client.turn().await;
    assert_eq!(
        assistant_text(&frames),
        format!("{echo}Are you still there?"),
        "after {context}: {frames:?}"
    );
}

/// How the server answered a frame.
#[derive(Debug)]
enum Answer {
    /// The `result` of the turn the frame started.
    Result,
    /// An `error` frame.
    Error,
    /// It closed the WebSocket with this code.
    Closed(u16),
}

async fn answer(client: &mut Client, frame: &Fuzzed) -> Answer {
    let message = match frame {
        Fuzzed::Text { text, .. } => Message::text(text.clone()),
        Fuzzed::Binary(bytes) => Message::binary(bytes.clone()),
    };
    if client.ws.send(message).await.is_err() {
        return Answer::Closed(closed(client).await);
    }
    loop {
        match client.ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let frame: ServerMessage = serde_json::from_str(&text).expect("a server frame");
                if matches!(frame, ServerMessage::Error { .. }) {
                    return Answer::Error;
                }
                if sdk(&frame).is_some_and(|m| m["type"] == "result") {
                    return Answer::Result;
                }
            }
            Some(Ok(Message::Close(close))) => {
                return Answer::Closed(close.map_or(1005, |c| c.code.into()));
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return Answer::Closed(1006),
        }
    }
}

async fn closed(client: &mut Client) -> u16 {
    while let Some(Ok(message)) = client.ws.next().await {
        if let Message::Close(close) = message {
            return close.map_or(1005, |c| c.code.into());
        }
    }
    1006
}

/// One fuzzed client frame.
#[derive(Debug)]
enum Fuzzed {
    Text { text: String, kind: &'static str },
    Binary(Vec<u8>),
}

impl Fuzzed {
    fn describe(&self) -> String {
        match self {
            Self::Text { text, kind } => {
                let shown: String = text.chars().take(300).collect();
                format!("{kind} ({} bytes) {shown:?}", text.len())
            }
            Self::Binary(bytes) => format!("binary ({} bytes)", bytes.len()),
        }
    }

    /// The close codes this frame may get: over the limit, 1009 (or a reset, should the
    /// server close while the frame still comes); not UTF-8, 1007; else none.
    fn closes_with(&self) -> &'static [u16] {
        match self {
            Self::Text { text, .. } if text.len() > MAX_FRAME => &[1009, 1006],
            Self::Binary(bytes) if std::str::from_utf8(bytes).is_err() => &[1007],
            _ => &[],
        }
    }
}

fn fuzzed(rng: &mut Rng) -> Fuzzed {
    let text = |kind, text| Fuzzed::Text { text, kind };
    match rng.u32(0..100) {
        0..20 => text("text message", user(&json!(odd_text(rng))).to_string()),
        20..35 => text(
            "content blocks",
            user(&Value::Array(blocks(rng))).to_string(),
        ),
        35..65 => {
            let mut message = user(&Value::Array(blocks(rng)));
            mutate(rng, &mut message);
            text("mutated message", message.to_string())
        }
        65..72 => text("deep nesting", deep(rng)),
        72..80 => text("number", numbers(rng)),
        80..90 => text("garbage", garbage(rng)),
        90..97 => {
            let len = rng.usize(1..64);
            Fuzzed::Binary((0..len).map(|_| rng.u8(..)).collect())
        }
        97..99 => text("other frame", other_frame(rng)),
        _ => text("oversized", "x".repeat(MAX_FRAME + 1)),
    }
}

/// A client's user message frame with `content`.
fn user(content: &Value) -> Value {
    json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "session_id": "", "message": {"role": "user", "content": content}}})
}

/// Text with the characters that break naive relays.
fn odd_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "hello",
        " ",
        "\u{2028}",
        "\u{2029}",
        "\0",
        "\u{1}",
        "\u{7f}",
        "\n",
        "\r\n",
        "\t",
        "\"",
        "\\",
        "]]",
        "[[",
        "{",
        "}",
        "é",
        "🦀",
        "\u{feff}",
        "\u{fffd}",
        "</script>",
    ];
    (0..rng.usize(1..20))
        .map(|_| PIECES[rng.usize(..PIECES.len())])
        .collect()
}

/// Content blocks, well-formed or not.
fn blocks(rng: &mut Rng) -> Vec<Value> {
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";
    (0..rng.usize(1..4))
        .map(|_| match rng.u32(0..8) {
            0..3 => json!({"type": "text", "text": odd_text(rng)}),
            3 => json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}),
            4 => json!({"type": "text"}),
            5 => json!({"type": "tool_result", "tool_use_id": "toolu_x", "content": odd_text(rng)}),
            6 => json!({"type": odd_text(rng), "text": "?"}),
            _ => json!({"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": odd_text(rng)}}),
        })
        .collect()
}

/// Changes one thing somewhere in `value`: a field dropped, retyped or added.
fn mutate(rng: &mut Rng, value: &mut Value) {
    let replacement = |rng: &mut Rng| match rng.u32(0..7) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(rng.i64(..)),
        3 => json!(1e300),
        4 => json!(odd_text(rng)),
        5 => json!([]),
        _ => json!({}),
    };
    match value {
        Value::Array(items) if !items.is_empty() => {
            let i = rng.usize(..items.len());
            mutate(rng, &mut items[i]);
        }
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = keys[rng.usize(..keys.len())].clone();
            let nested = matches!(map[&key], Value::Object(_) | Value::Array(_));
            if nested && rng.u32(0..3) > 0 {
                return mutate(rng, &mut map[&key]);
            }
            match rng.u32(0..3) {
                0 => drop(map.remove(&key)),
                1 => drop(map.insert(key, replacement(rng))),
                _ => drop(map.insert(odd_text(rng), replacement(rng))),
            }
        }
        _ => {}
    }
}

/// A message whose content nests arrays or objects up to 20,000 deep.
fn deep(rng: &mut Rng) -> String {
    let depth = [10, 33, 129, 1_000, 20_000][rng.usize(..5)];
    let (open, close) = if rng.bool() {
        ("[", "]")
    } else {
        (r#"{"a":"#, "}")
    };
    let inner = format!("{}1{}", open.repeat(depth), close.repeat(depth));
    let block = format!(r#"{{"type":"tool_result","tool_use_id":"t","content":{inner}}}"#);
    user(&json!("x"))
        .to_string()
        .replace(r#""content":"x""#, &format!(r#""content":[{block}]"#))
}

/// A frame with numbers no JSON parser agrees on.
fn numbers(rng: &mut Rng) -> String {
    let number = [
        "1e400",
        "-1e400",
        "123456789012345678901234567890",
        "-0",
        "1.0e-400",
        "NaN",
    ][rng.usize(..6)];
    format!(
        r#"{{"type":"user_message","data":{{"type":"user","parent_tool_use_id":{number},"message":{{"role":"user","content":"n"}}}}}}"#
    )
}

/// Bytes that are text but hardly JSON.
fn garbage(rng: &mut Rng) -> String {
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"type\"",
        "\"user_message\"",
        "\"data\"",
        "null",
        "1",
        "\"",
        "\\u0000",
        "\\ud800",
        "true",
        " ",
        "\u{2028}",
    ];
    (0..rng.usize(0..40))
        .map(|_| TOKENS[rng.usize(..TOKENS.len())])
        .collect()
}

/// Frames of other types, known or not.
fn other_frame(rng: &mut Rng) -> String {
    [
        r#"{"type":"ping"}"#,
        r#"{"type":"user_message"}"#,
        r#"{"type":"user_message","data":null}"#,
        r#"{"type":"unknown"}"#,
        r#"{"type":"user_message","data":{"type":"user","message":{"role":"assistant","content":"x"}}}"#,
    ][rng.usize(..5)]
        .to_owned()
}
