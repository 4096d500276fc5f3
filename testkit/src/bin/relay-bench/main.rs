//! `relay-bench`: how fast `claude-agent-server` relays agent lines to a WebSocket client on
//! loopback, against two baselines measured in the same run with the same receiving code: the
//! agent's stdout read directly (the pipe's ceiling) and a minimal WebSocket server (one hop's
//! ceiling). Prints a Markdown report. Build first:
//! `cargo build --release -p claude-agent-server -p claude-agent-testkit`.

mod job;
mod measure;
mod one_hop;
mod pipe;
mod relay;
mod report;
mod ws_client;

use std::{future::Future, path::Path};

use anyhow::{Context, Result, ensure};
use clap::Parser;
use claude_agent_testkit::built_binary;

use job::Job;
use measure::Stats;
use report::{Memory, Report, Row};
use ws_client::WsClient;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks claude-agent-server's relay of agent output over WebSocket")]
struct Options {
    /// Messages in the flat-out (throughput) run.
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// Bytes per agent line, newline included.
    #[arg(long, default_value_t = 1024)]
    size: usize,
    /// Messages per second in the paced (latency) run.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Length of the paced run.
    #[arg(long, default_value_t = 5)]
    paced_seconds: u64,
    /// A smoke run: 20000 messages, 1 s paced.
    #[arg(long, conflicts_with_all = ["messages", "paced_seconds"])]
    quick: bool,
    /// Internal: be the one-hop WebSocket server.
    #[arg(long = "one-hop-server", hide = true)]
    one_hop_server: bool,
}

impl Options {
    /// The flat-out and the paced turn.
    fn jobs(&self) -> Result<(Job, Job)> {
        // Room for the fields, so every line is exactly `size` bytes.
        ensure!(self.size >= 128, "--size must be at least 128");
        ensure!(
            self.messages >= 2 && self.rate >= 1,
            "too few messages to time"
        );
        let (messages, seconds) = if self.quick {
            (20_000, 1)
        } else {
            (self.messages, self.paced_seconds)
        };
        let flat_out = Job {
            messages,
            size: self.size,
            rate: 0,
        };
        let paced = Job {
            messages: u64::from(self.rate) * seconds,
            rate: self.rate,
            ..flat_out
        };
        Ok((flat_out, paced))
    }
}

fn main() -> Result<()> {
    let options = Options::parse();
    if options.one_hop_server {
        return one_hop::serve();
    }
    let (flat_out, paced) = options.jobs()?;
    // One thread, like a single client; the servers are other processes.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(flat_out, paced))?.print()
}

/// Measures the three paths one after another, so they never compete for the CPUs.
async fn bench(flat_out: Job, paced: Job) -> Result<Report> {
    let bench = std::env::current_exe()?;
    let fake_agent = built_binary(&bench, "fake-agent");
    let pipe = measure_pipe(&fake_agent, flat_out, paced).await?;
    let hop = measure_one_hop(&bench, flat_out, paced).await?;
    let (relay, memory) = measure_relay(&bench, &fake_agent, flat_out, paced).await?;
    Ok(Report {
        flat_out,
        paced,
        pipe,
        hop,
        relay,
        memory,
    })
}

async fn measure_pipe(fake_agent: &Path, flat_out: Job, paced: Job) -> Result<Row> {
    let mut agent = pipe::Agent::spawn(fake_agent)?;
    Ok(Row {
        path: "agent stdout, read directly",
        flat_out: bounded("pipe, flat out", flat_out, agent.turn(flat_out)).await?,
        paced: bounded("pipe, paced", paced, agent.turn(paced)).await?,
    })
}

async fn measure_one_hop(bench: &Path, flat_out: Job, paced: Job) -> Result<Row> {
    let server = one_hop::OneHop::start(bench).await?;
    let mut client = WsClient::connect(&server.addr).await?;
    let row = Row {
        path: "one WebSocket hop",
        flat_out: bounded("one hop, flat out", flat_out, client.turn(flat_out)).await?,
        paced: bounded("one hop, paced", paced, client.turn(paced)).await?,
    };
    client.close().await?;
    Ok(row)
}

/// The server under test; its idle RSS is read before any client connects.
async fn measure_relay(
    bench: &Path,
    fake_agent: &Path,
    flat_out: Job,
    paced: Job,
) -> Result<(Row, Memory)> {
    let server = built_binary(bench, "claude-agent-server");
    let relay = relay::Relay::start(&server, fake_agent).await;
    let idle = relay.rss_mb()?;
    let mut client = WsClient::connect(relay.addr()).await?;
    let flat_out = bounded("server, flat out", flat_out, client.turn(flat_out)).await?;
    let peak = relay.peak_rss_mb()?;
    let paced = bounded("server, paced", paced, client.turn(paced)).await?;
    client.close().await?;
    let row = Row {
        path: "claude-agent-server",
        flat_out,
        paced,
    };
    Ok((row, Memory { idle, peak }))
}

/// `turn` within `job`'s time limit: a stalled path fails the bench instead of hanging it.
async fn bounded(what: &str, job: Job, turn: impl Future<Output = Result<Stats>>) -> Result<Stats> {
    let stats = tokio::time::timeout(job.time_limit(), turn)
        .await
        .with_context(|| format!("{what}: stalled (no result within {:?})", job.time_limit()))?
        .with_context(|| format!("{what}: failed"))?;
    Ok(stats)
}
