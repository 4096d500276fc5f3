use std::{
    io::{self, Write},
    thread,
    time::{Duration, Instant},
};

use claude_agent_testkit::monotonic_ns;

/// The closing `"}` and newline of each line.
const LINE_END: &[u8] = b"\"}\n";

/// Writes `lines` `stream_event` lines of `line_bytes` bytes (newline included; longer only if
/// that is too short for the fields), stamped with CLOCK_MONOTONIC when written.
/// `rate` lines per second paced by absolute deadlines, each flushed; 0 = as fast as
/// the pipe allows, flushed when the buffer fills and at the end.
pub(crate) fn emit(
    out: &mut impl Write,
    lines: u64,
    line_bytes: usize,
    rate: u32,
) -> io::Result<()> {
    let interval = (rate > 0).then(|| Duration::from_secs(1) / rate);
    let start = Instant::now();
    let mut line = Vec::with_capacity(line_bytes + 64);
    for seq in 0..lines {
        if let Some(interval) = interval {
            // Deadlines from the start, so a late line does not delay all later ones.
            let deadline = start + interval * u32::try_from(seq).unwrap_or(u32::MAX);
            thread::sleep(deadline.saturating_duration_since(Instant::now()));
        }
        line.clear();
        write!(
            line,
            r#"{{"type":"stream_event","seq":{seq},"t_ns":{},"pad":""#,
            monotonic_ns()
        )?;
        let pad = line_bytes.saturating_sub(line.len() + LINE_END.len());
        line.resize(line.len() + pad, b'x');
        line.extend_from_slice(LINE_END);
        out.write_all(&line)?;
        if interval.is_some() {
            out.flush()?;
        }
    }
    out.flush()
}
