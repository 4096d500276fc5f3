//! The claude-agent-server relay: runs the Claude Code CLI and relays it over WebSocket.
//!
//! Run with `cargo run -p claude-agent-server -- --help`.

mod agent;
mod args;
mod auth;
mod connection;
mod demo;
mod files;
mod home;
mod hosts;
mod http;
mod listener;
mod lock;
mod logs;
mod metrics;
mod notify;
mod origins;
mod ready;
mod server;
mod session;
mod state;

pub use agent::{Containment, LocateError, run_if_requested};
pub use args::Args;
pub use auth::{AuthError, Token};
pub use logs::{LogFormat, init_logging};
pub use server::{ServerError, run};
