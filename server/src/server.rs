//! Starting and stopping the server: locate the CLI, bind, serve, and on SIGINT/SIGTERM drain:
//! stop accepting, close the WebSockets, let running turns end (up to `--drain-timeout`, then
//! interrupt them), end the agents and write the session logs out before exiting.

use std::{net::SocketAddr, pin::pin, sync::Arc, time::Duration};

use thiserror::Error;
use tokio::{
    signal::unix::{Signal, SignalKind, signal},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

use crate::{
    Args,
    agent::{Containment, LocateError, locate},
    auth::{Access, Auth, AuthError, Kept, TokenSource},
    connection::Liveness,
    demo::Demo,
    home::Home,
    hosts::Hosts,
    http::{WwwDirs, metrics_router, router},
    listener::{self, Limits, default_max_connections},
    notify::Notifier,
    origins::Origins,
    ready::Readiness,
    session::{Sessions, Settings},
    state::AppState,
};

/// Connections at once to `--metrics-addr`: scrapers, a few.
const METRICS_CONNECTIONS: usize = 16;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Locate(#[from] LocateError),
    #[error("cannot create the workspace {path}: {source}")]
    Workspace {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read the sessions in {path}: {source}")]
    State {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot keep agents' processes contained with {mode}: {reason}")]
    Containment { mode: &'static str, reason: String },
    #[error("cannot start demo mode's scripted API: {0}")]
    Demo(std::io::Error),
    #[error("cannot make the HTTP client for notifications: {0}")]
    Notify(reqwest::Error),
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(args: Args) -> Result<(), ServerError> {
    let home = Home::current();
    let program = locate(args.claude_path.as_deref(), &home)?;
    let state_dir = args.state_dir();
    let access = Access::from_args(&args, &state_dir)?;
    let workspace = args.workspace();
    std::fs::create_dir_all(&workspace).map_err(|source| ServerError::Workspace {
        path: workspace.display().to_string(),
        source,
    })?;
    let open_files = raise_open_files_limit();
    let containment = contain(args.containment)?;
    // Lives as long as the server, which its agents talk to.
    let demo = match args.demo {
        true => Some(Demo::start().await.map_err(ServerError::Demo)?),
        false => None,
    };
    let origins = Arc::new(Origins::new(&args.cors_origin));
    let auth = Arc::new(Auth::new(&access, origins.clone()));
    let readiness = Arc::new(Readiness::new(
        &program,
        &workspace,
        &state_dir,
        auth.clone(),
    ));
    // Checked once now, so that the first probe need not wait for the CLI.
    tokio::spawn({
        let readiness = readiness.clone();
        async move { readiness.cli_runs().await }
    });
    let settings = Arc::new(Settings {
        program,
        workspace,
        state_dir: state_dir.clone(),
        history_bytes: args.history_bytes,
        interrupt_timeout: args.interrupt_timeout,
        containment,
        agent_env: demo.as_ref().map(Demo::agent_env).unwrap_or_default(),
        notifier: Notifier::start(args.notify_url.clone(), args.notify_secret.clone())
            .map_err(ServerError::Notify)?,
    });
    let sessions = Sessions::load(settings).map_err(|source| ServerError::State {
        path: state_dir.display().to_string(),
        source,
    })?;
    let sessions = Arc::new(sessions);
    let shutdown = CancellationToken::new();
    let hosts = Arc::new(Hosts::new(&args.allowed_host));
    let state = AppState {
        sessions: sessions.clone(),
        auth,
        origins,
        shutdown: shutdown.clone(),
        hosts: hosts.clone(),
        liveness: Liveness {
            ping_interval: args.ping_interval,
        },
        demo: demo.is_some(),
        readiness: readiness.clone(),
    };

    let limits = Limits {
        header_timeout: args.header_timeout,
        keepalive_timeout: args.keepalive_timeout,
        max_connections: args
            .max_connections
            .map_or_else(|| default_max_connections(open_files), |max| max as usize),
    };
    // Scrapers may watch the drain: this listener stays until the server exits.
    let stopped = CancellationToken::new();
    let metrics_server = match args.metrics_addr {
        Some(addr) => {
            let app = metrics_router(sessions.clone(), hosts);
            Some(serve_metrics(addr, app, limits, stopped.clone())?)
        }
        None => None,
    };

    let addr = SocketAddr::new(args.host, args.port);
    let listener = listener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    // Scripts and tests read this line for the address, so it goes to stdout as it is.
    println!("listening on http://{local}");
    tell_access(&access, local);
    let www = WwwDirs::new(args.www.as_deref(), args.client.as_deref(), &home);
    if www.www.join("index.html").is_file() {
        // Not on stdout: whoever reads the `listening on` line may have closed it since.
        tracing::info!("demo page at http://{local}/");
    }

    // The legacy session's agent is started now, so that its first turn does not wait for it.
    tokio::spawn({
        let sessions = sessions.clone();
        async move { sessions.legacy().prewarm().await }
    });
    tokio::spawn(hibernate_idle(sessions.clone(), args.idle_timeout));
    tokio::spawn(expire_prompts(sessions.clone()));

    let app = router(state, &www, args.header_timeout);
    tracing::info!(
        max_connections = limits.max_connections,
        "serving connections"
    );
    // Cancelled `--drain-delay` after the signal: the listener stops accepting.
    let closing = CancellationToken::new();
    let server = tokio::spawn(listener::serve(listener, app, limits, closing.clone()));
    let mut signals = Signals::new();
    signals.next().await;
    readiness.drain();
    // Tells each WebSocket client (1001) as it closes, and refuses new ones.
    shutdown.cancel();
    let delay = args.drain_delay;
    let closed = tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        closing.cancel();
    });
    let timeout = humantime::format_duration(args.drain_timeout).to_string();
    tracing::info!(%timeout, "draining: running turns may end until the timeout");
    drain(&sessions, args.drain_timeout, &mut signals).await;
    let _ = closed.await;
    tracing::info!("shutting down");
    sessions.shutdown().await;
    stopped.cancel();
    // Connections get two seconds to finish their requests.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = server.await;
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
    })
    .await;
    Ok(())
}

/// Serves `app` (`/metrics` alone) on `addr`, until `stopped`.
fn serve_metrics(
    addr: SocketAddr,
    app: axum::Router,
    limits: Limits,
    stopped: CancellationToken,
) -> Result<JoinHandle<()>, ServerError> {
    let bind_error = |source| ServerError::Bind { addr, source };
    let listener = listener::bind(addr).map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    tracing::info!(addr = %local, "metrics, with no token, at http://{local}/metrics");
    let limits = Limits {
        max_connections: METRICS_CONNECTIONS,
        ..limits
    };
    Ok(tokio::spawn(listener::serve(
        listener, app, limits, stopped,
    )))
}

/// Lets the sessions' running turns end until `timeout` passes or another signal comes, then
/// interrupts those still running.
async fn drain(sessions: &Sessions, timeout: Duration, signals: &mut Signals) {
    let hurry = CancellationToken::new();
    let mut drained = pin!(sessions.drain(&hurry));
    tokio::select! {
        () = &mut drained => return,
        () = tokio::time::sleep(timeout) => {
            tracing::info!("the drain timeout passed: interrupting the turns still running");
        }
        () = signals.next() => {
            tracing::info!("signalled again: interrupting the running turns now");
        }
    }
    hurry.cancel();
    drained.await;
}

/// Says on stdout how to get in: the page's URL, with the token when the server keeps it (as
/// Jupyter does), so that the person who started it can open it at once.
fn tell_access(access: &Access, local: SocketAddr) {
    use std::io::Write;
    let host = match local.ip().is_unspecified() {
        true => SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), local.port()),
        false => local,
    };
    let line = match access {
        Access::Open => {
            tracing::warn!("--no-auth: anyone who can reach this address drives the agent");
            format!("open http://{host}/ (no token: --no-auth)")
        }
        Access::Awaited(path) => {
            let path = path.display();
            tracing::warn!(%path, "waiting for the token file: until it is there, only /healthz answers");
            format!("open http://{host}/ with the token written to {path}")
        }
        Access::Token { token, from } => match from {
            TokenSource::Given => format!("open http://{host}/ with the token given"),
            TokenSource::File(path) => {
                format!("open http://{host}/ with the token in {}", path.display())
            }
            TokenSource::Kept(path, kept) => {
                let made = if *kept == Kept::Generated {
                    "made, "
                } else {
                    ""
                };
                format!(
                    "open http://{host}/?token={} (the token: {made}kept in {})",
                    token.expose(),
                    path.display()
                )
            }
        },
    };
    // Whoever read the `listening on` line may have closed stdout since: not worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The containment asked for, or the first that works here; ready before any agent starts.
fn contain(asked: Option<Containment>) -> Result<Containment, ServerError> {
    let mode = asked.unwrap_or_else(Containment::detect);
    let refused = |reason: String| ServerError::Containment {
        mode: mode.arg(),
        reason,
    };
    if asked.is_some() && !mode.works() {
        return Err(refused("this system refuses its namespace".to_owned()));
    }
    mode.prepare().map_err(|error| refused(error.to_string()))?;
    tracing::info!(containment = mode.arg(), "agents' processes end with them");
    Ok(mode)
}

/// Denies, every second or so, the prompts whose sessions' timeouts passed with no client.
async fn expire_prompts(sessions: Arc<Sessions>) {
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    loop {
        ticks.tick().await;
        sessions.expire_prompts();
    }
}

/// Checks for idle sessions a few times per `idle` timeout, and hibernates them.
async fn hibernate_idle(sessions: Arc<Sessions>, idle: Duration) {
    let mut ticks = tokio::time::interval((idle / 4).max(Duration::from_millis(100)));
    loop {
        ticks.tick().await;
        sessions.hibernate_idle(idle).await;
    }
}

/// Each session keeps its log file open, and each agent has three pipes: lift the soft limit
/// of open files to the hard one. Returns the limit in force.
fn raise_open_files_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    // The usual soft limit, should the real one be unreadable.
    const USUAL: u64 = 1024;
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return USUAL;
    };
    if soft < hard {
        match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => return hard,
            Err(error) => tracing::debug!(%error, "RLIMIT_NOFILE"),
        }
    }
    soft
}

/// SIGINT and SIGTERM, which both stop the server.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn new() -> Self {
        Self {
            interrupt: signal(SignalKind::interrupt()).expect("SIGINT handler"),
            terminate: signal(SignalKind::terminate()).expect("SIGTERM handler"),
        }
    }

    /// Resolves at the next of either.
    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
