//! Command-line flags, each also read from the environment.

use std::{net::IpAddr, path::PathBuf};

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
    /// Bound, in bytes, of the agent output a session keeps while no client is connected, for
    /// the next one; past it the oldest is dropped and the next client told. A connected client
    /// may fall 1 MiB behind before the agent waits for it.
    #[arg(long, env = "LOG_BYTES", default_value_t = 64 << 20)]
    pub log_bytes: usize,
    /// Threads that serve connections and agents. One suits the relay, which waits on I/O;
    /// more help only with many busy sessions on many cores.
    #[arg(long, env = "WORKER_THREADS", default_value_t = 1)]
    pub worker_threads: usize,
}

impl Args {
    pub fn workspace(&self) -> PathBuf {
        self.workspace.clone().unwrap_or_else(|| {
            std::env::home_dir()
                .unwrap_or_else(|| PathBuf::from("/"))
                .join("agent-workspace")
        })
    }
}
