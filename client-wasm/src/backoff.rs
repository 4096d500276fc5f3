//! How long to wait before a reconnect attempt: exponential, with jitter so that the clients of
//! a restarted server do not all come back at the same moment.

/// The first retry's delay, doubled on each failed attempt…
const FIRST_MS: f64 = 250.0;
/// …up to this.
const MAX_MS: f64 = 10_000.0;

/// The delay before attempt `attempt` (0 for the first), given `random` in [0, 1): between half
/// and all of 250 ms × 2^attempt, capped at 10 s.
pub(crate) fn delay_ms(attempt: u32, random: f64) -> u32 {
    let full = (FIRST_MS * 2f64.powi(attempt.min(16) as i32)).min(MAX_MS);
    (full * (0.5 + random.clamp(0.0, 1.0) / 2.0)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_a_quarter_second_up_to_ten() {
        let highest: Vec<u32> = (0..8).map(|attempt| delay_ms(attempt, 1.0)).collect();
        assert_eq!(highest, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(delay_ms(u32::MAX, 1.0), 10_000);
    }

    #[test]
    fn jitter_takes_up_to_half_off() {
        assert_eq!(delay_ms(0, 0.0), 125);
        assert_eq!(delay_ms(2, 0.5), 750);
        assert_eq!(delay_ms(9, 0.0), 5_000);
    }
}
