//! Test doubles for claude-agent-server: a scripted Anthropic Messages API ([`MockApi`]) for
//! the real `claude` CLI, the `fake-agent` binary that stands in for the CLI itself, and the
//! harness that runs the real server ([`TestServer`]) and talks to it ([`Client`]).

mod client;
mod clock;
mod content;
mod markers;
mod mock_api;
mod report;
mod server;

pub use client::{Client, assistant_text, errors, eventually, infos, sdk, sdk_type};
pub use clock::monotonic_ns;
pub use content::text_blocks;
pub use markers::Marker;
pub use mock_api::{MockApi, RecordedRequest};
pub use report::{machine, median, target};
pub use server::{
    PATIENCE, TestServer, built_binary, cpu_seconds, descendants, is_alive, real_claude, signal,
    status_mb,
};
