//! `/ws`: a connection attached to the session. Frames from the session's log go out in order;
//! client frames are validated and turned into agent input.

use std::sync::Arc;

use axum::{
    extract::{
        State,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use claude_agent_protocol::{ClientMessage, PROTOCOL_VERSION, ServerMessage};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use tokio::sync::mpsc;

use crate::{
    agent::AgentError,
    http::AppState,
    session::{Session, SessionError},
};

/// Largest client frame, as the original (Bun's default).
const MAX_FRAME: usize = 16 << 20;
/// Frames written before one flush: fewer, bigger socket writes.
const BATCH: usize = 1024;

pub(crate) async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !state.origins.allow(&headers) {
        let origin = headers.get(header::ORIGIN);
        tracing::warn!(?origin, "refused a WebSocket from another origin");
        return (
            StatusCode::FORBIDDEN,
            "This origin may not connect: start the server with --cors-origin to allow it",
        )
            .into_response();
    }
    match upgrade {
        Ok(upgrade) => upgrade
            .max_message_size(MAX_FRAME)
            .on_upgrade(move |socket| connection(socket, state)),
        // A plain GET of /ws is a 404 in the original.
        Err(_) => crate::http::not_found().await,
    }
}

async fn connection(mut socket: WebSocket, state: AppState) {
    let session = state.session.clone();
    let mut reader = match session.attach() {
        Ok(reader) => reader,
        Err(refusal) => {
            let _ = socket.send(frame(&ServerMessage::error(refusal))).await;
            let _ = socket.send(close(close_code::NORMAL, "")).await;
            return;
        }
    };
    tracing::info!(session = session.id(), "client attached");
    let connected = ServerMessage::Connected {
        protocol_version: Some(PROTOCOL_VERSION),
        session_id: Some(session.id().to_owned()),
    };
    if socket.send(frame(&connected)).await.is_err() {
        return;
    }
    let (mut sink, mut stream) = socket.split();
    // Answers meant for this connection only (rejected frames), interleaved with the log.
    let (replies, mut direct) = mpsc::channel::<ServerMessage>(64);
    if let Err(error) = session.start().await {
        let _ = replies.try_send(ServerMessage::error(error));
    }

    let shutting_down = {
        let send = async {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                tokio::select! {
                    biased;
                    Some(reply) = direct.recv() => {
                        if sink.send(frame(&reply)).await.is_err() {
                            return;
                        }
                    }
                    dropped = reader.next_batch(&mut batch, BATCH) => {
                        if dropped > 0 {
                            let notice = ServerMessage::error(format!(
                                "{dropped} agent messages were dropped while no client was connected \
                                 (the session log is bounded; see --log-bytes)"
                            ));
                            if sink.feed(frame(&notice)).await.is_err() {
                                return;
                            }
                        }
                        if forward(&mut sink, &mut batch).await.is_err() {
                            return;
                        }
                        reader.delivered();
                    }
                }
            }
        };
        let receive = async {
            while let Some(Ok(message)) = stream.next().await {
                let text = match message {
                    Message::Text(text) => text,
                    // Binary frames are read as text, as the original did.
                    Message::Binary(bytes) => match Utf8Bytes::try_from(bytes) {
                        Ok(text) => text,
                        Err(_) => {
                            let error = "Invalid message format: a binary frame that is not UTF-8";
                            let _ = replies.send(ServerMessage::error(error)).await;
                            continue;
                        }
                    },
                    Message::Close(_) => return,
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                handle(&session, &text, &replies).await;
            }
        };
        tokio::select! {
            () = send => false,
            () = receive => false,
            () = state.shutdown.cancelled() => true,
        }
    };
    if shutting_down {
        let _ = sink
            .send(close(close_code::AWAY, "server shutting down"))
            .await;
    }
    tracing::info!(session = session.id(), "client detached");
}

/// Acts on one client frame; what goes wrong is told to this client.
async fn handle(session: &Arc<Session>, text: &str, replies: &mpsc::Sender<ServerMessage>) {
    let outcome = match ClientMessage::from_json(text) {
        Err(error) => Err(error.to_string()),
        Ok(ClientMessage::UserMessage { data }) => {
            session.send_user(data).await.map_err(|e| e.to_string())
        }
        Ok(ClientMessage::Interrupt) => {
            // The CLI answers at once unless it is wedged; don't hold up this client's frames.
            let (session, replies) = (session.clone(), replies.clone());
            tokio::spawn(async move {
                match session.interrupt().await {
                    Err(SessionError::Agent(AgentError::Gone)) => {} // nothing to interrupt
                    Err(error) => {
                        let _ = replies.send(ServerMessage::error(error)).await;
                    }
                    Ok(()) => {}
                }
            });
            Ok(())
        }
    };
    if let Err(error) = outcome {
        let _ = replies.send(ServerMessage::error(error)).await;
    }
}

async fn forward(
    sink: &mut SplitSink<WebSocket, Message>,
    batch: &mut Vec<Utf8Bytes>,
) -> Result<(), axum::Error> {
    for text in batch.drain(..) {
        sink.feed(Message::Text(text)).await?;
    }
    sink.flush().await
}

fn frame(message: &ServerMessage) -> Message {
    Message::Text(message.to_json().into())
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}
