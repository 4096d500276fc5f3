//! The agent's stdin: lines wait in a bounded queue for the one task that writes them, so that
//! no caller ever waits on a CLI that stopped reading, and a line is never cut by a caller that
//! gave up halfway through writing it.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use claude_agent_protocol::{SdkUserMessage, ToAgent, agent::ControlToAgent};
use tokio::{io::AsyncWriteExt, process::ChildStdin, sync::mpsc};

use super::AgentError;

/// User messages that may wait for the agent, and their bytes: past either, more are refused
/// (the agent is not reading). Control lines, small and few, always get in.
pub(crate) const QUEUED_MESSAGES: usize = 256;
pub(crate) const QUEUED_BYTES: usize = 64 << 20;

/// Whether a line counts against the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Message,
    Control,
}

/// The queue's sending end: each line with what it counts as.
type Sender = mpsc::UnboundedSender<(Line, Vec<u8>)>;

#[derive(Debug)]
pub(super) struct Stdin {
    /// `None` once closed: the writer then ends the pipe after what was queued.
    lines: Mutex<Option<Sender>>,
    queued: Arc<Queued>,
}

/// What waits to be written: user messages, and the bytes of every line.
#[derive(Debug, Default)]
struct Queued {
    messages: AtomicUsize,
    bytes: AtomicUsize,
}

impl Queued {
    fn add(&self, kind: Line, bytes: usize) {
        self.bytes.fetch_add(bytes, Ordering::SeqCst);
        if kind == Line::Message {
            self.messages.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn remove(&self, kind: Line, bytes: usize) {
        self.bytes.fetch_sub(bytes, Ordering::SeqCst);
        if kind == Line::Message {
            self.messages.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A user message's place in the queue: sent, or given back when dropped.
#[derive(Debug)]
pub(crate) struct Room {
    sender: Sender,
    queued: Arc<Queued>,
    line: Option<Vec<u8>>,
}

impl Room {
    pub(crate) fn send(mut self) -> Result<(), AgentError> {
        let line = self.line.take().expect("a room is sent once");
        let bytes = line.len();
        self.sender.send((Line::Message, line)).map_err(|_| {
            self.queued.remove(Line::Message, bytes);
            AgentError::Gone
        })
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        if let Some(line) = &self.line {
            self.queued.remove(Line::Message, line.len());
        }
    }
}

/// A line for the agent: JSON and its newline.
fn line(value: &impl serde::Serialize) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).expect("an agent input always serializes");
    line.push(b'\n');
    line
}

impl Stdin {
    /// Starts the writer of `pipe`.
    pub(super) fn new(pipe: ChildStdin) -> Self {
        let (lines, receiver) = mpsc::unbounded_channel();
        let queued = Arc::new(Queued::default());
        tokio::spawn(write(pipe, receiver, queued.clone()));
        Self {
            lines: Mutex::new(Some(lines)),
            queued,
        }
    }

    /// Room in the queue for a user message, or why it cannot wait: taken before the message
    /// is logged, so that one the agent cannot take is refused before any client sees it.
    pub(super) fn reserve(&self, message: &SdkUserMessage) -> Result<Room, AgentError> {
        let line = line(message);
        let sender = self.lines().clone().ok_or(AgentError::Gone)?;
        let queued = self.queued.clone();
        let messages = queued.messages.load(Ordering::SeqCst);
        let waiting = queued.bytes.load(Ordering::SeqCst);
        if messages >= QUEUED_MESSAGES || (messages > 0 && waiting + line.len() > QUEUED_BYTES) {
            return Err(AgentError::Busy { messages });
        }
        queued.add(Line::Message, line.len());
        Ok(Room {
            sender,
            queued,
            line: Some(line),
        })
    }

    /// Queues a control line, which is small and always gets in.
    pub(super) fn send_control(&self, control: ControlToAgent) -> Result<(), AgentError> {
        let line = line(&ToAgent::Control(control));
        let sender = self.lines().clone().ok_or(AgentError::Gone)?;
        self.queued.add(Line::Control, line.len());
        sender
            .send((Line::Control, line))
            .map_err(|_| AgentError::Gone)
    }

    /// No more lines: the pipe closes once those queued are written, and the CLI sees its end.
    pub(super) fn close(&self) {
        self.lines().take();
    }

    fn lines(&self) -> std::sync::MutexGuard<'_, Option<Sender>> {
        self.lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Writes each line whole, in order, until the queue closes or the pipe breaks.
async fn write(
    mut pipe: ChildStdin,
    mut lines: mpsc::UnboundedReceiver<(Line, Vec<u8>)>,
    queued: Arc<Queued>,
) {
    while let Some((kind, line)) = lines.recv().await {
        let written = pipe.write_all(&line).await;
        queued.remove(kind, line.len());
        if let Err(error) = written {
            tracing::debug!(%error, "agent stdin closed");
            return;
        }
    }
}
