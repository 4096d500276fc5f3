//! `session-bench`: the v1 sessions API under load, each figure against a baseline measured in
//! the same run: a pre-warmed first turn of the real CLI against a warm turn, ten clients of one
//! session against one, a thousand sessions (mostly hibernated) against one, and a replay of
//! logged frames against the same frames live. Prints a Markdown report. Build first:
//! `cargo build --release -p claude-agent-server -p claude-agent-testkit`.

mod ceiling;
mod fan_out;
mod frames;
mod prewarm;
mod reconnect;
mod report;
mod scale;

use std::path::Path;

use anyhow::Result;
use clap::{Parser, ValueEnum};
use claude_agent_testkit::{MockApi, TestServer, built_binary, real_claude};

use report::Report;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks claude-agent-server's v1 sessions: pre-warm, fan-out, scale, replay")]
struct Options {
    /// Sessions of the pre-warm section (real CLI), each a pre-warmed and a cold one.
    #[arg(long, default_value_t = 5)]
    prewarm_sessions: usize,
    /// Bench lines (1 KB each) per fan-out turn.
    #[arg(long, default_value_t = 100_000)]
    fan_out_lines: u64,
    /// Lines per second of the fan-out's second run, with the agent at a set rate (for 2 s, 3
    /// rounds at most), after the flat-out one; 0: none.
    #[arg(long, default_value_t = 40_000)]
    fan_out_rate: u32,
    /// Clients of the fan-out turn (against one).
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// Sessions of the scale section.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Sessions of the scale section with a client attached (they do not hibernate).
    #[arg(long, default_value_t = 10)]
    attached: usize,
    /// Session creations in flight at once in the scale section.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Logged frames replayed in the reconnect section.
    #[arg(long, default_value_t = 10_000)]
    replay_lines: u64,
    /// Rounds of the fan-out section; the report gives medians.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Rounds of the reconnect section, more as each takes milliseconds and its noise is
    /// large.
    #[arg(long, default_value_t = 21)]
    replay_rounds: usize,
    /// Only these sections (repeatable); default all.
    #[arg(long, value_enum)]
    only: Vec<Section>,
    /// A smoke run: 1 pre-warm session, 20000 fan-out lines, 100 sessions, one round each.
    #[arg(long, conflicts_with_all = ["prewarm_sessions", "fan_out_lines", "sessions", "rounds", "replay_rounds"])]
    quick: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    Prewarm,
    FanOut,
    Scale,
    Reconnect,
}

impl Options {
    fn runs(&self, section: Section) -> bool {
        self.only.is_empty() || self.only.contains(&section)
    }

    fn quick(mut self) -> Self {
        if self.quick {
            self.prewarm_sessions = 1;
            self.fan_out_lines = 20_000;
            self.sessions = 100;
            self.rounds = 1;
            self.replay_rounds = 1;
        }
        self.rounds = self.rounds.max(1);
        self.replay_rounds = self.replay_rounds.max(1);
        self.attached = self.attached.min(self.sessions);
        self
    }
}

fn main() -> Result<()> {
    let options = Options::parse().quick();
    // One thread, so the bench's clients take at most one of the CPUs from the server.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(&options))?.print(&options);
    Ok(())
}

/// The sections one after another, each on a server of its own, stopped before the next, so
/// none disturbs another.
async fn bench(options: &Options) -> Result<Report> {
    let bench = std::env::current_exe()?;
    let server = built_binary(&bench, "claude-agent-server");
    let fake_agent = built_binary(&bench, "fake-agent");
    let mut report = Report::default();
    if options.runs(Section::Prewarm) {
        let api = MockApi::start().await;
        let claude = claude_server(&server, &api).await;
        report.prewarm = Some(prewarm::measure(&claude, options.prewarm_sessions).await?);
        stop(claude).await;
    }
    if options.runs(Section::FanOut) {
        let fake = fake_server(&server, &fake_agent, &[]).await;
        let lines = options.fan_out_lines;
        let rounds = options.rounds;
        let (rate, clients) = (options.fan_out_rate, options.clients);
        let mut runs = vec![fan_out::measure(&fake, lines, 0, clients, rounds).await?];
        if rate > 0 {
            let paced = u64::from(rate) * 2;
            runs.push(fan_out::measure(&fake, paced, rate, clients, rounds.min(3)).await?);
        }
        report.fan_out = Some(runs);
        stop(fake).await;
    }
    if options.runs(Section::Scale) {
        let fake = fake_server(&server, &fake_agent, &["--idle-timeout", "1s"]).await;
        let scale = scale::Plan {
            sessions: options.sessions,
            attached: options.attached,
            concurrency: options.concurrency,
        };
        report.scale = Some(scale.measure(&fake).await?);
        stop(fake).await;
    }
    if options.runs(Section::Reconnect) {
        let fake = fake_server(&server, &fake_agent, &[]).await;
        let lines = options.replay_lines;
        report.reconnect = Some(reconnect::measure(&fake, lines, options.replay_rounds).await?);
        stop(fake).await;
    }
    Ok(report)
}

/// The server running the real CLI against the scripted Messages API at `api`.
async fn claude_server(server: &Path, api: &MockApi) -> TestServer {
    let url = api.base_url();
    let env = [
        ("ANTHROPIC_BASE_URL", url.as_str()),
        ("ANTHROPIC_API_KEY", "test-key"),
        ("RUST_LOG", "warn"),
    ];
    TestServer::start(server, &real_claude(), &env, &[]).await
}

/// The server running `fake-agent`, with quiet logs (it logs nothing per frame anyway).
async fn fake_server(server: &Path, fake_agent: &Path, args: &[&str]) -> TestServer {
    TestServer::start(server, fake_agent, &[("RUST_LOG", "warn")], args).await
}

/// Stops `server` and flushes what the section wrote to disk (the fan-out's logs come to a
/// gigabyte), so that neither its shutdown nor its writeback runs into the next section.
async fn stop(mut server: TestServer) {
    server.terminate().await;
    nix::unistd::sync();
}
