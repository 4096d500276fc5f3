//! The WebSocket client of both WebSocket paths (one hop, and the server under test).

use anyhow::{Context, Result, bail};
use claude_agent_testkit::monotonic_ns;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

use crate::{
    job::Job,
    measure::{Seen, Stats, Tally},
};

/// One tokio-tungstenite connection, kept for every turn on its path.
#[derive(Debug)]
pub(crate) struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    pub(crate) async fn connect(addr: &str) -> Result<Self> {
        let url = format!("ws://{addr}/ws");
        let (ws, _) = tokio_tungstenite::connect_async(&url)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        Ok(Self { ws })
    }

    /// Ends the connection with a close handshake, as a well-behaved client does.
    pub(crate) async fn close(mut self) -> Result<()> {
        self.ws.close(None).await?;
        Ok(())
    }

    /// Sends the user message for `job` and reads frames until its result.
    pub(crate) async fn turn(&mut self, job: Job) -> Result<Stats> {
        self.ws.send(Message::text(job.client_frame())).await?;
        let mut tally = Tally::new(job.messages, job.frame_len());
        loop {
            let message = self
                .ws
                .next()
                .await
                .context("the connection ended mid-turn")??;
            let at_ns = monotonic_ns();
            match message {
                Message::Text(text) => {
                    if tally.record(text.as_bytes(), at_ns)? == Seen::Result {
                        return tally.finish();
                    }
                }
                Message::Close(close) => bail!("closed mid-turn: {close:?}"),
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }
}
