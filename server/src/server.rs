//! Starting and stopping the server: locate the CLI, bind, serve, and on SIGINT/SIGTERM close
//! connections and end the agent before exiting.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::serve::ListenerExt;
use thiserror::Error;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::{
    Args,
    agent::{LocateError, locate},
    connection::Liveness,
    hosts::Hosts,
    http::{WwwDirs, router},
    origins::Origins,
    session::{Sessions, Settings},
    state::AppState,
};

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
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(args: Args) -> Result<(), ServerError> {
    let program = locate(args.claude_path.as_deref())?;
    let workspace = args.workspace();
    std::fs::create_dir_all(&workspace).map_err(|source| ServerError::Workspace {
        path: workspace.display().to_string(),
        source,
    })?;
    raise_open_files_limit();
    let state_dir = args.state_dir();
    let settings = Arc::new(Settings {
        program,
        workspace,
        state_dir: state_dir.clone(),
        history_bytes: args.history_bytes,
        interrupt_timeout: args.interrupt_timeout,
    });
    let sessions = Sessions::load(settings).map_err(|source| ServerError::State {
        path: state_dir.display().to_string(),
        source,
    })?;
    let sessions = Arc::new(sessions);
    let shutdown = CancellationToken::new();
    let state = AppState {
        sessions: sessions.clone(),
        shutdown: shutdown.clone(),
        origins: Arc::new(Origins::new(&args.cors_origin)),
        hosts: Arc::new(Hosts::new(&args.allowed_host)),
        liveness: Liveness {
            ping_interval: args.ping_interval,
        },
    };

    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    // Scripts and tests read this line for the address, so it goes to stdout as it is.
    println!("listening on http://{local}");
    let www = WwwDirs::new(args.www.as_deref(), args.client.as_deref());
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

    let app = router(state, &www);
    let listener = listener.tap_io(|tcp| {
        // Frames go out as soon as they are written, not after the client's delayed ACK.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY");
        }
        // A peer that vanished without a word is found out even when nothing is sent.
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(30))
            .with_interval(Duration::from_secs(10));
        if let Err(error) = socket2::SockRef::from(&*tcp).set_tcp_keepalive(&keepalive) {
            tracing::debug!(%error, "TCP keepalive");
        }
    });
    let serve =
        axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server = tokio::spawn(async move { serve.await });
    wait_for_signal(&shutdown).await;
    tracing::info!("shutting down");
    sessions.shutdown().await;
    match tokio::time::timeout(Duration::from_secs(2), server).await {
        Ok(Ok(result)) => result.map_err(ServerError::Serve),
        Ok(Err(_)) | Err(_) => Ok(()),
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
/// of open files to the hard one.
fn raise_open_files_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && let Err(error) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        tracing::debug!(%error, "RLIMIT_NOFILE");
    }
}

async fn wait_for_signal(shutdown: &CancellationToken) {
    let (mut interrupt, mut terminate) = (
        signal(SignalKind::interrupt()).expect("SIGINT handler"),
        signal(SignalKind::terminate()).expect("SIGTERM handler"),
    );
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
        () = shutdown.cancelled() => {}
    }
    shutdown.cancel();
}
