//! The server's metrics, which `/metrics` exposes in the Prometheus text format (OpenMetrics).
//! Counters and histograms are recorded where their events happen, each through a helper here
//! so that the call site is one line. The gauges of what is now (sessions by status, clients,
//! pending prompts) are counted from the sessions at each scrape instead, so they never drift.

use std::{
    sync::{LazyLock, atomic::AtomicU64},
    time::Duration,
};

use claude_agent_protocol::sessions::Usage;
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Metric, Registry},
};

/// The media type of [`render`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Seconds a permission prompt waits for a person: from a glance to an hour away.
const WAIT_BUCKETS: [f64; 12] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// Seconds a turn takes: from a one-line answer to a long task.
const TURN_BUCKETS: [f64; 12] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
];

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResponseLabels {
    route: String,
    status: u16,
}

#[derive(Debug)]
struct Metrics {
    registry: Registry,
    sessions: Family<StatusLabel, Gauge>,
    clients: Gauge,
    prompts_pending: Gauge,
    frames_relayed: Counter,
    bytes_relayed: Counter,
    frames_replayed: Counter,
    agents_started: Counter,
    agents_restarted: Counter,
    agents_died: Counter,
    prompt_wait: Histogram,
    turn_duration: Histogram,
    tokens: Family<KindLabel, Counter>,
    cost: Counter<f64, AtomicU64>,
    responses: Family<ResponseLabels, Counter>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let r = &mut registry;
        Self {
            sessions: registered(r, "claude_agent_sessions", "Sessions by status"),
            clients: registered(r, "claude_agent_clients", "WebSocket clients connected"),
            prompts_pending: registered(
                r,
                "claude_agent_permission_prompts_pending",
                "Permission prompts waiting for an answer",
            ),
            frames_relayed: registered(
                r,
                "claude_agent_frames_relayed",
                "Frames of session logs sent to clients",
            ),
            bytes_relayed: registered(
                r,
                "claude_agent_relayed_bytes",
                "Bytes of the frames sent to clients",
            ),
            frames_replayed: registered(
                r,
                "claude_agent_frames_replayed",
                "Frames sent to clients that were logged before they attached",
            ),
            agents_started: registered(
                r,
                "claude_agent_agents_started",
                "Agent (Claude Code CLI) processes started",
            ),
            agents_restarted: registered(
                r,
                "claude_agent_agents_restarted",
                "Agents started in place of one that died or hung",
            ),
            agents_died: registered(
                r,
                "claude_agent_agents_died",
                "Agents that ended without the server ending them",
            ),
            prompt_wait: registered_as(
                r,
                "claude_agent_permission_wait_seconds",
                "How long permission prompts waited until answered, denied or withdrawn",
                Histogram::new(WAIT_BUCKETS),
            ),
            turn_duration: registered_as(
                r,
                "claude_agent_turn_duration_seconds",
                "How long turns took, as their results say",
                Histogram::new(TURN_BUCKETS),
            ),
            tokens: registered(
                r,
                "claude_agent_tokens",
                "Tokens the turns used, by kind, as their results say",
            ),
            cost: registered(
                r,
                "claude_agent_cost_usd",
                "What the turns cost in US dollars, as their results say",
            ),
            responses: registered(
                r,
                "claude_agent_http_responses",
                "HTTP responses by route (its template) and status",
            ),
            registry,
        }
    }
}

/// A new metric of its kind's default, registered under `name`.
fn registered<M: Metric + Clone + Default>(registry: &mut Registry, name: &str, help: &str) -> M {
    registered_as(registry, name, help, M::default())
}

/// `metric`, registered under `name`: the registry keeps one handle, the server records on the
/// other.
fn registered_as<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// What is now, counted from the sessions when scraped.
#[derive(Debug, Default)]
pub(crate) struct Census {
    /// Sessions by status, every status named (a status none is in counts 0).
    pub(crate) sessions: Vec<(&'static str, i64)>,
    pub(crate) clients: i64,
    pub(crate) prompts_pending: i64,
}

/// The exposition: every metric, with the gauges of `census`.
pub(crate) fn render(census: &Census) -> String {
    let metrics = &*METRICS;
    for &(status, count) in &census.sessions {
        metrics
            .sessions
            .get_or_create(&StatusLabel { status })
            .set(count);
    }
    metrics.clients.set(census.clients);
    metrics.prompts_pending.set(census.prompts_pending);
    let mut text = String::new();
    encode(&mut text, &metrics.registry).expect("a String takes any text");
    text
}

/// Frames of a session's log sent to a client, and their bytes.
pub(crate) fn relayed(frames: usize, bytes: usize) {
    METRICS.frames_relayed.inc_by(frames as u64);
    METRICS.bytes_relayed.inc_by(bytes as u64);
}

/// Frames sent to a client that were in the log before it attached.
pub(crate) fn replayed(frames: usize) {
    METRICS.frames_replayed.inc_by(frames as u64);
}

pub(crate) fn agent_started() {
    METRICS.agents_started.inc();
}

/// An agent is started in place of one that died or hung.
pub(crate) fn agent_restarted() {
    METRICS.agents_restarted.inc();
}

/// An agent ended without the server ending it.
pub(crate) fn agent_died() {
    METRICS.agents_died.inc();
}

/// A permission prompt was resolved (answered, denied for time, or withdrawn) after `waited`.
pub(crate) fn prompt_resolved(waited: Duration) {
    METRICS.prompt_wait.observe(waited.as_secs_f64());
}

/// A turn's `result`: how long it took, its tokens and its cost, as far as the result says.
pub(crate) fn turn_ended(took: Option<Duration>, usage: Option<&Usage>, cost_usd: f64) {
    if let Some(took) = took {
        METRICS.turn_duration.observe(took.as_secs_f64());
    }
    if let Some(usage) = usage {
        let kinds = [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_creation_input", usage.cache_creation_input_tokens),
            ("cache_read_input", usage.cache_read_input_tokens),
        ];
        for (kind, tokens) in kinds {
            METRICS
                .tokens
                .get_or_create(&KindLabel { kind })
                .inc_by(tokens);
        }
    }
    if cost_usd > 0.0 {
        METRICS.cost.inc_by(cost_usd);
    }
}

/// An HTTP response: `route` is the matched route's template, so that ids make no new series.
pub(crate) fn http_response(route: &str, status: u16) {
    let labels = ResponseLabels {
        route: route.to_owned(),
        status,
    };
    METRICS.responses.get_or_create(&labels).inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_census_sets_the_gauges_each_scrape() {
        let census = |idle, clients| Census {
            sessions: vec![("idle", idle), ("running", 0)],
            clients,
            prompts_pending: 0,
        };
        let text = render(&census(2, 3));
        assert!(
            text.contains("claude_agent_sessions{status=\"idle\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("claude_agent_sessions{status=\"running\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("claude_agent_clients 3\n"), "{text}");
        let text = render(&census(1, 0));
        assert!(
            text.contains("claude_agent_sessions{status=\"idle\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("claude_agent_clients 0\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
