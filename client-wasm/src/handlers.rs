//! The message handlers: added and removed at any time, even while frames are dispatched.

use std::rc::Rc;

/// Handlers by id, in the order they were added. Copied on change, so that taking the list for
/// a frame costs one reference count, not an allocation.
#[derive(Debug)]
pub(crate) struct Handlers<H> {
    next_id: u32,
    handlers: Rc<Vec<(u32, H)>>,
}

impl<H> Default for Handlers<H> {
    fn default() -> Self {
        Self {
            next_id: 0,
            handlers: Rc::default(),
        }
    }
}

impl<H: Clone> Handlers<H> {
    /// Adds a handler; the id removes it.
    pub(crate) fn add(&mut self, handler: H) -> u32 {
        self.next_id += 1;
        Rc::make_mut(&mut self.handlers).push((self.next_id, handler));
        self.next_id
    }

    /// Removes a handler; false if it was already gone (unsubscribing twice is harmless).
    pub(crate) fn remove(&mut self, id: u32) -> bool {
        let before = self.handlers.len();
        Rc::make_mut(&mut self.handlers).retain(|(each, _)| *each != id);
        self.handlers.len() != before
    }

    /// The handlers now, to call without holding the registry: a handler may (un)subscribe.
    pub(crate) fn snapshot(&self) -> Rc<Vec<(u32, H)>> {
        self.handlers.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[(u32, &'static str)]) -> Vec<&'static str> {
        list.iter().map(|(_, name)| *name).collect()
    }

    #[test]
    fn handlers_come_and_go_in_order() {
        let mut handlers = Handlers::default();
        let a = handlers.add("a");
        handlers.add("b");
        let snapshot = handlers.snapshot();
        assert!(handlers.remove(a));
        assert!(!handlers.remove(a));
        handlers.add("c");
        assert_eq!(names(&snapshot), ["a", "b"]);
        assert_eq!(names(&handlers.snapshot()), ["b", "c"]);
    }
}
