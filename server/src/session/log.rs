//! A session's log: every frame numbered (`seq`, from 1, never reused), kept up to a byte bound
//! whether or not anyone has read it, and read by any number of cursors, each from where its
//! client left off.
//!
//! Retention is independent of delivery: a frame leaves only when the log is over its bound
//! (the oldest first), or, for an ephemeral frame (a token delta), when the message it belongs
//! to is complete. A cursor whose next frame has left gets [`Resync`] and goes on from the
//! oldest kept. The writer waits while an attached cursor has more than half the bound unread,
//! so a connected client loses nothing; a client that stops answering is dropped by its
//! connection (pings), which releases the writer.
//!
//! With a [`Store`], frames are readable once they are on disk: a blocking thread writes what
//! was appended while it wrote the last batch (so writes group themselves), in parallel with
//! the relay.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use bytes::Bytes;
use claude_agent_protocol::{MessageKind, Seq};
use tokio::sync::Notify;

use super::store::{Saved, Store};
use crate::metrics;

/// Bookkeeping cost of one frame beyond its text, so that many tiny frames also count.
const FRAME_OVERHEAD: usize = 64;
/// Frames up to this many bytes are written to disk at once, on the appending thread.
const INLINE_WRITE_BYTES: usize = 64 << 10;

/// What a frame is to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retention {
    /// Kept until the log is over its bound.
    Durable,
    /// A piece of a message in the making: dropped once the message is complete.
    Ephemeral,
    /// A complete message: the ephemeral frames before it are dropped.
    Completes,
}

impl Retention {
    /// How long an agent message of this kind is kept: token deltas until their message is
    /// complete.
    pub(crate) fn of(kind: &MessageKind<'_>) -> Self {
        match kind {
            MessageKind::StreamEvent => Self::Ephemeral,
            MessageKind::Assistant => Self::Completes,
            _ => Self::Durable,
        }
    }
}

#[derive(Debug)]
struct Entry {
    seq: Seq,
    frame: Bytes,
    /// Bytes appended to the log before this frame, removed ones included.
    offset: u64,
    ephemeral: bool,
}

impl Entry {
    fn cost(&self) -> usize {
        self.frame.len() + FRAME_OVERHEAD
    }
}

#[derive(Debug)]
pub(crate) struct EventLog {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    max_bytes: usize,
    /// Woken when frames become readable.
    appended: Notify,
    /// Woken when a cursor reads or leaves, or frames reach the disk: a waiting writer may go
    /// on.
    drained: Notify,
    /// Written only by the one blocking write in flight.
    store: Option<Mutex<Store>>,
}

#[derive(Debug, Default)]
struct State {
    entries: VecDeque<Entry>,
    /// The last `seq` given.
    latest: Seq,
    /// Every frame up to this `seq` was dropped for the bound (0: none).
    evicted: Seq,
    /// Bytes of the kept entries.
    bytes: usize,
    /// Bytes ever appended.
    appended: u64,
    /// The oldest ephemeral frame not yet dropped.
    first_ephemeral: Option<Seq>,
    /// Attached cursors: id → the last `seq` each has read.
    cursors: BTreeMap<u64, Seq>,
    next_cursor: u64,
    /// Frames up to this `seq` may be read: they are on disk, or there is no disk.
    readable: Seq,
    /// Frames waiting for the disk, from `pending_first` to `latest`.
    pending: Vec<Bytes>,
    /// Their bytes.
    pending_bytes: usize,
    pending_first: Seq,
    /// A blocking write is in flight.
    writing: bool,
}

/// A cursor's next frames are no longer all kept; it goes on from `oldest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resync {
    pub(crate) oldest: Seq,
    pub(crate) latest: Seq,
}

/// Frames being appended together, under one lock.
#[derive(Debug)]
pub(crate) struct Batch<'a> {
    state: &'a mut State,
    stored: bool,
}

impl Batch<'_> {
    /// Appends the frame `frame` makes of its `seq`; returns the `seq`.
    pub(crate) fn push(&mut self, retention: Retention, frame: impl FnOnce(Seq) -> String) -> Seq {
        let seq = self.state.latest + 1;
        let text = frame(seq);
        let frame = Bytes::from(text);
        if self.stored {
            if self.state.pending.is_empty() {
                self.state.pending_first = seq;
            }
            self.state.pending_bytes += frame.len();
            self.state.pending.push(frame.clone());
        }
        self.state.push(seq, retention, frame);
        seq
    }
}

impl EventLog {
    /// An empty log kept in memory only.
    #[cfg(test)]
    fn new(max_bytes: usize) -> Self {
        Self::with(max_bytes, State::default(), None)
    }

    /// The log `saved` from `store` (up to `max_bytes` of its newest frames), appended to it
    /// from now on.
    pub(crate) fn restored(max_bytes: usize, store: Store, saved: Saved) -> Self {
        let mut state = State {
            evicted: saved.evicted,
            latest: saved.evicted,
            ..State::default()
        };
        for frame in saved.frames {
            state.push(frame.seq, frame.retention, Bytes::from(frame.text));
            state.evict(max_bytes);
        }
        state.readable = state.latest;
        Self::with(max_bytes, state, Some(store))
    }

    fn with(max_bytes: usize, state: State, store: Option<Store>) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                max_bytes,
                appended: Notify::new(),
                drained: Notify::new(),
                store: store.map(Mutex::new),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Appends the frames `fill` pushes, in order, numbering them. They can be read once they
    /// are on disk (if there is a store). Never waits: see [`EventLog::ready`].
    pub(crate) fn append<T>(&self, fill: impl FnOnce(&mut Batch<'_>) -> T) -> T {
        let shared = &self.shared;
        let mut state = shared.lock();
        let before = state.latest;
        let stored = shared.store.is_some();
        let filled = fill(&mut Batch {
            state: &mut state,
            stored,
        });
        if state.latest == before {
            return filled;
        }
        state.evict(shared.max_bytes);
        if !stored {
            state.readable = state.latest;
            drop(state);
            shared.appended.notify_waiters();
        } else if !std::mem::replace(&mut state.writing, true) {
            // A small write costs less than a hop to another thread; a big one goes there, so
            // that the relay goes on meanwhile.
            let small = state.pending_bytes <= INLINE_WRITE_BYTES;
            drop(state);
            match small {
                true => shared.write_pending(),
                false => {
                    let shared = self.shared.clone();
                    // Its lines are the session's too.
                    let span = tracing::Span::current();
                    tokio::task::spawn_blocking(move || span.in_scope(|| shared.write_pending()));
                }
            }
        }
        filled
    }

    /// Resolves once every attached cursor has at most half the bound unread: the writer's
    /// wait before it appends more.
    pub(crate) async fn ready(&self) {
        loop {
            let drained = self.shared.drained.notified();
            if !self.lock().lagging(self.shared.max_bytes / 2) {
                return;
            }
            drained.await;
        }
    }

    /// The oldest kept `seq` (`latest + 1` when none is) and the latest.
    pub(crate) fn bounds(&self) -> (Seq, Seq) {
        self.lock().bounds()
    }

    /// A cursor reading the frames after `after`.
    pub(crate) fn cursor(&self, after: Seq) -> Cursor<'_> {
        let mut state = self.lock();
        let id = state.next_cursor;
        state.next_cursor += 1;
        state.cursors.insert(id, after);
        Cursor {
            log: self,
            id,
            after,
            replay_until: state.latest,
        }
    }

    /// Resolves once every frame appended so far is on disk, and there for good (synced).
    pub(crate) async fn flush(&self) {
        loop {
            let written = self.shared.appended.notified();
            {
                let state = self.lock();
                if state.readable == state.latest {
                    break;
                }
            }
            written.await;
        }
        let shared = self.shared.clone();
        let synced = tokio::task::spawn_blocking(move || shared.sync()).await;
        if let Ok(Err(error)) = synced {
            tracing::error!(%error, "could not sync the session log to disk");
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Syncs what the store wrote to the disk.
    fn sync(&self) -> std::io::Result<()> {
        match &self.store {
            Some(store) => store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .sync(),
            None => Ok(()),
        }
    }

    /// Writes what is pending to the store, batch after batch, until nothing is; each batch
    /// becomes readable once written. One runs per log at a time (`writing`).
    fn write_pending(&self) {
        let store = self.store.as_ref().expect("only logs with a store write");
        loop {
            let (frames, first, last, evicted) = {
                let mut state = self.lock();
                if state.pending.is_empty() {
                    state.writing = false;
                    return;
                }
                state.pending_bytes = 0;
                let frames = std::mem::take(&mut state.pending);
                (frames, state.pending_first, state.latest, state.evicted)
            };
            let written = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .append(&frames, first, last, evicted);
            if let Err(error) = written {
                // Clients still get the frames: a full disk must not stop the session.
                tracing::error!(%error, "could not write the session log to disk");
            }
            self.lock().readable = last;
            self.appended.notify_waiters();
            self.drained.notify_waiters();
        }
    }
}

impl State {
    fn push(&mut self, seq: Seq, retention: Retention, frame: Bytes) {
        let entry = Entry {
            seq,
            frame,
            offset: self.appended,
            ephemeral: retention == Retention::Ephemeral,
        };
        self.appended += entry.cost() as u64;
        self.bytes += entry.cost();
        self.latest = seq;
        match retention {
            Retention::Durable => {}
            Retention::Ephemeral => {
                self.first_ephemeral.get_or_insert(seq);
            }
            Retention::Completes => self.drop_ephemeral(),
        }
        self.entries.push_back(entry);
    }

    /// Drops the ephemeral frames kept (all since [`State::first_ephemeral`]: only that tail is
    /// scanned) that every attached cursor has read: a client reading live never misses one,
    /// even when its message completes in the same batch.
    fn drop_ephemeral(&mut self) {
        let Some(first) = self.first_ephemeral.take() else {
            return;
        };
        let read = self.cursors.values().min().copied().unwrap_or(Seq::MAX);
        let start = self.entries.partition_point(|entry| entry.seq < first);
        let tail: Vec<Entry> = self.entries.drain(start..).collect();
        for entry in tail {
            if entry.ephemeral && entry.seq <= read {
                self.bytes -= entry.cost();
            } else {
                if entry.ephemeral {
                    self.first_ephemeral.get_or_insert(entry.seq);
                }
                self.entries.push_back(entry);
            }
        }
    }

    fn evict(&mut self, max_bytes: usize) {
        while self.bytes > max_bytes && self.entries.len() > 1 {
            let entry = self.entries.pop_front().expect("not empty");
            self.bytes -= entry.cost();
            self.evicted = entry.seq;
        }
    }

    fn bounds(&self) -> (Seq, Seq) {
        let oldest = self.entries.front().map_or(self.latest + 1, |e| e.seq);
        (oldest, self.latest)
    }

    /// Whether an attached cursor has more than `bound` bytes unread, or the disk is that
    /// far behind.
    fn lagging(&self, bound: usize) -> bool {
        if self.pending_bytes > bound {
            return true;
        }
        let Some(&slowest) = self.cursors.values().min() else {
            return false;
        };
        let next = self.entries.partition_point(|entry| entry.seq <= slowest);
        self.entries
            .get(next)
            .is_some_and(|entry| self.appended - entry.offset > bound as u64)
    }
}

/// Reads a log from where its client left off; detaches on drop.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    log: &'a EventLog,
    id: u64,
    /// The last `seq` read.
    after: Seq,
    /// The latest `seq` when it began: frames up to it are replayed, not live.
    replay_until: Seq,
}

impl Cursor<'_> {
    /// Waits for frames after the cursor and moves up to `max` of them into `out`; or says
    /// that some of them are gone, and moves on to the oldest kept.
    pub(crate) async fn next_batch(
        &mut self,
        out: &mut Vec<Bytes>,
        max: usize,
    ) -> Result<(), Resync> {
        loop {
            let appended = self.log.shared.appended.notified();
            {
                let mut state = self.log.lock();
                if self.after < state.evicted {
                    self.after = state.evicted;
                    state.cursors.insert(self.id, self.after);
                    let (oldest, latest) = state.bounds();
                    return Err(Resync { oldest, latest });
                }
                let next = state
                    .entries
                    .partition_point(|entry| entry.seq <= self.after);
                let taken = state.entries.range(next..).take(max);
                let before = out.len();
                let mut replayed = 0;
                for entry in taken {
                    out.push(entry.frame.clone());
                    self.after = entry.seq;
                    replayed += usize::from(entry.seq <= self.replay_until);
                }
                if out.len() > before {
                    state.cursors.insert(self.id, self.after);
                    drop(state);
                    self.log.shared.drained.notify_waiters();
                    if replayed > 0 {
                        metrics::replayed(replayed);
                    }
                    return Ok(());
                }
            }
            appended.await;
        }
    }

    /// The last `seq` this cursor has read.
    pub(crate) fn after(&self) -> Seq {
        self.after
    }
}

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        self.log.lock().cursors.remove(&self.id);
        self.log.shared.drained.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn append(log: &EventLog, texts: &[&str]) {
        log.append(|batch| {
            for text in texts {
                batch.push(Retention::Durable, |seq| format!("{seq}:{text}"));
            }
        });
    }

    async fn take(cursor: &mut Cursor<'_>) -> Result<Vec<String>, Resync> {
        let mut out = Vec::new();
        cursor.next_batch(&mut out, usize::MAX).await?;
        Ok(out
            .iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect())
    }

    #[tokio::test]
    async fn frames_are_numbered_and_kept_for_every_cursor() {
        let log = EventLog::new(1 << 20);
        append(&log, &["a", "b"]);
        let mut first = log.cursor(0);
        let mut second = log.cursor(1);
        assert_eq!(take(&mut first).await.unwrap(), ["1:a", "2:b"]);
        assert_eq!(take(&mut second).await.unwrap(), ["2:b"]);
        drop(first);
        append(&log, &["c"]);
        assert_eq!(take(&mut second).await.unwrap(), ["3:c"]);
        // Read is not released: a new cursor from the start gets everything.
        assert_eq!(
            take(&mut log.cursor(0)).await.unwrap(),
            ["1:a", "2:b", "3:c"]
        );
        assert_eq!(log.bounds(), (1, 3));
    }

    #[tokio::test]
    async fn a_cursor_behind_what_is_kept_is_told_then_goes_on() {
        let log = EventLog::new(3 * (FRAME_OVERHEAD + 3));
        append(&log, &["1", "2", "3", "4", "5"]);
        assert_eq!(log.bounds(), (3, 5));
        let mut cursor = log.cursor(1);
        assert_eq!(
            take(&mut cursor).await,
            Err(Resync {
                oldest: 3,
                latest: 5
            })
        );
        assert_eq!(take(&mut cursor).await.unwrap(), ["3:3", "4:4", "5:5"]);
        // A cursor that had everything up to what was dropped has lost nothing.
        assert_eq!(take(&mut log.cursor(2)).await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn token_deltas_go_once_their_message_is_complete() {
        let log = EventLog::new(1 << 20);
        let push = |retentions: &[Retention]| {
            log.append(|batch| {
                for &retention in retentions {
                    batch.push(retention, |seq| format!("{seq}:{retention:?}"));
                }
            });
        };
        let mut live = log.cursor(0);
        push(&[
            Retention::Ephemeral,
            Retention::Durable,
            Retention::Ephemeral,
        ]);
        assert_eq!(
            take(&mut live).await.unwrap().len(),
            3,
            "live readers see deltas"
        );
        push(&[Retention::Completes]);
        drop(live);
        let replayed = take(&mut log.cursor(0)).await.unwrap();
        assert_eq!(replayed, ["2:Durable", "4:Completes"]);
        // A delta whose message completes in the same batch stays until live readers have it.
        let mut live = log.cursor(4);
        push(&[Retention::Ephemeral, Retention::Completes]);
        assert_eq!(
            take(&mut live).await.unwrap(),
            ["5:Ephemeral", "6:Completes"]
        );
        push(&[Retention::Completes]);
        let replayed = take(&mut log.cursor(4)).await.unwrap();
        assert_eq!(replayed, ["6:Completes", "7:Completes"], "then it goes");
    }

    #[tokio::test]
    async fn a_lagging_cursor_holds_back_the_writer_until_it_reads() {
        let log = EventLog::new(4 * (FRAME_OVERHEAD + 3));
        let mut cursor = log.cursor(0);
        append(&log, &["1", "2", "3"]);
        let waiting = tokio::time::timeout(Duration::from_millis(50), log.ready());
        assert!(
            waiting.await.is_err(),
            "three unread frames are over half the bound"
        );
        let (taken, ()) = tokio::join!(take(&mut cursor), log.ready());
        assert_eq!(taken.unwrap().len(), 3);
        drop(cursor);
        append(&log, &["4", "5", "6"]);
        log.ready().await; // no cursor, no wait
    }
}
