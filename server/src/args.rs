//! Command-line flags, each also read from the environment.

use std::{net::IpAddr, path::PathBuf, time::Duration};

use clap::Parser;

/// Runs the Claude Code CLI and relays it over WebSocket to browser and Node clients,
/// wire-compatible with claude-agent-server.
#[derive(Debug, Clone, Parser)]
#[command(version)]
pub struct Args {
    /// Address to listen on. Anything but loopback exposes an agent that runs commands.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one (the `listening on` line tells which).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// The `claude` executable. Default: `claude` on PATH, else this repository's pinned install
    /// (`npm ci --prefix claude-code`).
    #[arg(long, env = "CLAUDE_PATH")]
    pub claude_path: Option<PathBuf>,
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
    /// The demo page's folder, served at `/`. Default: this repository's `www/`.
    #[arg(long, env = "WWW_DIR")]
    pub www: Option<PathBuf>,
    /// The built npm package `@claude-agent/client` (`npm run build --prefix npm`), whose
    /// `web.js` and `pkg/` the page loads from `/client/`. Default: this repository's `npm/`.
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
    /// Threads that serve connections and agents. One suits the relay, which waits on I/O;
    /// more help only with many busy sessions on many cores.
    #[arg(long, env = "WORKER_THREADS", default_value_t = 1)]
    pub worker_threads: usize,
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
