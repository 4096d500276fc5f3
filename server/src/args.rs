//! Command-line flags, each also read from the environment.

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use clap::Parser;
use claude_agent_protocol::config::Secret;
use reqwest::Url;

use crate::{
    agent::Containment,
    auth::{self, Token},
    logs::LogFormat,
    notify,
};

/// Runs the Claude Code CLI and relays it over WebSocket to browser and Node clients,
/// wire-compatible with claude-agent-server.
#[derive(Debug, Clone, Parser)]
#[command(version)]
pub struct Args {
    /// Address to listen on. Anything but loopback exposes an agent that runs commands: keep
    /// authentication on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// The token every request must carry (`Authorization: Bearer`, the page's cookie, a
    /// WebSocket subprotocol entry or `?token=`): at least 16 letters, digits, `-`, `.`, `_` or
    /// `~`. Default: the one in
    /// `<state dir>/token`, generated there (32 random bytes, only this user may read the file)
    /// on the first start. Prefer the environment variable: any local user can read a command
    /// line.
    #[arg(long, env = "CLAUDE_AGENT_TOKEN", hide_env_values = true, value_parser = auth::token_arg)]
    pub token: Option<Token>,
    /// A file holding the token (a mounted secret, say). If it is not there at start, the
    /// server waits for it, answering only `/healthz` (503 `token_pending` otherwise): whoever
    /// creates the server's sandbox writes it there.
    #[arg(long, env = "CLAUDE_AGENT_TOKEN_FILE", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
    /// Serves without authentication: anyone who can reach the server drives the agent. Only
    /// with a loopback `--host`; for clients that send no token, such as the original's.
    #[arg(long, env = "NO_AUTH", value_parser = clap::builder::BoolishValueParser::new(),
          conflicts_with_all = ["token", "token_file"])]
    pub no_auth: bool,
    /// Port to listen on; 0 picks a free one (the `listening on` line tells which).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// The `claude` executable. Default: `claude` on PATH, else the pinned install of the
    /// checkout the server was built in (`npm ci --prefix claude-code`).
    #[arg(long, env = "CLAUDE_PATH")]
    pub claude_path: Option<PathBuf>,
    /// Demo mode: the agents talk to a scripted Messages API in the server instead of
    /// Anthropic's, so the page shows replies, tool calls and streaming with no key. The replies
    /// are not Claude's.
    #[arg(long, env = "DEMO", value_parser = clap::builder::BoolishValueParser::new())]
    pub demo: bool,
    /// The agent's working directory, created if missing; a config's `cwd` overrides it.
    /// Default: ~/agent-workspace.
    #[arg(long, env = "AGENT_WORKSPACE")]
    pub workspace: Option<PathBuf>,
    /// Origins whose web pages may use the server (call /config, open /ws) besides its own,
    /// comma-separated; `*` for any. Browsers from other origins are refused.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origin: Vec<String>,
    /// Host names the server answers to besides IP addresses and `localhost` (what protects it
    /// from DNS rebinding), comma-separated; `.example.com` allows its subdomains, `*` any.
    #[arg(long, env = "ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_host: Vec<String>,
    /// How long a new connection has to send its first request's head (request line and
    /// headers), and any request its body once the head came; one that has not is closed (a
    /// late body is answered with an error).
    #[arg(long, env = "HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,
    /// How long a connection with no request in flight may stay open after a response (HTTP
    /// keep-alive) before its next request's head is complete; then it is closed. WebSockets are
    /// not subject to it: pings tell whether they live.
    #[arg(long, env = "KEEPALIVE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub keepalive_timeout: Duration,
    /// Connections at once, WebSockets included; more are answered `503 Service Unavailable`
    /// with `Retry-After: 1` and closed. Default: the open-files limit (RLIMIT_NOFILE, raised to
    /// its hard limit) less 256 kept for agents and session logs, yet at least half of it, and
    /// at most 10000.
    #[arg(long, env = "MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// The demo page's folder, served at `/`. Default: `../share/claude-agent-server/www`
    /// beside the executable's folder if there (as installed), else the checkout's `www/`.
    #[arg(long, env = "WWW_DIR")]
    pub www: Option<PathBuf>,
    /// The built npm package `@claude-agent/client` (`npm run build --prefix npm`), whose
    /// `web.js` and `pkg/` the page loads from `/client/`. Default: `../share/
    /// claude-agent-server/client` beside the executable's folder, else the checkout's `npm/`.
    #[arg(long, env = "CLIENT_DIR")]
    pub client: Option<PathBuf>,
    /// Where sessions are kept (each its frames and settings), so that they survive a restart.
    /// Default: $XDG_STATE_HOME/claude-agent-server, else ~/.local/state/claude-agent-server.
    #[arg(long, env = "STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Bytes of its frames a session keeps for clients that (re)connect; past it the oldest go,
    /// and a client that had not read them is told (`resync_required`). A connected client may
    /// fall half of it behind before the agent waits for it.
    #[arg(long, env = "HISTORY_BYTES", visible_alias = "log-bytes", default_value_t = 64 << 20)]
    pub history_bytes: usize,
    /// How long a session's agent may sit idle (no turn, no client) before it is stopped; the
    /// session stays, and its next message resumes the conversation.
    #[arg(long, env = "IDLE_TIMEOUT", default_value = "10m", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
    /// How long an agent has to answer an interrupt; one that does not is hung, and is
    /// restarted (the conversation resumes) with the clients told.
    #[arg(long, env = "INTERRUPT_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub interrupt_timeout: Duration,
    /// How often clients are pinged; one silent for three pings is dropped, so that it cannot
    /// hold a session.
    #[arg(long, env = "PING_INTERVAL", default_value = "15s", value_parser = humantime::parse_duration)]
    pub ping_interval: Duration,
    /// What ends the processes an agent started (its tools) when it ends, even if the server
    /// is killed: `pid-namespace` (root), `user-namespace` (others, where the kernel allows),
    /// or `subreaper` (no namespace: the server kills them if it lives). Default: the first
    /// that works here; the log says which.
    #[arg(long, env = "CONTAINMENT", value_enum)]
    pub containment: Option<Containment>,
    /// Threads that serve connections and agents. One suits the relay, which waits on I/O;
    /// more help only with many busy sessions on many cores.
    #[arg(long, env = "WORKER_THREADS", default_value_t = 1)]
    pub worker_threads: usize,
    /// Where every session posts a JSON notification when it needs input (a permission
    /// prompt) and when a turn ends; a session's config `notifyUrl` overrides it. Default: none.
    #[arg(long, env = "NOTIFY_URL", value_parser = notify::parse_url)]
    pub notify_url: Option<Url>,
    /// Signs notifications: `X-Claude-Agent-Signature: sha256=<hex>`, the HMAC-SHA256 with this
    /// key of `<timestamp>.<body>`, the timestamp (Unix seconds) in `X-Claude-Agent-Timestamp`.
    /// Prefer the environment variable: any local user can read a command line.
    #[arg(long, env = "NOTIFY_SECRET", hide_env_values = true, value_parser = secret)]
    pub notify_secret: Option<Secret>,
    /// A second address that serves `/metrics` alone, with no authentication, for a scraper on
    /// a cluster-internal port (such as `0.0.0.0:9090`): keep it off public networks. Either
    /// way `/metrics` is on the main port too, behind the token.
    #[arg(long, env = "METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// On SIGTERM or SIGINT the server stops accepting, closes its WebSockets (1001) and lets
    /// running turns finish for this long; then it interrupts them, ends the agents and exits.
    /// A second signal interrupts them at once.
    #[arg(long, env = "DRAIN_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub drain_timeout: Duration,
    /// On SIGTERM or SIGINT the server answers `/readyz` with `503 draining` (and refuses new
    /// WebSockets) this long before it closes its listener, so that a load balancer or
    /// Kubernetes takes it out of rotation while it still answers; the drain runs meanwhile.
    #[arg(long, env = "DRAIN_DELAY", default_value = "0s", value_parser = humantime::parse_duration)]
    pub drain_delay: Duration,
    /// How log lines on stderr are written: `text`, or `json` (an object a line, a session's
    /// lines with its `session_id`) for log collectors.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// A secret flag's value, kept where it never prints.
fn secret(text: &str) -> Result<Secret, &'static str> {
    match text.is_empty() {
        true => Err("an empty key signs nothing"),
        false => Ok(Secret::new(text)),
    }
}

impl Args {
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| {
            let home = || std::env::home_dir().unwrap_or_else(|| PathBuf::from("/"));
            std::env::var_os("XDG_STATE_HOME")
                .filter(|dir| !dir.is_empty())
                .map_or_else(|| home().join(".local/state"), PathBuf::from)
                .join("claude-agent-server")
        })
    }

    pub fn workspace(&self) -> PathBuf {
        self.workspace.clone().unwrap_or_else(|| {
            std::env::home_dir()
                .unwrap_or_else(|| PathBuf::from("/"))
                .join("agent-workspace")
        })
    }
}
