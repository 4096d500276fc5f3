//! `claude-agent-server`: see `--help`.

use std::process::ExitCode;

use clap::Parser;
use claude_agent_server::{Args, init_logging, run, run_if_requested};

fn main() -> ExitCode {
    // The same binary keeps each agent's processes contained (`agent/init.rs`).
    if let Some(code) = run_if_requested() {
        return code;
    }
    let args = Args::parse();
    init_logging(args.log_format);
    let runtime = match args.worker_threads {
        // The relay is I/O-bound: one thread serves it best and leaves the cores to the agents.
        0 | 1 => tokio::runtime::Builder::new_current_thread(),
        threads => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
    }
    .enable_all()
    .build()
    .expect("the tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("claude-agent-server: {error}");
            ExitCode::FAILURE
        }
    }
}
