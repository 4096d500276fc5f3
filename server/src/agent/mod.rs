//! The agent: the Claude Code CLI as a child process speaking stream-json. It tells its session
//! what happens through an [`AgentSink`] and knows neither the log nor the client wire.

mod events;
mod launch;
mod lines;
mod locate;
mod process;
mod stderr;

pub(crate) use events::{AgentEvent, AgentSink, Ready};
pub(crate) use launch::{LaunchSpec, unstartable};
pub use locate::LocateError;
pub(crate) use locate::locate;
pub(crate) use process::{Agent, AgentError};
