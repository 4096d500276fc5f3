use std::{
    pin::pin,
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::{sync::Notify, time::Instant};

use super::RecordedRequest;

/// Every request the mock has seen, plus a wake-up for tests waiting on a new one.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
    added: Notify,
}

impl Recorder {
    pub(crate) fn record(&self, request: RecordedRequest) {
        self.lock().push(request);
        self.added.notify_waiters();
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    /// The first recorded request matching `matches`, waiting up to `timeout` for it.
    pub(crate) async fn wait_for(
        &self,
        matches: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            // Enabled before the check so a request recorded in between still wakes us.
            let mut added = pin!(self.added.notified());
            added.as_mut().enable();
            if let Some(found) = self.lock().iter().find(|request| matches(request)) {
                return Some(found.clone());
            }
            tokio::time::timeout_at(deadline, added).await.ok()?;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        // A panicking test thread must not hide the requests from the others.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
