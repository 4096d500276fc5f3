//! Baseline: a minimal WebSocket server that sends the bench frames itself, the ceiling of one
//! WebSocket hop. It runs in its own process (this binary with `--one-hop-server`) so it never
//! shares a CPU budget or runtime with the client, like the real server.

use std::{
    io::{self, BufRead, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::Stdio,
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use claude_agent_testkit::{Marker, monotonic_ns};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tokio_tungstenite::tungstenite::{self, Message, WebSocket};

use crate::job;

/// The flag that turns this binary into the one-hop server.
pub(crate) const FLAG: &str = "--one-hop-server";
/// Frames written before one flush: the server under test batches the same way.
const BATCH: usize = 256;

/// The one-hop server process, killed on drop.
#[derive(Debug)]
pub(crate) struct OneHop {
    _child: Child,
    pub(crate) addr: String,
}

impl OneHop {
    /// Runs `bench` (this binary) as the one-hop server and waits for its address.
    pub(crate) async fn start(bench: &Path) -> Result<Self> {
        let mut child = Command::new(bench)
            .arg(FLAG)
            // Never written: its end tells the server that we are gone.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().context("one-hop stdout")?;
        let line = BufReader::new(stdout).lines().next_line().await?;
        let addr = line
            .as_deref()
            .and_then(|line| line.strip_prefix("listening on "))
            .with_context(|| format!("the one-hop server said {line:?}"))?
            .to_owned();
        Ok(Self {
            _child: child,
            addr,
        })
    }
}

/// The server process: one connection, answering every bench marker with its frames. Plain
/// blocking tungstenite, so nothing but the WebSocket hop itself sits between the frames and
/// the socket, and pacing sleeps like `fake-agent`'s.
pub(crate) fn serve() -> Result<()> {
    exit_when_orphaned();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    let (stream, _) = listener.accept()?;
    // The best a relay can do for paced frames: no Nagle delay.
    stream.set_nodelay(true)?;
    let mut ws = tungstenite::accept(stream).map_err(|e| anyhow::anyhow!("handshake: {e}"))?;
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => {
                if let Some(Marker::Bench {
                    lines,
                    line_bytes,
                    rate,
                }) = Marker::find(&text)
                {
                    send_turn(&mut ws, lines, line_bytes, rate)?;
                }
            }
            Ok(Message::Close(_))
            | Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return Ok(());
            }
            Ok(_) => {}
            Err(error) => return Err(error.into()),
        }
    }
}

/// Exits once the bench closes our stdin, even if it died without killing us.
fn exit_when_orphaned() {
    thread::spawn(|| {
        let _ = io::stdin().lock().read_until(b'\n', &mut Vec::new());
        std::process::exit(0);
    });
}

/// One turn: `lines` bench frames of `line_bytes` lines, flat out or at `rate`, then a result.
fn send_turn(
    ws: &mut WebSocket<TcpStream>,
    lines: u64,
    line_bytes: usize,
    rate: u32,
) -> tungstenite::Result<()> {
    if rate == 0 {
        send_flat_out(ws, lines, line_bytes)?;
    } else {
        send_paced(ws, lines, line_bytes, rate)?;
    }
    let result = format!("bench: {lines} lines");
    let result = serde_json::json!({"type": "result", "subtype": "success", "result": result});
    ws.send(Message::text(job::frame(&result.to_string())))
}

/// All frames built before the first is sent, then fed and flushed in batches: the ceiling
/// excludes making the frames. Their `t_ns` is build time, but nobody reads latency here.
fn send_flat_out(
    ws: &mut WebSocket<TcpStream>,
    lines: u64,
    line_bytes: usize,
) -> tungstenite::Result<()> {
    let frames: Vec<Message> = (0..lines)
        .map(|seq| job::stream_event(seq, monotonic_ns(), line_bytes))
        .map(|line| Message::text(job::frame(&line)))
        .collect();
    for (i, frame) in frames.into_iter().enumerate() {
        ws.write(frame)?;
        if (i + 1) % BATCH == 0 {
            ws.flush()?;
        }
    }
    ws.flush()
}

/// One frame per deadline, stamped and flushed when sent; deadlines count from the start
/// (like `fake-agent`), so one late frame does not delay all the later ones.
fn send_paced(
    ws: &mut WebSocket<TcpStream>,
    lines: u64,
    line_bytes: usize,
    rate: u32,
) -> tungstenite::Result<()> {
    let interval = Duration::from_secs(1) / rate;
    let start = Instant::now();
    for seq in 0..lines {
        let deadline = start + interval * u32::try_from(seq).unwrap_or(u32::MAX);
        thread::sleep(deadline.saturating_duration_since(Instant::now()));
        let line = job::stream_event(seq, monotonic_ns(), line_bytes);
        ws.send(Message::text(job::frame(&line)))?;
    }
    Ok(())
}
