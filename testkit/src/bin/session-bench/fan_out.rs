//! Section 2, fan-out: one session's agent streams bench lines to one client, then to many at
//! once; each client's rate against the single client's, round by round. Flat out, the machine's
//! CPUs are the limit; at a set rate, whether every client keeps up.

use std::time::Instant;

use anyhow::{Context, Result};
use claude_agent_testkit::{TestServer, cpu_seconds};
use serde_json::json;

use crate::ceiling;
use crate::frames::{bench_marker, bench_turn, id, latest_seq, ws_after};

/// Bytes of each loopback try, and how many: enough for a steady figure in about a second.
const LOOPBACK_BYTES: u64 = 1 << 30;
const LOOPBACK_TRIES: usize = 3;

/// One turn streamed to one client or to many.
#[derive(Debug)]
pub(crate) struct Turn {
    /// Each client's frames/s.
    pub(crate) rates: Vec<f64>,
    /// A bench line's frame, in bytes (the first client's mean).
    pub(crate) frame_bytes: f64,
    /// The server's CPU time over the turn's wall time: near 1, its one thread is the limit.
    pub(crate) server_busy: f64,
    /// The same for the clients, which share this process's one thread.
    pub(crate) clients_busy: f64,
}

/// The rounds of one run: so many lines at a rate (0: flat out).
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) lines: u64,
    pub(crate) rate: u32,
    pub(crate) rounds: Vec<Round>,
    /// The machine's loopback TCP, bytes/s, the best of a few tries made in this run.
    pub(crate) loopback: f64,
}

/// One round: the single client's turn, then the many clients'.
#[derive(Debug)]
pub(crate) struct Round {
    pub(crate) single: Turn,
    pub(crate) many: Turn,
}

pub(crate) async fn measure(
    server: &TestServer,
    lines: u64,
    rate: u32,
    clients: usize,
    rounds: usize,
) -> Result<Run> {
    let session = id(&server.create_session(&json!({})).await)?;
    let mut measured = Vec::new();
    for _ in 0..rounds {
        let single = stream_to(server, &session, 1, lines, rate).await?;
        let many = stream_to(server, &session, clients.max(1), lines, rate).await?;
        measured.push(Round { single, many });
    }
    let mut loopback = 0f64;
    for _ in 0..LOOPBACK_TRIES {
        let once = tokio::task::spawn_blocking(|| ceiling::loopback(LOOPBACK_BYTES)).await??;
        loopback = loopback.max(once);
    }
    Ok(Run {
        lines,
        rate,
        rounds: measured,
        loopback,
    })
}

/// Attaches `clients` to the idle session after all it logged so far, has the first ask for
/// `lines` bench lines at `rate` a second (0: flat out), and times each client from its first
/// line to its last.
async fn stream_to(
    server: &TestServer,
    session: &str,
    clients: usize,
    lines: u64,
    rate: u32,
) -> Result<Turn> {
    let idle = server
        .wait_for_session(session, |info| info["status"] == "idle")
        .await;
    let after = latest_seq(&idle)?;
    let mut attached = Vec::new();
    for _ in 0..clients {
        attached.push(server.attach_to(&ws_after(session, after)).await.0);
    }
    let bench = std::process::id();
    let started = Instant::now();
    let (server_cpu, clients_cpu) = (cpu_seconds(server.pid())?, cpu_seconds(bench)?);
    attached[0].say(&bench_marker(lines, rate)).await;
    // A task each, so that every client reads as soon as its frames come.
    let readers: Vec<_> = attached
        .into_iter()
        .map(|mut client| tokio::spawn(async move { bench_turn(&mut client, lines).await }))
        .collect();
    let (mut rates, mut frame_bytes) = (Vec::new(), None);
    for reader in readers {
        let span = reader.await.context("a client task failed")??;
        rates.push(span.rate());
        frame_bytes.get_or_insert(span.bytes as f64 / span.lines as f64);
    }
    let wall = started.elapsed().as_secs_f64();
    Ok(Turn {
        rates,
        frame_bytes: frame_bytes.context("no client")?,
        server_busy: (cpu_seconds(server.pid())? - server_cpu) / wall,
        clients_busy: (cpu_seconds(bench)? - clients_cpu) / wall,
    })
}
