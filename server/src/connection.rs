//! One WebSocket client of a session: it reads the session's log through its own cursor from
//! where the client left off, and turns the client's frames into session calls. It pings, drops
//! a client that stops answering, and closes as the protocol says.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use bytes::Bytes;
use claude_agent_protocol::{ClientMessage, PROTOCOL_VERSION, SdkUserMessage, Seq, ServerMessage};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use tokio::{sync::mpsc, time::Instant};
use tokio_tungstenite::tungstenite;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    metrics,
    session::{Attached, Resync, Session},
};

/// Frames written before one flush: fewer, bigger socket writes.
const BATCH: usize = 1024;
/// A client's user messages waiting for the agent to take them; the connection reads on
/// meanwhile, so a hung agent never stalls it.
const QUEUED_MESSAGES: usize = 32;
/// Connections so far: each is `client-<n>` where a permission prompt says who answered it.
static CLIENTS: AtomicU64 = AtomicU64::new(0);

/// How the server tells a live client from one that vanished.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Liveness {
    /// A ping goes out this often.
    pub(crate) ping_interval: Duration,
}

impl Liveness {
    /// A client heard from for this long is dropped: three pings unanswered.
    fn silence(self) -> Duration {
        self.ping_interval * 3
    }
}

/// Why a connection ended.
enum End {
    /// The client sent a close frame (answered with one), or went away.
    Client,
    /// The client broke the protocol: closed with this code.
    Protocol(u16, &'static str),
    /// The client did not answer pings.
    Silent,
    /// The session was deleted.
    Ended,
    Shutdown,
}

/// Serves one client until it leaves, from the frame after `after`.
pub(crate) async fn serve(
    socket: WebSocket,
    attached: Attached,
    after: Option<Seq>,
    shutdown: CancellationToken,
    liveness: Liveness,
) {
    let session = attached.session().clone();
    let mut cursor = session.cursor(after);
    let (oldest_seq, latest_seq) = session.bounds();
    let connected = ServerMessage::Connected {
        protocol_version: Some(PROTOCOL_VERSION),
        session_id: Some(session.id().to_owned()),
        latest_seq: Some(latest_seq),
        oldest_seq: Some(oldest_seq),
        after: Some(cursor.after()),
        pending_permissions: session.prompts(),
    };
    let client = format!("client-{}", CLIENTS.fetch_add(1, Ordering::Relaxed) + 1);
    tracing::info!(after = cursor.after(), "client attached");
    let (mut sink, mut stream) = socket.split();
    if sink.send(frame(&connected)).await.is_err() {
        return;
    }
    // Frames meant for this connection only (rejections, pings), interleaved with the log.
    let (replies, mut direct) = mpsc::channel::<Message>(64);
    // When the client was last heard from, in milliseconds since `start`.
    let start = Instant::now();
    let heard = AtomicU64::new(0);
    let (inputs, mut queued) = mpsc::channel::<SdkUserMessage>(QUEUED_MESSAGES);
    let since_start = || start.elapsed().as_millis() as u64;

    let end = {
        let send = async {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                tokio::select! {
                    biased;
                    Some(reply) = direct.recv() => {
                        if sink.send(reply).await.is_err() {
                            return End::Client;
                        }
                    }
                    read = cursor.next_batch(&mut batch, BATCH) => {
                        if let Err(Resync { oldest, latest }) = read {
                            let resync = ServerMessage::ResyncRequired {
                                oldest_seq: oldest,
                                latest_seq: latest,
                            };
                            if sink.feed(frame(&resync)).await.is_err() {
                                return End::Client;
                            }
                        }
                        if forward(&mut sink, &mut batch).await.is_err() {
                            return End::Client;
                        }
                        session.delivered(cursor.after());
                    }
                }
            }
        };
        // In order, one at a time, apart from the reading.
        let deliver = async {
            while let Some(message) = queued.recv().await {
                if let Err(error) = session.send_user(message).await {
                    let _ = replies.send(frame(&ServerMessage::error(error))).await;
                }
            }
            std::future::pending().await
        };
        let receive = async {
            loop {
                let message = match stream.next().await {
                    None => return End::Client,
                    Some(Ok(message)) => message,
                    Some(Err(error)) => return broken(error),
                };
                heard.store(since_start(), Ordering::Relaxed);
                let text = match message {
                    Message::Text(text) => text,
                    // Binary frames are read as text, as the original did.
                    Message::Binary(bytes) => match Utf8Bytes::try_from(bytes) {
                        Ok(text) => text,
                        Err(_) => {
                            let error = "Invalid message format: a binary frame that is not UTF-8";
                            let _ = replies.send(frame(&ServerMessage::error(error))).await;
                            continue;
                        }
                    },
                    Message::Close(_) => return End::Client,
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                handle(&session, &client, &text, &inputs, &replies).await;
            }
        };
        let watch = async {
            loop {
                tokio::time::sleep(liveness.ping_interval).await;
                let silent = since_start().saturating_sub(heard.load(Ordering::Relaxed));
                if Duration::from_millis(silent) >= liveness.silence() {
                    return End::Silent;
                }
                let _ = replies.try_send(Message::Ping(Bytes::new()));
            }
        };
        tokio::select! {
            end = send => end,
            end = receive => end,
            end = watch => end,
            end = deliver => end,
            () = session.ended().cancelled() => End::Ended,
            () = shutdown.cancelled() => End::Shutdown,
        }
    };
    let closing = match end {
        // tungstenite has queued the answer to the client's close frame: flushing sends it.
        End::Client => None,
        End::Protocol(code, reason) => Some(close(code, reason)),
        End::Silent => {
            tracing::info!("dropped a client that stopped answering");
            None
        }
        End::Ended => Some(close(close_code::AWAY, "session deleted")),
        End::Shutdown => Some(close(close_code::AWAY, "server shutting down")),
    };
    if let Some(closing) = closing {
        let _ = sink.send(closing).await;
    }
    let _ = tokio::time::timeout(liveness.ping_interval, sink.close()).await;
    tracing::info!("client detached");
}

/// The close code for a broken receive: 1009 for a frame over the limit, 1007 for text that
/// is not UTF-8, 1002 otherwise.
fn broken(error: axum::Error) -> End {
    match error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .map(|e| *e)
    {
        Ok(tungstenite::Error::Capacity(_)) => {
            End::Protocol(close_code::SIZE, "frame over the size limit")
        }
        Ok(tungstenite::Error::Utf8(_)) => End::Protocol(close_code::INVALID, "invalid UTF-8"),
        Ok(tungstenite::Error::Protocol(_)) => {
            End::Protocol(close_code::PROTOCOL, "protocol error")
        }
        _ => End::Client,
    }
}

/// Acts on one client frame; what goes wrong is told to this client.
async fn handle(
    session: &Arc<Session>,
    client: &str,
    text: &str,
    inputs: &mpsc::Sender<SdkUserMessage>,
    replies: &mpsc::Sender<Message>,
) {
    let outcome = match ClientMessage::from_json(text) {
        Err(error) => Err(error.to_string()),
        Ok(ClientMessage::UserMessage { data }) => inputs.try_send(data).map_err(|_| {
            format!(
                "{QUEUED_MESSAGES} of this connection's messages wait for the agent, which may \
                 be hung (interrupt it): this message was not sent"
            )
        }),
        Ok(ClientMessage::Interrupt) => {
            // The CLI answers at once unless it is wedged; don't hold up this client's frames.
            let (session, replies) = (session.clone(), replies.clone());
            tokio::spawn(
                async move {
                    if let Err(error) = session.interrupt().await {
                        let _ = replies.send(frame(&ServerMessage::error(error))).await;
                    }
                }
                .in_current_span(),
            );
            Ok(())
        }
        Ok(ClientMessage::PermissionResponse { data }) => session
            .answer_permission(&data, client)
            .map_err(|error| error.to_string()),
        Ok(ClientMessage::Control { data }) => {
            // The CLI answers in its own time: this client's frames go on meanwhile.
            let (session, replies) = (session.clone(), replies.clone());
            tokio::spawn(
                async move {
                    let data = session.control(data).await;
                    let _ = replies
                        .send(frame(&ServerMessage::ControlResult { data }))
                        .await;
                }
                .in_current_span(),
            );
            Ok(())
        }
    };
    if let Err(error) = outcome {
        let _ = replies.send(frame(&ServerMessage::error(error))).await;
    }
}

async fn forward(
    sink: &mut SplitSink<WebSocket, Message>,
    batch: &mut Vec<Bytes>,
) -> Result<(), axum::Error> {
    metrics::relayed(batch.len(), batch.iter().map(Bytes::len).sum());
    for bytes in batch.drain(..) {
        let text = Utf8Bytes::try_from(bytes).expect("the log holds JSON text");
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

/// Refuses a client the session's policy turns away, as the original does.
pub(crate) async fn refuse(mut socket: WebSocket, error: impl std::fmt::Display) {
    let _ = socket.send(frame(&ServerMessage::error(error))).await;
    let _ = socket.send(close(close_code::NORMAL, "")).await;
}
