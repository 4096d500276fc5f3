//! `claude-agent-server`: see `--help`.

use std::process::ExitCode;

use clap::Parser;
use claude_agent_server::{Args, run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("claude-agent-server: {error}");
            ExitCode::FAILURE
        }
    }
}
