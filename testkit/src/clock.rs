use nix::time::{ClockId, clock_gettime};

/// CLOCK_MONOTONIC in nanoseconds: comparable across processes on one machine, so a reader
/// can compute the latency of a line stamped by `fake-agent`'s bench mode.
pub fn monotonic_ns() -> u64 {
    let now = clock_gettime(ClockId::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC is always available");
    now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64
}
