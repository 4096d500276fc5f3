//! WebSocket upgrades: the original's `/ws` onto the legacy session, and
//! `/v1/sessions/{id}/ws` onto any session; both resume after `?after=<seq>`.

use axum::{
    extract::{
        Path, Query, State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    response::{IntoResponse, Response},
};
use claude_agent_protocol::Seq;
use serde::Deserialize;

use super::{error::ApiError, not_found};
use crate::{
    auth::SUBPROTOCOL,
    connection,
    session::{Attached, Session},
    state::AppState,
};
use std::sync::Arc;
use tracing::Instrument;

#[derive(Debug, Deserialize)]
pub(super) struct Resume {
    /// The last `seq` the client has: it gets the frames after it.
    after: Option<Seq>,
}

/// `/ws`: the legacy session, one client at a time.
pub(super) async fn legacy(
    State(state): State<AppState>,
    Query(resume): Query<Resume>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // A plain GET of /ws is a 404 in the original.
    let Ok(upgrade) = upgrade else {
        return not_found().await;
    };
    let session = state.sessions.legacy().clone();
    attach(state, upgrade, &session, resume.after)
}

/// `/v1/sessions/{id}/ws`: any number of clients.
pub(super) async fn session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(resume): Query<Resume>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(session) = state.sessions.get(&id) else {
        return ApiError::NoSession(id).into_response();
    };
    attach(state, upgrade, &session, resume.after)
}

fn attach(
    state: AppState,
    upgrade: WebSocketUpgrade,
    session: &Arc<Session>,
    after: Option<Seq>,
) -> Response {
    // Draining, the listener may stay open a while (`--drain-delay`): no new client then.
    if state.shutdown.is_cancelled() {
        return ApiError::Draining.into_response();
    }
    let attached: Result<Attached, _> = session.attach();
    // The connection's lines are the session's.
    let span = session.span().clone();
    // A client that offered its token as a subprotocol entry is answered with the protocol.
    upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(super::MAX_MESSAGE)
        .on_upgrade(move |socket| {
            async move {
                match attached {
                    Ok(attached) => {
                        connection::serve(socket, attached, after, state.shutdown, state.liveness)
                            .await;
                    }
                    Err(refusal) => connection::refuse(socket, refusal).await,
                }
            }
            .instrument(span)
        })
}
