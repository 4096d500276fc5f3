//! What the handlers share, and the parts of it they take alone (axum's substates).

use std::sync::Arc;

use axum::extract::FromRef;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::Auth, connection::Liveness, hosts::Hosts, origins::Origins, ready::Readiness,
    session::Sessions,
};

#[derive(Debug, Clone)]
pub(crate) struct AppState {
    pub(crate) sessions: Arc<Sessions>,
    /// Who may use it.
    pub(crate) auth: Arc<Auth>,
    /// The web pages, besides the server's own, that may use it.
    pub(crate) origins: Arc<Origins>,
    /// The host names, besides addresses and `localhost`, it answers to.
    pub(crate) hosts: Arc<Hosts>,
    /// Cancelled when the server shuts down; connections close on it.
    pub(crate) shutdown: CancellationToken,
    pub(crate) liveness: Liveness,
    /// `--demo`: the agents talk to a scripted API, which `GET /config` tells the page.
    pub(crate) demo: bool,
    /// What `/readyz` answers.
    pub(crate) readiness: Arc<Readiness>,
}

/// Handlers that need only the sessions take them alone (`State<Arc<Sessions>>`).
impl FromRef<AppState> for Arc<Sessions> {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

impl FromRef<AppState> for Arc<Readiness> {
    fn from_ref(state: &AppState) -> Self {
        state.readiness.clone()
    }
}
