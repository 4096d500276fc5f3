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

use std::future::Future;

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
    /// Flat-out rounds; the paths take turns in each, and the report gives medians.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// A smoke run: 20000 messages, 1 s paced, one round.
    #[arg(long, conflicts_with_all = ["messages", "paced_seconds", "rounds"])]
    quick: bool,
    /// Internal: be the one-hop WebSocket server.
    #[arg(long = "one-hop-server", hide = true)]
    one_hop_server: bool,
}

impl Options {
    /// The flat-out and the paced turn.
    fn jobs(&self) -> Result<(Job, Job, usize)> {
        // Room for the fields, so every line is exactly `size` bytes.
        ensure!(self.size >= 128, "--size must be at least 128");
        ensure!(
            self.messages >= 2 && self.rate >= 1,
            "too few messages to time"
        );
        let (messages, seconds, rounds) = if self.quick {
            (20_000, 1, 1)
        } else {
            (self.messages, self.paced_seconds, self.rounds.max(1))
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
        Ok((flat_out, paced, rounds))
    }
}

fn main() -> Result<()> {
    let options = Options::parse();
    if options.one_hop_server {
        return one_hop::serve();
    }
    let (flat_out, paced, rounds) = options.jobs()?;
    // One thread, like a single client; the servers are other processes.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(flat_out, paced, rounds))?.print()
}

/// Measures the three paths one after another, so they never compete for the CPUs: `rounds`
/// flat-out turns each, taking turns so that the machine's slow and fast moments fall on all
/// three alike, then one paced turn each.
async fn bench(flat_out: Job, paced: Job, rounds: usize) -> Result<Report> {
    let bench = std::env::current_exe()?;
    let fake_agent = built_binary(&bench, "fake-agent");
    let mut pipe = pipe::Agent::spawn(&fake_agent)?;
    let hop_server = one_hop::OneHop::start(&bench).await?;
    let mut hop = WsClient::connect(&hop_server.addr).await?;
    let relay_server =
        relay::Relay::start(&built_binary(&bench, "claude-agent-server"), &fake_agent).await;
    let idle = relay_server.rss_mb()?;
    let mut relay = WsClient::connect(relay_server.addr()).await?;

    let (mut pipe_runs, mut hop_runs, mut relay_runs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        pipe_runs.push(bounded("pipe, flat out", flat_out, pipe.turn(flat_out)).await?);
        hop_runs.push(bounded("one hop, flat out", flat_out, hop.turn(flat_out)).await?);
        relay_runs.push(bounded("server, flat out", flat_out, relay.turn(flat_out)).await?);
    }
    let peak = relay_server.peak_rss_mb()?;
    let report = Report {
        flat_out,
        paced,
        pipe: Row {
            path: "agent stdout, read directly",
            flat_out: pipe_runs,
            paced: bounded("pipe, paced", paced, pipe.turn(paced)).await?,
        },
        hop: Row {
            path: "one WebSocket hop",
            flat_out: hop_runs,
            paced: bounded("one hop, paced", paced, hop.turn(paced)).await?,
        },
        relay: Row {
            path: "claude-agent-server",
            flat_out: relay_runs,
            paced: bounded("server, paced", paced, relay.turn(paced)).await?,
        },
        memory: Memory { idle, peak },
    };
    hop.close().await?;
    relay.close().await?;
    Ok(report)
}

/// `turn` within `job`'s time limit: a stalled path fails the bench instead of hanging it.
async fn bounded(what: &str, job: Job, turn: impl Future<Output = Result<Stats>>) -> Result<Stats> {
    let stats = tokio::time::timeout(job.time_limit(), turn)
        .await
        .with_context(|| format!("{what}: stalled (no result within {:?})", job.time_limit()))?
        .with_context(|| format!("{what}: failed"))?;
    Ok(stats)
}
