//! Section 2, fan-out: one session's agent streams bench lines to one client, then to many at
//! once; each client's rate against the single client's, round by round. Flat out, the machine's
//! CPUs are the limit; at a set rate, whether every client keeps up.

use std::time::Instant;

use anyhow::{Context, Result};
use claude_agent_testkit::{TestServer, cpu_seconds};
use serde_json::json;

use crate::frames::{bench_marker, bench_turn, id, latest_seq, ws_after};

/// One turn streamed to one client or to many.
#[derive(Debug)]
pub(crate) struct Turn {
    /// Each client's frames/s.
    pub(crate) rates: Vec<f64>,
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
    Ok(Run {
        lines,
        rate,
        rounds: measured,
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
    let mut rates = Vec::new();
    for reader in readers {
        rates.push(reader.await.context("a client task failed")??.rate());
    }
    let wall = started.elapsed().as_secs_f64();
    Ok(Turn {
        rates,
        server_busy: (cpu_seconds(server.pid())? - server_cpu) / wall,
        clients_busy: (cpu_seconds(bench)? - clients_cpu) / wall,
    })
}
