//! Test doubles for claude-agent-server: a scripted Anthropic Messages API ([`MockApi`]) for
//! the real `claude` CLI, the `fake-agent` binary that stands in for the CLI itself, and the
//! harness that runs the real server ([`TestServer`]) and talks to it ([`Client`]).
//!
//! The scripted API is the crate `claude-agent-mock-api`, which the server's `--demo` runs
//! too; it is re-exported here, with its markers, for the tests.

mod client;
mod clock;
pub mod e2b;
mod parent;
mod report;
mod seed;
mod server;

pub use claude_agent_mock_api::{Marker, MockApi, PATIENCE, RecordedRequest, text_blocks};
pub use client::{
    Client, assistant_text, errors, eventually, infos, result_of, sdk, sdk_type, tool_results,
};
pub use clock::monotonic_ns;
pub use e2b::E2bMock;
pub use fastrand::Rng;
pub use parent::until_stdin_closes;
pub use report::{machine, median, target};
pub use seed::seeded;
pub use server::{
    TestServer, agents, built_binary, command_line, cpu_seconds, descendants, is_alive,
    json_answer, real_claude, signal, status_mb,
};
