//! The claude-agent-server protocol: what travels between a client and the server
//! ([`wire`]), the agent configuration clients post ([`config`]), and the Claude Code CLI's
//! stream-json lines the server reads and writes ([`agent`]).
//!
//! Builds natively and for `wasm32-unknown-unknown`; holds no I/O, clocks or randomness.

pub mod agent;
pub mod config;
pub mod schema;
pub mod user_message;
pub mod wire;

pub use agent::{AgentLine, LineKind, MessageKind, ToAgent};
pub use config::{ConfigError, QueryConfig};
pub use user_message::SdkUserMessage;
pub use wire::{ClientMessage, ClientMessageError, ServerMessage};

/// Version of this wire protocol, sent in the `connected` frame; bumped only when a change is not
/// additive.
pub const PROTOCOL_VERSION: u32 = 1;
