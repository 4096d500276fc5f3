//! The Markdown report on stdout.

use anyhow::Result;

use crate::{job::Job, measure::Stats};

/// One path's two turns: flat out (throughput) and paced (latency).
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) path: &'static str,
    pub(crate) flat_out: Stats,
    pub(crate) paced: Stats,
}

/// The server's resident memory, in MB.
#[derive(Debug)]
pub(crate) struct Memory {
    pub(crate) idle: f64,
    pub(crate) peak: f64,
}

/// Everything one run measured; `pipe`, `hop` and `relay` are the three paths.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) flat_out: Job,
    pub(crate) paced: Job,
    pub(crate) pipe: Row,
    pub(crate) hop: Row,
    pub(crate) relay: Row,
    pub(crate) memory: Memory,
}

impl Report {
    pub(crate) fn print(&self) -> Result<()> {
        println!("## Relay benchmark\n");
        println!(
            "{} messages of {} bytes flat out; paced: {} msgs/s, {} messages. {}\n",
            self.flat_out.messages,
            self.flat_out.size,
            self.paced.rate,
            self.paced.messages,
            machine(),
        );
        println!("| path | msgs/s | MB/s | vs one hop | p50 µs | p99 µs | max gap ms |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for row in [&self.pipe, &self.hop, &self.relay] {
            self.print_row(row)?;
        }
        println!();
        println!(
            "msgs/s, MB/s and max gap (longest wait between two messages) are from the flat-out \
             run, first to last message; latency (agent write to client receipt) from the paced \
             run. MB = 10^6 bytes, as received (pipe: line with newline; WebSocket: frame text).\n"
        );
        println!(
            "- server idle RSS: {:.1} MB (after start, before any connection)",
            self.memory.idle
        );
        println!(
            "- server peak RSS: {:.1} MB (VmHWM after the flat-out run)\n",
            self.memory.peak
        );
        self.print_targets()
    }

    fn print_row(&self, row: &Row) -> Result<()> {
        let vs_hop = row.flat_out.msgs_per_sec() / self.hop.flat_out.msgs_per_sec();
        println!(
            "| {} | {:.0} | {:.1} | {vs_hop:.2} | {:.0} | {:.0} | {:.1} |",
            row.path,
            row.flat_out.msgs_per_sec(),
            row.flat_out.mb_per_sec(),
            row.paced.latency_us(50.0)?,
            row.paced.latency_us(99.0)?,
            row.flat_out.max_gap_ms(),
        );
        Ok(())
    }

    fn print_targets(&self) -> Result<()> {
        let relay = &self.relay;
        let vs_hop = relay.flat_out.msgs_per_sec() / self.hop.flat_out.msgs_per_sec();
        println!("Targets for the server:\n");
        target(
            "throughput ≥ 0.5 × one hop",
            vs_hop >= 0.5,
            &format!("{vs_hop:.2}"),
        );
        let p50 = relay.paced.latency_us(50.0)?;
        target("paced p50 < 100 µs", p50 < 100.0, &format!("{p50:.0} µs"));
        let p99 = relay.paced.latency_us(99.0)?;
        target("paced p99 < 500 µs", p99 < 500.0, &format!("{p99:.0} µs"));
        let idle = self.memory.idle;
        target("idle RSS < 10 MB", idle < 10.0, &format!("{idle:.1} MB"));
        Ok(())
    }
}

fn target(what: &str, met: bool, measured: &str) {
    let verdict = if met { "met" } else { "MISSED" };
    println!("- {what}: {measured}, {verdict}");
}

/// CPU count and model, e.g. `Machine: 2 CPUs, AMD EPYC 7B13.`
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown CPU", |(_, model)| model.trim());
    format!("Machine: {cpus} CPUs (nproc), {model}.")
}
