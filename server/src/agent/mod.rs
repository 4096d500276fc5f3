//! The agent: the Claude Code CLI as a child process speaking stream-json.

mod launch;
mod locate;
mod process;
mod stderr_tail;

pub(crate) use launch::LaunchSpec;
pub use locate::LocateError;
pub(crate) use locate::locate;
pub(crate) use process::{Agent, AgentError};
