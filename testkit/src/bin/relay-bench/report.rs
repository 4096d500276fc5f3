//! The Markdown report on stdout.

use anyhow::Result;

use claude_agent_testkit::{machine, median, target};

use crate::{job::Job, measure::Stats};

/// One path's turns: flat out (throughput), one per round, and paced (latency).
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) path: &'static str,
    pub(crate) flat_out: Vec<Stats>,
    pub(crate) paced: Stats,
}

impl Row {
    /// The median over the rounds of `measure`.
    fn median(&self, measure: impl Fn(&Stats) -> f64) -> f64 {
        median(self.flat_out.iter().map(measure).collect())
    }

    /// This path's rate over `base`'s, round by round (each pair ran back to back).
    fn ratios(&self, base: &Row) -> Vec<f64> {
        let rates = self.flat_out.iter().zip(&base.flat_out);
        rates
            .map(|(a, b)| a.msgs_per_sec() / b.msgs_per_sec())
            .collect()
    }
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
            "{} rounds of {} messages of {} bytes flat out; paced: {} msgs/s, {} messages. {}\n",
            self.relay.flat_out.len(),
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
            "msgs/s, MB/s and max gap (longest wait between two messages) are medians over the \
             flat-out rounds, first to last message; \"vs one hop\" is the median of the ratios \
             within each round; latency (agent write to client receipt) is from the paced run. \
             MB = 10^6 bytes, as received (pipe: line with newline; WebSocket: frame text).\n"
        );
        let ratios: Vec<String> = self
            .relay
            .ratios(&self.hop)
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect();
        println!("- server vs one hop, round by round: {}", ratios.join(", "));
        println!(
            "- server idle RSS: {:.1} MB (after start, before any connection)",
            self.memory.idle
        );
        println!(
            "- server peak RSS: {:.1} MB (VmHWM after the flat-out rounds)\n",
            self.memory.peak
        );
        self.print_targets()
    }

    fn print_row(&self, row: &Row) -> Result<()> {
        let vs_hop = median(row.ratios(&self.hop));
        println!(
            "| {} | {:.0} | {:.1} | {vs_hop:.2} | {:.0} | {:.0} | {:.1} |",
            row.path,
            row.median(Stats::msgs_per_sec),
            row.median(Stats::mb_per_sec),
            row.paced.latency_us(50.0)?,
            row.paced.latency_us(99.0)?,
            row.median(Stats::max_gap_ms),
        );
        Ok(())
    }

    fn print_targets(&self) -> Result<()> {
        let relay = &self.relay;
        let vs_hop = median(relay.ratios(&self.hop));
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
