//! What the benchmarks' Markdown reports share: medians, the machine they ran on, and the
//! verdict on each target.

/// The median of `values`, which must not be empty.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Prints a target's line: what it asks, what was measured, and whether it was met.
pub fn target(what: &str, met: bool, measured: &str) {
    let verdict = if met { "met" } else { "MISSED" };
    println!("- {what}: {measured}, {verdict}");
}

/// CPU count and model, e.g. `Machine: 2 CPUs (nproc), AMD EPYC 7B13.`
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown CPU", |(_, model)| model.trim());
    format!("Machine: {cpus} CPUs (nproc), {model}.")
}
