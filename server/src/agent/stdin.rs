//! The agent's stdin: lines wait in a bounded queue for the one task that writes them, so that
//! no caller ever waits on a CLI that stopped reading, and a line is never cut by a caller that
//! gave up halfway through writing it.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use claude_agent_protocol::{SdkUserMessage, ToAgent, agent::ControlToAgent};
use tokio::{io::AsyncWriteExt, process::ChildStdin, sync::mpsc, task::JoinHandle};
use tracing::Instrument;

use super::AgentError;
use crate::lock::lock;

/// User messages that may wait for the agent, and their bytes: past either, more are refused
/// (the agent is not reading). Control lines, small and few, always get in.
pub(crate) const QUEUED_MESSAGES: usize = 256;
pub(crate) const QUEUED_BYTES: usize = 64 << 20;
/// How long an ended agent's writer may take to give up what it could not write.
const FINISH: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether a line counts against the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    Message,
    Control,
}

/// One line for the writer: what it counts as, its bytes, and a user message's `uuid`.
#[derive(Debug)]
struct Item {
    kind: Line,
    line: Vec<u8>,
    uuid: Option<String>,
}

/// The queue's sending end.
type Sender = mpsc::UnboundedSender<Item>;

#[derive(Debug)]
pub(super) struct Stdin {
    /// `None` once closed: the writer then ends the pipe after what was queued.
    lines: Mutex<Option<Sender>>,
    queued: Arc<Queued>,
    /// The writer, which ends with the `uuid`s of the user messages it could not write.
    writer: Mutex<Option<JoinHandle<Vec<String>>>>,
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
    uuid: Option<String>,
}

impl Room {
    pub(crate) fn send(mut self) -> Result<(), AgentError> {
        let line = self.line.take().expect("a room is sent once");
        let bytes = line.len();
        let item = Item {
            kind: Line::Message,
            line,
            uuid: self.uuid.take(),
        };
        self.sender.send(item).map_err(|_| {
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
        let writer = tokio::spawn(write(pipe, receiver, queued.clone()).in_current_span());
        Self {
            lines: Mutex::new(Some(lines)),
            queued,
            writer: Mutex::new(Some(writer)),
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
            uuid: message.uuid.clone(),
        })
    }

    /// Queues a control line, which is small and always gets in.
    pub(super) fn send_control(&self, control: ControlToAgent) -> Result<(), AgentError> {
        let line = line(&ToAgent::Control(control));
        let sender = self.lines().clone().ok_or(AgentError::Gone)?;
        self.queued.add(Line::Control, line.len());
        let item = Item {
            kind: Line::Control,
            line,
            uuid: None,
        };
        sender.send(item).map_err(|_| AgentError::Gone)
    }

    /// No more lines: the pipe closes once those queued are written, and the CLI sees its end.
    pub(super) fn close(&self) {
        self.lines().take();
    }

    /// Closes the queue and waits (briefly) for the writer: the `uuid`s of the user messages
    /// the agent never got, as it ended first.
    pub(super) async fn finish(&self) -> Vec<String> {
        self.close();
        let writer = lock(&self.writer).take();
        let Some(writer) = writer else {
            return Vec::new();
        };
        let abort = writer.abort_handle();
        match tokio::time::timeout(FINISH, writer).await {
            Ok(Ok(undelivered)) => undelivered,
            Ok(Err(_)) | Err(_) => {
                abort.abort();
                Vec::new()
            }
        }
    }

    fn lines(&self) -> std::sync::MutexGuard<'_, Option<Sender>> {
        lock(&self.lines)
    }
}

/// Writes each line whole, in order, until the queue closes or the pipe breaks; then the
/// `uuid`s of the user messages left unwritten.
async fn write(
    mut pipe: ChildStdin,
    mut lines: mpsc::UnboundedReceiver<Item>,
    queued: Arc<Queued>,
) -> Vec<String> {
    while let Some(item) = lines.recv().await {
        let written = pipe.write_all(&item.line).await;
        queued.remove(item.kind, item.line.len());
        if let Err(error) = written {
            tracing::debug!(%error, "agent stdin closed");
            lines.close();
            let mut unwritten = Vec::from_iter(item.uuid);
            while let Ok(item) = lines.try_recv() {
                queued.remove(item.kind, item.line.len());
                unwritten.extend(item.uuid);
            }
            return unwritten;
        }
    }
    Vec::new()
}
