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
    config_store::ConfigStore,
    hosts::Hosts,
    http::{AppState, router},
    origins::Origins,
    session::{AgentSettings, Session},
    www::WwwDirs,
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
    let config = Arc::new(ConfigStore::default());
    let settings = Arc::new(AgentSettings {
        program,
        workspace,
        config: config.clone(),
    });
    let session = Arc::new(Session::new(settings, args.log_bytes));
    let shutdown = CancellationToken::new();
    let state = AppState {
        config,
        session: session.clone(),
        shutdown: shutdown.clone(),
        origins: Arc::new(Origins::new(&args.cors_origin)),
        hosts: Arc::new(Hosts::new(&args.allowed_host)),
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

    let app = router(state, &www);
    // Frames go out as soon as they are written, not after the client's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY");
        }
    });
    let serve =
        axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server = tokio::spawn(async move { serve.await });
    wait_for_signal(&shutdown).await;
    tracing::info!("shutting down");
    session.shutdown().await;
    match tokio::time::timeout(Duration::from_secs(2), server).await {
        Ok(Ok(result)) => result.map_err(ServerError::Serve),
        Ok(Err(_)) | Err(_) => Ok(()),
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
