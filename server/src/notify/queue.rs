//! The notifications waiting to be sent: bounded, the oldest dropped when full, so that a
//! receiver that is down costs a bounded amount of memory and the newest news still goes.

use std::{
    collections::VecDeque,
    sync::{Mutex, MutexGuard},
};

use tokio::sync::Notify;

#[derive(Debug)]
pub(super) struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    capacity: usize,
    pushed: Notify,
}

impl<T> Queue<T> {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            items: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            pushed: Notify::new(),
        }
    }

    /// Adds `item` at once; returns the oldest, dropped to make room, if it was full.
    pub(super) fn push(&self, item: T) -> Option<T> {
        let dropped = {
            let mut items = self.lock();
            let dropped = (items.len() >= self.capacity)
                .then(|| items.pop_front())
                .flatten();
            items.push_back(item);
            dropped
        };
        self.pushed.notify_one();
        dropped
    }

    /// The oldest item, once there is one.
    pub(super) async fn pop(&self) -> T {
        loop {
            if let Some(item) = self.lock().pop_front() {
                return item;
            }
            // A push since the check left a permit: this returns at once.
            self.pushed.notified().await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<T>> {
        crate::lock::lock(&self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_oldest_goes_when_it_is_full() {
        let queue = Queue::new(2);
        assert_eq!(queue.push(1), None);
        assert_eq!(queue.push(2), None);
        assert_eq!(queue.push(3), Some(1));
        assert_eq!(queue.pop().await, 2);
        assert_eq!(queue.pop().await, 3);
    }

    #[tokio::test]
    async fn a_pop_waits_for_a_push() {
        let queue = std::sync::Arc::new(Queue::new(1));
        let popped = tokio::spawn({
            let queue = queue.clone();
            async move { queue.pop().await }
        });
        tokio::task::yield_now().await;
        queue.push("a");
        assert_eq!(popped.await.unwrap(), "a");
    }
}
