//! The Markdown report on stdout: medians, and ratios against each section's baseline taken
//! within the same round.

use std::time::Duration;

use claude_agent_testkit::{machine, median, target};

use crate::{Options, fan_out, prewarm, reconnect, scale::Scale};

/// What the sections measured; `None` for a section not run.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) prewarm: Option<Vec<prewarm::Round>>,
    pub(crate) fan_out: Option<Vec<fan_out::Run>>,
    pub(crate) scale: Option<Scale>,
    pub(crate) reconnect: Option<Vec<reconnect::Round>>,
}

impl Report {
    pub(crate) fn print(&self, options: &Options) {
        println!("## Session benchmarks\n");
        println!(
            "{} The bench's clients share one thread; the server runs its default one.\n",
            machine()
        );
        if let Some(rounds) = &self.prewarm {
            print_prewarm(rounds);
        }
        for run in self.fan_out.iter().flatten() {
            print_fan_out(run);
        }
        if let Some(scale) = &self.scale {
            print_scale(scale);
        }
        if let Some(rounds) = &self.reconnect {
            print_reconnect(rounds, options.replay_lines);
        }
    }
}

/// One of a pre-warm round's turns.
type Pick = fn(&prewarm::Round) -> prewarm::Turn;

fn print_prewarm(rounds: &[prewarm::Round]) {
    println!("### Pre-warm (real CLI, mock Messages API)\n");
    println!(
        "Rounds: {}, each a pre-warmed session and a cold one; medians; times from the message \
         sent over the session's WebSocket.\n",
        rounds.len()
    );
    let vs_warm = |turn: Pick| ratios(rounds, |r| ms(turn(r).result) / ms(r.warm.result));
    let first = vs_warm(|r| r.first);
    println!("| turn | to `system`/`init` ms | to `result` ms | vs warm turn |");
    println!("|---|---:|---:|---:|");
    let rows: [(&str, Pick); 3] = [
        ("first, after pre-warm (status `idle`)", |r| r.first),
        ("warm (the session's second)", |r| r.warm),
        ("cold first (sent right after `POST /v1/sessions`)", |r| {
            r.cold
        }),
    ];
    for (name, turn) in rows {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2} |",
            median_of(rounds, |r| ms(turn(r).init)),
            median_of(rounds, |r| ms(turn(r).result)),
            median(vs_warm(turn)),
        );
    }
    println!();
    println!(
        "- agent start (`POST /v1/sessions` to status `idle`), off the first turn: {:.0} ms",
        median_of(rounds, |r| ms(r.startup))
    );
    let extra = median_of(rounds, |r| ms(r.first.result) - ms(r.warm.result));
    let before_init = median_of(rounds, |r| ms(r.first.init) - ms(r.warm.init));
    println!(
        "- the first turn's extra {extra:.0} ms over the warm one: {before_init:.0} ms of it \
         before its `system`/`init` (inside the CLI, before it takes the turn up)"
    );
    println!("- first vs warm, session by session: {}", listed(&first));
    let first = median(first);
    target(
        "target, first turn after pre-warm ≤ 5 × warm",
        first <= 5.0,
        &format!("{first:.2}"),
    );
    println!();
}

fn print_fan_out(run: &fan_out::Run) {
    let (rounds, lines, rate) = (&run.rounds[..], run.lines, run.rate);
    let clients = rounds[0].many.rates.len();
    let pace = match rate {
        0 => "flat out".to_owned(),
        rate => format!("at {rate} lines/s"),
    };
    println!("### Fan-out (fake agent)\n");
    println!(
        "Rounds: {}; in each, one session's agent writes {lines} lines of 1 KB {pace} to 1 \
         client, then to {clients} at once. Frames/s per client from its first line to its \
         last; medians over the rounds, ratios within each.\n",
        rounds.len()
    );
    let single = |r: &fan_out::Round| r.single.rates[0];
    let slowest = |r: &fan_out::Round| r.many.rates.iter().copied().fold(f64::INFINITY, f64::min);
    let middle = |r: &fan_out::Round| median(r.many.rates.clone());
    let vs_single =
        |client: &dyn Fn(&fan_out::Round) -> f64| ratios(rounds, |r| client(r) / single(r));
    let slowest_ratios = vs_single(&slowest);
    let busy = |turn: fn(&fan_out::Round) -> &fan_out::Turn| {
        let server = median_of(rounds, |r| turn(r).server_busy * 100.0);
        let clients = median_of(rounds, |r| turn(r).clients_busy * 100.0);
        format!("{server:.0}% | {clients:.0}%")
    };
    println!(
        "| clients | frames/s per client | vs 1 client | server CPU busy | clients CPU busy |"
    );
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| 1 | {:.0} | 1.00 | {} |",
        median_of(rounds, single),
        busy(|r| &r.single)
    );
    println!(
        "| {clients}, median client | {:.0} | {:.2} | {} |",
        median_of(rounds, middle),
        median(vs_single(&middle)),
        busy(|r| &r.many)
    );
    println!(
        "| {clients}, slowest client | {:.0} | {:.2} | | |\n",
        median_of(rounds, slowest),
        median(slowest_ratios.clone())
    );
    println!(
        "- slowest of {clients} vs 1 client, round by round: {}",
        listed(&slowest_ratios)
    );
    println!(
        "- CPU busy: CPU time over the turn's wall time, 100% = one CPU; the server relays on \
         one thread (and writes big batches of its log on another), the clients share one"
    );
    let needed = clients as f64 * 0.5 * median_of(rounds, |r| single(r) * r.single.frame_bytes)
        / run.loopback;
    println!(
        "- the machine's ceiling: its loopback TCP moves {:.2} GB/s from one thread to another \
         doing nothing else; {clients} clients at 0.5 × one would receive {needed:.2} × that",
        run.loopback / 1e9
    );
    let slowest = median(slowest_ratios);
    target(
        &format!("target, each of {clients} clients ≥ 0.5 × one client"),
        slowest >= 0.5,
        &format!("slowest {slowest:.2}"),
    );
    println!();
}

fn print_scale(scale: &Scale) {
    let plan = scale.plan;
    println!("### Scale (fake agent, `--idle-timeout 1s`)\n");
    println!(
        "{} sessions, {} with a client attached; the others hibernated (their agents ended). \
         Requests on one kept-alive connection, {} of each, medians.\n",
        plan.sessions,
        plan.attached,
        scale.list.len()
    );
    let one = median(scale.one.iter().map(|&d| ms(d)).collect());
    let list = median(scale.list.iter().map(|&d| ms(d)).collect());
    let ratio = median(
        scale
            .list
            .iter()
            .zip(&scale.one)
            .map(|(list, one)| ms(*list) / ms(*one))
            .collect(),
    );
    println!("| request | median ms | vs one session |");
    println!("|---|---:|---:|");
    println!("| `GET /v1/sessions/{{id}}` | {one:.2} | 1.00 |");
    println!(
        "| `GET /v1/sessions` ({} listed) | {list:.2} | {ratio:.1} |\n",
        scale.listed
    );
    let create = scale.create.as_secs_f64();
    println!(
        "- creating {} sessions, {} at a time (each starts its agent): {create:.1} s ({:.0}/s)",
        plan.sessions,
        plan.concurrency,
        plan.sessions as f64 / create
    );
    println!(
        "- then {:.1} s until the {} unattached were hibernated, {} agents left running",
        scale.hibernate.as_secs_f64(),
        plan.sessions - plan.attached,
        plan.attached
    );
    println!(
        "- server RSS: {:.1} MB, {:.1} × its {:.1} MB right after start; peak {:.1} MB (VmHWM)",
        scale.rss_mb,
        scale.rss_mb / scale.rss_start_mb,
        scale.rss_start_mb,
        scale.peak_mb
    );
    target(
        "target, server RSS ≤ 64 MB",
        scale.rss_mb <= 64.0,
        &format!("{:.1} MB", scale.rss_mb),
    );
    println!();
}

fn print_reconnect(rounds: &[reconnect::Round], lines: u64) {
    println!("### Reconnect (fake agent)\n");
    println!(
        "Rounds: {}, each {lines} lines of 1 KB streamed live to an attached client, first line \
         to last; then logged with no client attached and replayed to a client opening the \
         WebSocket with `after=`, from opening it to the last line. Medians; ratios within \
         each round.\n",
        rounds.len()
    );
    let rate = |d: f64| lines as f64 / d * 1e3;
    let (live, replay) = (
        median_of(rounds, |r| ms(r.live)),
        median_of(rounds, |r| ms(r.replay)),
    );
    let replay_vs_live = ratios(rounds, |r| ms(r.replay) / ms(r.live));
    println!("| path | ms | lines/s | time vs live |");
    println!("|---|---:|---:|---:|");
    println!("| live | {live:.1} | {:.0} | 1.00 |", rate(live));
    println!(
        "| replay (`after=`) | {replay:.1} | {:.0} | {:.2} |\n",
        rate(replay),
        median(replay_vs_live.clone())
    );
    println!(
        "- replay vs live, round by round: {}\n",
        listed(&replay_vs_live)
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// `ratio` of each round.
fn ratios<T>(rounds: &[T], ratio: impl Fn(&T) -> f64) -> Vec<f64> {
    rounds.iter().map(ratio).collect()
}

fn median_of<T>(rounds: &[T], measure: impl Fn(&T) -> f64) -> f64 {
    median(ratios(rounds, measure))
}

fn listed(values: &[f64]) -> String {
    let values: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
    values.join(", ")
}
