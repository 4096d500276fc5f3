//! Wrong tokens are counted per client address: past a few a minute, that address is refused
//! without a check until its minute is over, so that guessing takes forever.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::lock::lock;

/// Wrong tokens an address may present per window.
const LIMIT: u32 = 10;
const WINDOW: Duration = Duration::from_secs(60);
/// Past this many addresses, expired windows are swept, so that a flood of addresses cannot
/// grow the map without end.
const SWEEP_AT: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct Failures {
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

impl Failures {
    /// How long `address` must wait before it may try again, if it used up its tries.
    pub(crate) fn locked(&self, address: IpAddr) -> Option<Duration> {
        let windows = lock(&self.windows);
        let window = windows.get(&address)?;
        let left = WINDOW.checked_sub(window.start.elapsed())?;
        (window.count >= LIMIT).then_some(left)
    }

    /// Counts a wrong token from `address`.
    pub(crate) fn record(&self, address: IpAddr) {
        let now = Instant::now();
        let mut windows = lock(&self.windows);
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, window| now.duration_since(window.start) < WINDOW);
        }
        let window = windows.entry(address).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(window.start) >= WINDOW {
            *window = Window {
                start: now,
                count: 0,
            };
        }
        window.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_locked_after_its_tries_and_others_are_not() {
        let failures = Failures::default();
        let (guesser, other): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..LIMIT - 1 {
            failures.record(guesser);
        }
        assert_eq!(failures.locked(guesser), None);
        failures.record(guesser);
        let wait = failures.locked(guesser).unwrap();
        assert!(wait <= WINDOW && wait > WINDOW / 2, "{wait:?}");
        assert_eq!(failures.locked(other), None);
    }
}
