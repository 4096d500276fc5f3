//! Randomness a failing run can replay: seeded from an environment variable, else at random,
//! and the seed printed either way (cargo shows a failing test's output).

/// A generator seeded from `$var`, or at random; prints how to replay it.
pub fn seeded(var: &str) -> fastrand::Rng {
    let seed = std::env::var(var)
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("seed {seed} ({var}={seed} replays it)");
    fastrand::Rng::with_seed(seed)
}
