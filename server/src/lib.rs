//! The claude-agent-server relay: runs the Claude Code CLI and relays it over WebSocket.
//!
//! Run with `cargo run -p claude-agent-server -- --help`.

mod agent;
mod args;
mod connection;
mod hosts;
mod http;
mod origins;
mod server;
mod session;
mod state;

pub use agent::LocateError;
pub use args::Args;
pub use server::{ServerError, run};
