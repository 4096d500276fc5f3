//! Log lines on stderr: text for people, or JSON for log collectors (one object a line). A
//! session's lines carry its id, from the span its work runs in (`session_id`); `RUST_LOG`
//! sets the levels.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Sends the process's log lines to stderr in `format`.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        // The message beside the other fields; the session's id in `span` (and `spans`).
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}
