//! The agent: the Claude Code CLI as a child process speaking stream-json. It tells its session
//! what happens through an [`AgentSink`] and knows neither the log nor the client wire.

mod contain;
mod events;
mod init;
mod launch;
mod lines;
mod locate;
mod no_key;
mod process;
mod stderr;
mod stdin;

pub use contain::Containment;
pub(crate) use events::{AgentEvent, AgentSink, Ready};
pub use init::run_if_requested;
pub(crate) use launch::{LaunchSpec, unstartable};
pub use locate::LocateError;
pub(crate) use locate::locate;
pub(crate) use no_key::hint as no_key_hint;
pub(crate) use process::{Agent, AgentError, Answer};
