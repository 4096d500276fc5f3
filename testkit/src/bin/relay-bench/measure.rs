//! The receiving side's work, identical on every path so the paths compare fairly: find
//! `seq` and `t_ns` in each message by plain byte search (no JSON parsing), check that nothing
//! was lost, reordered or resized (but for the server's own `seq` on its frames), and keep what
//! throughput and latency need.

use anyhow::{Context, Result, bail, ensure};
use memchr::memmem::Finder;

/// The agent line's own `seq` (the server's frames carry theirs before `data`).
const SEQ: &[u8] = br#""stream_event","seq":"#;
/// What the server's frame number (`"seq":N,`) adds to a frame, at most.
const FRAME_SEQ_BYTES: usize = 28;
const T_NS: &[u8] = br#""t_ns":"#;
const RESULT: &[u8] = br#""type":"result""#;
const ERROR_FRAME: &[u8] = br#"{"type":"error""#;

/// What one received message was.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// A bench line, in order and of the expected size.
    Event,
    /// The turn's result, after every bench line.
    Result,
    /// Anything else (`connected`, `info`, the agent's `system/init`).
    Other,
}

/// Running account of one turn, fed message by message.
#[derive(Debug)]
pub(crate) struct Tally {
    expected: u64,
    message_len: usize,
    seq: Finder<'static>,
    t_ns: Finder<'static>,
    result: Finder<'static>,
    received: u64,
    first_ns: u64,
    last_ns: u64,
    max_gap_ns: u64,
    latencies_ns: Vec<u64>,
}

impl Tally {
    /// A turn of `expected` bench messages, each exactly `message_len` bytes as received.
    pub(crate) fn new(expected: u64, message_len: usize) -> Self {
        Self {
            expected,
            message_len,
            seq: Finder::new(SEQ),
            t_ns: Finder::new(T_NS),
            result: Finder::new(RESULT),
            received: 0,
            first_ns: 0,
            last_ns: 0,
            max_gap_ns: 0,
            // Allocated up front so the receiver never pauses to grow it mid-run.
            latencies_ns: Vec::with_capacity(usize::try_from(expected).unwrap_or(0)),
        }
    }

    /// Accounts `message`, received at `at_ns` (CLOCK_MONOTONIC); fails on any loss,
    /// reordering, resizing or error frame.
    pub(crate) fn record(&mut self, message: &[u8], at_ns: u64) -> Result<Seen> {
        let Some((seq, t_ns)) = self.event_fields(message) else {
            return self.not_an_event(message);
        };
        ensure!(
            seq == self.received,
            "message lost or reordered: expected seq {}, got {seq}",
            self.received
        );
        ensure!(
            (self.message_len..=self.message_len + FRAME_SEQ_BYTES).contains(&message.len()),
            "seq {seq} is {} bytes, expected {}",
            message.len(),
            self.message_len
        );
        if self.received == 0 {
            self.first_ns = at_ns;
        } else {
            self.max_gap_ns = self.max_gap_ns.max(at_ns - self.last_ns);
        }
        self.last_ns = at_ns;
        self.received += 1;
        self.latencies_ns.push(at_ns.saturating_sub(t_ns));
        Ok(Seen::Event)
    }

    /// The numbers after `"seq":` and the `"t_ns":` that follows it.
    fn event_fields(&self, message: &[u8]) -> Option<(u64, u64)> {
        let rest = &message[self.seq.find(message)? + SEQ.len()..];
        let seq = digits(rest)?;
        let rest = &rest[self.t_ns.find(rest)? + T_NS.len()..];
        Some((seq, digits(rest)?))
    }

    fn not_an_event(&self, message: &[u8]) -> Result<Seen> {
        if message.starts_with(ERROR_FRAME) {
            bail!("error frame: {}", String::from_utf8_lossy(message));
        }
        if self.result.find(message).is_none() {
            return Ok(Seen::Other);
        }
        ensure!(
            self.received == self.expected,
            "the result came after {} of {} messages",
            self.received,
            self.expected
        );
        Ok(Seen::Result)
    }

    /// The turn's figures; call once the result was seen.
    pub(crate) fn finish(mut self) -> Result<Stats> {
        ensure!(
            self.received >= 2,
            "too few messages to time: {}",
            self.received
        );
        self.latencies_ns.sort_unstable();
        Ok(Stats {
            messages: self.received,
            message_len: self.message_len,
            seconds: (self.last_ns - self.first_ns) as f64 / 1e9,
            max_gap_ns: self.max_gap_ns,
            latencies_ns: self.latencies_ns,
        })
    }
}

/// The leading decimal number of `bytes`.
fn digits(bytes: &[u8]) -> Option<u64> {
    let len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut number = 0u64;
    for &digit in &bytes[..len] {
        number = number
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    (len > 0).then_some(number)
}

/// One finished turn as the client saw it.
#[derive(Debug)]
pub(crate) struct Stats {
    messages: u64,
    message_len: usize,
    /// From the first message received to the last.
    seconds: f64,
    max_gap_ns: u64,
    /// Agent write (or one-hop send) to client receipt, sorted.
    latencies_ns: Vec<u64>,
}

impl Stats {
    /// Messages after the first, over the time from the first to the last.
    pub(crate) fn msgs_per_sec(&self) -> f64 {
        (self.messages - 1) as f64 / self.seconds
    }

    /// Bytes as received (WebSocket: the frame's text; pipe: the line with its newline).
    pub(crate) fn mb_per_sec(&self) -> f64 {
        self.msgs_per_sec() * self.message_len as f64 / 1e6
    }

    /// The longest wait between two consecutive messages.
    pub(crate) fn max_gap_ms(&self) -> f64 {
        self.max_gap_ns as f64 / 1e6
    }

    /// Nearest-rank percentile `p` (0..=100) of the latencies, in microseconds.
    pub(crate) fn latency_us(&self, p: f64) -> Result<f64> {
        let rank = (p / 100.0 * self.latencies_ns.len() as f64).ceil() as usize;
        let sample = self
            .latencies_ns
            .get(rank.saturating_sub(1))
            .context("no samples")?;
        Ok(*sample as f64 / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job;

    #[test]
    fn counts_in_order_and_rejects_gaps() {
        let line = |seq| job::stream_event(seq, 1_000, 128);
        let mut tally = Tally::new(3, 127);
        assert_eq!(
            tally.record(br#"{"type":"connected"}"#, 0).unwrap(),
            Seen::Other
        );
        assert_eq!(
            tally.record(line(0).as_bytes(), 3_000).unwrap(),
            Seen::Event
        );
        assert!(tally.record(line(2).as_bytes(), 4_000).is_err());
        let mut resized = Tally::new(3, 128);
        assert!(resized.record(line(0).as_bytes(), 3_000).is_err());
    }

    #[test]
    fn result_needs_every_message() {
        let mut tally = Tally::new(2, 127);
        let result = br#"{"type":"result","subtype":"success"}"#;
        for seq in 0..2 {
            let line = job::stream_event(seq, 1_000, 128);
            tally.record(line.as_bytes(), 2_000 + seq * 1_000).unwrap();
        }
        assert_eq!(tally.record(result, 5_000).unwrap(), Seen::Result);
        let stats = tally.finish().unwrap();
        assert_eq!(stats.latency_us(50.0).unwrap(), 1.0);
        assert_eq!(stats.latency_us(99.0).unwrap(), 2.0);
        assert!(Tally::new(3, 127).record(result, 0).is_err());
    }
}
