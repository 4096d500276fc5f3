//! What an agent tells its session: every message line and notice, in order, and its end. The
//! agent knows its session only as an [`AgentSink`]; the session turns events into frames.

use std::{future::Future, pin::Pin};

use claude_agent_protocol::agent::{AgentRequest, MessageHead};
use thiserror::Error;

use super::process::Answer;

/// One thing the agent did, borrowed from its output where it can be.
#[derive(Debug)]
pub(crate) enum AgentEvent<'a> {
    /// A message for clients, as the CLI printed it (without its `\n`).
    Message { raw: &'a str, head: MessageHead<'a> },
    /// The CLI asks something (`can_use_tool`, `hook_callback`, …); `answer` gives its one
    /// answer.
    Request {
        request: AgentRequest,
        answer: Answer,
    },
    /// The CLI withdraws one of its requests (an interrupt while it waits): no answer is due.
    Cancelled { request_id: String },
    /// A line the CLI wrote to stderr.
    Stderr(&'a str),
    /// Something about its output that clients should know.
    Notice(Notice),
    /// The process ended: `report` says how; `expected` when the server ended it.
    /// `undelivered`: the `uuid`s of user messages queued for it that it never got.
    Exited {
        report: String,
        expected: bool,
        undelivered: Vec<String>,
    },
}

/// Output of the agent that is not passed on, and why.
#[derive(Debug, Error)]
pub(crate) enum Notice {
    #[error("Ignored a line from the agent ({error}): {preview}")]
    NotAMessage { error: String, preview: String },
    #[error("Dropped a line of {len} bytes from the agent: over {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error("The agent's output ended in the middle of a line; dropped {len} bytes: {preview}")]
    EndedMidLine { len: usize, preview: String },
}

/// A boxed future, for the one async method of [`AgentSink`].
pub(crate) type Ready<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where an agent's events go.
pub(crate) trait AgentSink: Send + Sync + std::fmt::Debug + 'static {
    /// Takes `events` in order, leaving the vector empty. It must not block: it is called with
    /// the agent's read buffer borrowed.
    fn accept(&self, events: &mut Vec<AgentEvent<'_>>);
    /// Resolves once the sink can take more: how a slow reader holds the agent back.
    fn ready(&self) -> Ready<'_>;
}
