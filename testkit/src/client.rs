//! A WebSocket client that reads typed server frames, for tests.

use claude_agent_protocol::ServerMessage;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Message},
};

use crate::PATIENCE;

/// A WebSocket client reading typed server frames.
#[derive(Debug)]
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    /// The next frame; fails the test after [`PATIENCE`].
    /// Pings and pongs are skipped: the server pings on a timer, so they may come at any point.
    pub async fn next(&mut self) -> ServerMessage {
        let text = tokio::time::timeout(PATIENCE, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Text(text))) => return text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(other)) => panic!("expected a text frame, got {other:?}"),
                    Some(Err(e)) => panic!("a WebSocket error: {e}"),
                    None => panic!("the connection ended"),
                }
            }
        })
        .await
        .expect("no frame in time");
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("a frame that is no server message ({e}): {text}"))
    }

    /// The close frame's code, after any frames before it.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("no close in time")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.into()),
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return None,
            }
        }
    }

    /// Ends the connection with a TCP reset, as a crashed peer or a middlebox would.
    pub fn reset(self) {
        if let MaybeTlsStream::Plain(tcp) = self.ws.get_ref() {
            let _ = socket2::SockRef::from(tcp).set_linger(Some(std::time::Duration::ZERO));
        }
    }

    /// Ends the connection with a bare FIN: no close frame.
    pub async fn fin(mut self) {
        if let MaybeTlsStream::Plain(tcp) = self.ws.get_mut() {
            let _ = tokio::io::AsyncWriteExt::shutdown(tcp).await;
        }
    }

    /// Closes cleanly: a close frame (1000), then waits for the server's; returns its code.
    pub async fn close(mut self) -> Option<u16> {
        let normal = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "".into(),
        };
        let _ = self.ws.close(Some(normal)).await;
        self.closed().await
    }

    pub async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.ws.send(Message::binary(bytes.to_vec())).await.unwrap();
    }

    /// Sends a user message with `text`, the way the original's README does.
    pub async fn say(&mut self, text: &str) {
        let frame = serde_json::json!({"type": "user_message", "data": {
            "type": "user", "session_id": "s1", "parent_tool_use_id": null,
            "message": {"role": "user", "content": text}}});
        self.send(&frame.to_string()).await;
    }

    /// Frames up to and including the first that `done` accepts.
    pub async fn until(
        &mut self,
        mut done: impl FnMut(&ServerMessage) -> bool,
    ) -> Vec<ServerMessage> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            let last = done(&frame);
            frames.push(frame);
            if last {
                return frames;
            }
        }
    }

    /// Frames up to and including the turn's `result`.
    pub async fn turn(&mut self) -> Vec<ServerMessage> {
        self.until(|frame| sdk_type(frame) == Some("result".to_owned()))
            .await
    }
}

/// The agent message inside an `sdk_message` frame.
pub fn sdk(frame: &ServerMessage) -> Option<Value> {
    match frame {
        ServerMessage::SdkMessage { data, .. } => Some(serde_json::from_str(data.get()).unwrap()),
        _ => None,
    }
}

/// The turn's `result` among `frames`.
pub fn result_of(frames: &[ServerMessage]) -> Value {
    frames
        .iter()
        .filter_map(sdk)
        .find(|m| m["type"] == "result")
        .expect("a result")
}

/// The tool results among `frames`: their text, and whether any is an error.
pub fn tool_results(frames: &[ServerMessage]) -> (String, bool) {
    let (mut text, mut failed) = (String::new(), false);
    let messages = frames
        .iter()
        .filter_map(sdk)
        .filter(|m| m["type"] == "user");
    for message in messages {
        let blocks = message["message"]["content"].as_array().cloned();
        for block in blocks.into_iter().flatten() {
            if block["type"] == "tool_result" {
                failed |= block["is_error"] == true;
                text.push_str(&crate::text_blocks(&block["content"]).concat());
            }
        }
    }
    (text, failed)
}

pub fn sdk_type(frame: &ServerMessage) -> Option<String> {
    sdk(frame).and_then(|m| m["type"].as_str().map(str::to_owned))
}

/// The text of every `error` frame among `frames`.
pub fn errors(frames: &[ServerMessage]) -> Vec<&str> {
    frames
        .iter()
        .filter_map(|frame| match frame {
            ServerMessage::Error { error, .. } => Some(error.as_str()),
            _ => None,
        })
        .collect()
}

/// The text of every `info` frame among `frames`.
pub fn infos(frames: &[ServerMessage]) -> Vec<&str> {
    frames
        .iter()
        .filter_map(|frame| match frame {
            ServerMessage::Info { data, .. } => Some(data.as_str()),
            _ => None,
        })
        .collect()
}

/// The text of every `assistant` message among `frames`, joined.
pub fn assistant_text(frames: &[ServerMessage]) -> String {
    frames
        .iter()
        .filter_map(sdk)
        .filter(|m| m["type"] == "assistant")
        .flat_map(|m| {
            m["message"]["content"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|block| block["text"].as_str().map(str::to_owned))
        .collect()
}

/// Polls `check` until it holds; for state with no event to wait on (such as a process
/// ending), never to pace a test.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
