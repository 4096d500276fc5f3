//! Sending one notification: signed, each try timed out, tried again with backoff while the
//! failure may pass (no connection, a timeout, a 5xx or a 429), given up on any other answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use claude_agent_protocol::config::Secret;
use reqwest::{StatusCode, Url, header};
use thiserror::Error;

use super::{
    body::Notification,
    sign::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature},
};

/// The waits before each try after the first: five tries in all, over 7.5 s plus theirs.
pub(crate) const BACKOFF: [Duration; 4] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];
/// How long one try may take, from connecting to the answer's head.
pub(crate) const TRY_TIMEOUT: Duration = Duration::from_secs(10);

/// A notification and where it goes.
#[derive(Debug, Clone)]
pub(crate) struct Letter {
    pub(super) to: Url,
    pub(super) body: Notification,
}

#[derive(Debug, Error)]
enum TryError {
    #[error("{0}")]
    Unreachable(reqwest::Error),
    #[error("it answered {0}")]
    Refused(StatusCode),
}

impl TryError {
    /// Whether another try may do better.
    fn passing(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Refused(status) => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
        }
    }
}

/// Sends letters, each until it is taken or given up.
#[derive(Debug)]
pub(super) struct Courier {
    client: reqwest::Client,
    secret: Option<Secret>,
}

impl Courier {
    pub(super) fn new(secret: Option<Secret>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("claude-agent-server/", env!("CARGO_PKG_VERSION")))
            // A redirected POST would become a GET: a webhook URL must be the receiver's.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TRY_TIMEOUT)
            .build()?;
        Ok(Self { client, secret })
    }

    pub(super) async fn deliver(&self, letter: Letter) {
        let body = match serde_json::to_vec(&letter.body) {
            Ok(body) => Bytes::from(body),
            Err(error) => return tracing::error!(%error, "a notification that is no JSON"),
        };
        let id = &letter.body.id;
        // Logs name the receiver's origin only: a webhook's path often holds its token.
        let origin = letter.to.origin().ascii_serialization();
        let mut waits = BACKOFF.iter();
        let mut tries = 1;
        loop {
            let error = match self.try_once(&letter.to, &body).await {
                Ok(()) => return tracing::debug!(id, %origin, tries, "notification delivered"),
                Err(error) => error,
            };
            match waits.next() {
                Some(wait) if error.passing() => {
                    tracing::debug!(id, %origin, %error, ?wait, "notification not delivered yet");
                    tokio::time::sleep(*wait).await;
                    tries += 1;
                }
                Some(_) => {
                    return tracing::warn!(id, %origin, %error, "notification refused, not retried");
                }
                None => {
                    return tracing::warn!(id, %origin, %error, tries, "notification given up");
                }
            }
        }
    }

    async fn try_once(&self, to: &Url, body: &Bytes) -> Result<(), TryError> {
        let mut request = self
            .client
            .post(to.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(secret) = &self.secret {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs());
            request = request
                .header(TIMESTAMP_HEADER, now)
                .header(SIGNATURE_HEADER, signature(secret, now, body));
        }
        let response = request
            .send()
            .await
            // Its URL may hold a token: logs go without it.
            .map_err(|error| TryError::Unreachable(error.without_url()))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(TryError::Refused(status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_may_pass_is_tried_again() {
        let refused = |code: u16| TryError::Refused(StatusCode::from_u16(code).unwrap());
        assert!(refused(500).passing() && refused(503).passing() && refused(429).passing());
        assert!(!refused(400).passing() && !refused(404).passing() && !refused(301).passing());
    }
}
