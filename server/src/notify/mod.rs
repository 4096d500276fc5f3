//! Webhook notifications: a session posts JSON to a URL when it needs a person (a permission
//! prompt) and when a turn ends, so that whoever runs an agent remotely hears of it. Sessions
//! only enqueue; a task of its own sends, so a slow or dead receiver never holds a session up.

mod body;
mod deliver;
mod queue;
mod sign;

use std::sync::Arc;

use claude_agent_protocol::{QueryConfig, Seq, config::Secret, permissions::PermissionRequest};
use reqwest::Url;
use thiserror::Error;
use tokio::sync::Semaphore;

use self::{
    body::{Detail, NeedsInput, Notification, TurnEnded},
    deliver::Courier,
    queue::Queue,
};
pub(crate) use deliver::Letter;

/// Notifications waiting at most; past it the oldest are dropped.
const QUEUED: usize = 1024;
/// Notifications sent at once: a receiver that holds its requests holds up only these.
const IN_FLIGHT: usize = 8;

/// Why a notification URL is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum UrlError {
    #[error("not a URL: {0}")]
    Unparsable(String),
    #[error("an http or https URL is needed, not {0}:")]
    Scheme(String),
}

/// A notification URL: absolute, http or https.
pub(crate) fn parse_url(text: &str) -> Result<Url, UrlError> {
    let url = Url::parse(text).map_err(|error| UrlError::Unparsable(error.to_string()))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(UrlError::Scheme(other.to_owned())),
    }
}

/// Why `config`'s `notifyUrl` cannot be used, if it cannot.
pub(crate) fn unusable(config: &QueryConfig) -> Option<String> {
    let error = parse_url(config.notify_url.as_ref()?.expose()).err()?;
    Some(format!("Invalid config field `notifyUrl`: {error}"))
}

/// Where sessions' notifications go, and the queue to the task that sends them.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    /// `--notify-url`: for the sessions with no URL of their own.
    url: Option<Url>,
    queue: Arc<Queue<Letter>>,
}

impl Notifier {
    /// Starts the task that sends notifications, signed with `secret` if there is one.
    pub(crate) fn start(url: Option<Url>, secret: Option<Secret>) -> Result<Self, reqwest::Error> {
        let courier = Courier::new(secret)?;
        let queue = Arc::new(Queue::new(QUEUED));
        tokio::spawn(send(queue.clone(), Arc::new(courier)));
        Ok(Self { url, queue })
    }

    /// Where the session `session_id`, whose config names the URL `own` or none, notifies;
    /// `None`: nowhere.
    pub(crate) fn recipient(&self, session_id: &str, own: Option<&str>) -> Option<Recipient> {
        let to = match own.map(parse_url) {
            Some(Ok(own)) => own,
            Some(Err(error)) => {
                // Refused when the config was set: only a session stored by hand has one.
                tracing::warn!(session = session_id, %error, "its notifyUrl is unusable");
                return None;
            }
            None => self.url.clone()?,
        };
        Some(Recipient {
            to,
            session_id: session_id.to_owned(),
        })
    }

    /// Queues `letter` to be sent; never waits.
    pub(crate) fn send(&self, letter: Letter) {
        if let Some(dropped) = self.queue.push(letter) {
            tracing::warn!(
                id = dropped.body.id,
                session = dropped.body.session_id,
                "{QUEUED} notifications wait to be sent: dropped the oldest"
            );
        }
    }
}

/// Sends what is queued, [`IN_FLIGHT`] at a time.
async fn send(queue: Arc<Queue<Letter>>, courier: Arc<Courier>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    // Waits for a slot before taking a letter, so that those waiting stay in the bounded queue.
    while let Ok(slot) = slots.clone().acquire_owned().await {
        let letter = queue.pop().await;
        let courier = courier.clone();
        tokio::spawn(async move {
            courier.deliver(letter).await;
            drop(slot);
        });
    }
}

/// A session's address for notifications.
#[derive(Debug)]
pub(crate) struct Recipient {
    to: Url,
    session_id: String,
}

impl Recipient {
    /// A permission prompt waits for a person.
    pub(crate) fn needs_input(&self, prompt: &PermissionRequest) -> Letter {
        self.letter(Detail::NeedsInput(NeedsInput::of(prompt)))
    }

    /// A turn ended with the `result` line `raw`; it cost `cost_usd` of the session's
    /// `total_cost_usd`.
    pub(crate) fn turn_ended(&self, raw: &str, cost_usd: f64, total_cost_usd: f64) -> Letter {
        self.letter(Detail::TurnEnded(TurnEnded::read(
            raw,
            cost_usd,
            total_cost_usd,
        )))
    }

    fn letter(&self, detail: Detail) -> Letter {
        Letter {
            to: self.to.clone(),
            body: Notification::new(self.session_id.clone(), detail),
        }
    }
}

impl Letter {
    /// The letter about the log's frame `seq`.
    pub(crate) fn at(mut self, seq: Seq) -> Self {
        self.body.seq = seq;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_taken() {
        assert!(parse_url("https://hooks.example.com/a?token=t").is_ok());
        assert!(parse_url("http://127.0.0.1:9/").is_ok());
        assert_eq!(
            parse_url("ftp://example.com/"),
            Err(UrlError::Scheme("ftp".into()))
        );
        assert!(matches!(parse_url("/hook"), Err(UrlError::Unparsable(_))));
        let config = QueryConfig {
            notify_url: Some(claude_agent_protocol::config::Secret::new("nope")),
            ..QueryConfig::default()
        };
        assert_eq!(
            unusable(&config).unwrap(),
            "Invalid config field `notifyUrl`: not a URL: relative URL without a base"
        );
    }

    #[tokio::test]
    async fn a_sessions_own_url_wins() {
        let server = parse_url("http://127.0.0.1:1/server").unwrap();
        let notifier = Notifier::start(Some(server.clone()), None).unwrap();
        let own = notifier
            .recipient("s", Some("http://127.0.0.1:1/own"))
            .unwrap();
        assert_eq!(own.to.path(), "/own");
        assert_eq!(notifier.recipient("s", None).unwrap().to, server);
        let nowhere = Notifier::start(None, None).unwrap();
        assert!(nowhere.recipient("s", None).is_none());
    }
}
