//! The claude-agent-server protocol: what travels between a client and the server
//! ([`wire`]), the agent configuration clients post ([`config`]), and the Claude Code CLI's
//! stream-json lines the server reads and writes ([`agent`]), the v1 HTTP API's bodies
//! ([`sessions`]) and its files API's ([`files`]), and the content blocks a user message may
//! hold ([`content`]).
//!
//! Builds natively and for `wasm32-unknown-unknown`; holds no I/O, clocks or randomness.

pub mod agent;
pub mod config;
pub mod content;
pub mod control;
pub mod files;
pub mod permissions;
pub mod schema;
pub mod sessions;
pub mod user_message;
pub mod wire;

pub use agent::{AgentLine, LineKind, MessageKind, ToAgent};
pub use config::{ConfigError, QueryConfig};
pub use sessions::{SessionInfo, SessionStatus};
pub use user_message::SdkUserMessage;
pub use wire::{ClientMessage, ClientMessageError, Seq, ServerMessage};

/// Version of this wire protocol, sent in the `connected` frame. 2: sessions, numbered frames
/// (`seq`), `after=` and `resync_required`, user messages echoed to every client.
pub const PROTOCOL_VERSION: u32 = 2;
