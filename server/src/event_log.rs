//! A session's ordered log of server frames: what the agent emitted, kept until a client has it.
//!
//! Frames are numbered in order. The attached reader (the connection) takes them in order and
//! marks them delivered, which releases them; a new reader starts at the first frame not yet
//! delivered, so output produced while no client is connected reaches the next one. While a
//! reader is attached, at most [`IN_FLIGHT_BYTES`] wait for it and the agent waits beyond that
//! (backpressure through its stdout pipe). While none is, up to `max_bytes` are kept; past
//! that the oldest are dropped and counted, and the next reader is told how many.

use std::{
    collections::VecDeque,
    sync::{Mutex, MutexGuard},
};

use axum::extract::ws::Utf8Bytes;
use claude_agent_protocol::ServerMessage;
use tokio::sync::Notify;

/// Bookkeeping cost of one frame beyond its text, so that many tiny frames also count.
const FRAME_OVERHEAD: usize = 64;
/// How far an attached reader may fall behind before the agent waits for it.
const IN_FLIGHT_BYTES: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct EventLog {
    state: Mutex<State>,
    max_bytes: usize,
    /// Woken when a frame is appended.
    appended: Notify,
    /// Woken when frames are delivered or the reader leaves: a waiting append may go on.
    drained: Notify,
}

/// Holds exactly the frames no client has had.
#[derive(Debug, Default)]
struct State {
    frames: VecDeque<Utf8Bytes>,
    /// Sequence number of `frames[0]`.
    first_seq: u64,
    bytes: usize,
    /// Frames dropped undelivered since the last reader attached.
    dropped: u64,
    reader_attached: bool,
}

impl State {
    fn pop_front(&mut self) {
        if let Some(frame) = self.frames.pop_front() {
            self.bytes -= frame.len() + FRAME_OVERHEAD;
            self.first_seq += 1;
        }
    }
}

/// The frame of a server message.
pub(crate) fn frame(message: &ServerMessage) -> Utf8Bytes {
    Utf8Bytes::from(message.to_json())
}

/// The attached reader's handle; detaches on drop.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    log: &'a EventLog,
    cursor: u64,
}

impl EventLog {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            state: Mutex::default(),
            max_bytes,
            appended: Notify::new(),
            drained: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a server message (a notice or an error) as a frame.
    pub(crate) async fn append_message(&self, message: &ServerMessage) {
        self.append(frame(message)).await;
    }

    /// Appends a frame; waits while the attached reader is [`IN_FLIGHT_BYTES`] behind.
    pub(crate) async fn append(&self, frame: Utf8Bytes) {
        self.append_all(std::iter::once(frame)).await;
    }

    /// Appends frames in order, waking the reader once per batch rather than once per frame.
    pub(crate) async fn append_all(&self, frames: impl IntoIterator<Item = Utf8Bytes>) {
        let mut frames = frames.into_iter().peekable();
        let bound = self.max_bytes.min(IN_FLIGHT_BYTES);
        while frames.peek().is_some() {
            let drained = self.drained.notified();
            let mut appended = 0;
            {
                let mut state = self.lock();
                while let Some(frame) = frames.peek() {
                    let cost = frame.len() + FRAME_OVERHEAD;
                    let behind = state.bytes + cost > bound && !state.frames.is_empty();
                    if state.reader_attached && behind {
                        break;
                    }
                    while state.bytes + cost > self.max_bytes && !state.frames.is_empty() {
                        state.pop_front();
                        state.dropped += 1;
                    }
                    state.bytes += cost;
                    state.frames.extend(frames.next());
                    appended += 1;
                }
            }
            if appended > 0 {
                self.appended.notify_waiters();
            } else {
                drained.await;
            }
        }
    }

    /// Attaches the one reader, at the first undelivered frame; `None` if one is attached.
    pub(crate) fn attach(&self) -> Option<Reader<'_>> {
        let mut state = self.lock();
        if state.reader_attached {
            return None;
        }
        state.reader_attached = true;
        Some(Reader {
            log: self,
            cursor: state.first_seq,
        })
    }
}

impl Reader<'_> {
    /// Waits for frames after the cursor and moves up to `max` of them into `out`. Returns how
    /// many undelivered frames were dropped before this reader could have them.
    pub(crate) async fn next_batch(&mut self, out: &mut Vec<Utf8Bytes>, max: usize) -> u64 {
        loop {
            let appended = self.log.appended.notified();
            {
                let mut state = self.log.lock();
                let dropped = std::mem::take(&mut state.dropped);
                self.cursor = self.cursor.max(state.first_seq);
                let start = (self.cursor - state.first_seq) as usize;
                out.extend(state.frames.range(start..).take(max).cloned());
                self.cursor += out.len() as u64;
                if !out.is_empty() || dropped > 0 {
                    return dropped;
                }
            }
            appended.await;
        }
    }

    /// Marks every frame this reader has taken as delivered, releasing them.
    pub(crate) fn delivered(&self) {
        let mut state = self.log.lock();
        while state.first_seq < self.cursor && !state.frames.is_empty() {
            state.pop_front();
        }
        drop(state);
        self.log.drained.notify_waiters();
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.log.lock().reader_attached = false;
        self.log.drained.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn frame(text: &str) -> Utf8Bytes {
        Utf8Bytes::from(text)
    }

    async fn take(reader: &mut Reader<'_>) -> (Vec<String>, u64) {
        let mut out = Vec::new();
        let dropped = reader.next_batch(&mut out, usize::MAX).await;
        (out.iter().map(|f| f.as_str().to_owned()).collect(), dropped)
    }

    #[tokio::test]
    async fn frames_wait_for_the_next_reader_in_order() {
        let log = EventLog::new(1 << 20);
        log.append(frame("a")).await;
        {
            let mut reader = log.attach().unwrap();
            assert!(log.attach().is_none(), "one reader at a time");
            assert_eq!(take(&mut reader).await, (vec!["a".to_owned()], 0));
            reader.delivered();
            log.append(frame("b")).await;
            // Taken but never marked delivered: the connection died with it in flight.
            assert_eq!(take(&mut reader).await, (vec!["b".to_owned()], 0));
        }
        log.append(frame("c")).await;
        let mut reader = log.attach().unwrap();
        assert_eq!(
            take(&mut reader).await,
            (vec!["b".to_owned(), "c".to_owned()], 0)
        );
    }

    #[tokio::test]
    async fn without_a_reader_the_oldest_frames_are_dropped_and_counted() {
        let log = EventLog::new(3 * (FRAME_OVERHEAD + 1));
        for text in ["1", "2", "3", "4", "5"] {
            log.append(frame(text)).await;
        }
        let mut reader = log.attach().unwrap();
        assert_eq!(
            take(&mut reader).await,
            (vec!["3".into(), "4".into(), "5".into()], 2)
        );
    }

    #[tokio::test]
    async fn delivered_frames_are_released() {
        let log = EventLog::new(1 << 20);
        let mut reader = log.attach().unwrap();
        log.append(frame("1")).await;
        log.append(frame("2")).await;
        assert_eq!(take(&mut reader).await.0.len(), 2);
        assert_eq!(log.lock().frames.len(), 2, "taken is not yet delivered");
        reader.delivered();
        let state = log.lock();
        assert_eq!((state.frames.len(), state.bytes), (0, 0));
    }

    #[tokio::test]
    async fn an_attached_reader_holds_back_the_writer_instead_of_losing_frames() {
        let log = EventLog::new(2 * (FRAME_OVERHEAD + 1));
        let mut reader = log.attach().unwrap();
        log.append(frame("1")).await;
        log.append(frame("2")).await;
        let blocked = tokio::time::timeout(Duration::from_millis(50), log.append(frame("3")));
        assert!(blocked.await.is_err(), "a full log waits for its reader");
        let ((taken, dropped), ()) = tokio::join!(
            async {
                let batch = take(&mut reader).await;
                reader.delivered();
                batch
            },
            log.append(frame("3")),
        );
        assert_eq!((taken, dropped), (vec!["1".into(), "2".into()], 0));
        assert_eq!(take(&mut reader).await, (vec!["3".into()], 0));
    }
}
