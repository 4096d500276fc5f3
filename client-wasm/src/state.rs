//! The client's connection state as JS sees it: `client.state`, `onStateChange` and the `closed`
//! promise.

use js_sys::{Function, Object, Promise, Reflect};
use tsify::Tsify;
use wasm_bindgen::JsValue;

use crate::handlers::Handlers;

/// Where the client is. `idle` only before the first `start()`; `reconnecting` from a dropped
/// connection until the next is made; `closed` for good (`stop()`, a failed `start()`, or the
/// connection lost with `reconnect: false`), until `start()` again.
// Declares the TypeScript type; the strings are [`ConnectionState::name`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Tsify)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionState {
    Idle,
    Connecting,
    Connected,
    Reconnecting,
    Closed,
}

impl ConnectionState {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Closed => "closed",
        }
    }
}

/// What `client.closed` resolves with: the last WebSocket close's code and reason (1006 and
/// what failed when the connection failed without one).
#[derive(Debug, Clone, PartialEq, Eq, Tsify)]
pub struct CloseInfo {
    pub code: u16,
    pub reason: String,
}

impl CloseInfo {
    fn to_js(&self) -> JsValue {
        let object = Object::new();
        let _ = Reflect::set(&object, &"code".into(), &self.code.into());
        let _ = Reflect::set(&object, &"reason".into(), &self.reason.as_str().into());
        object.into()
    }
}

/// The state, its handlers, and the `closed` promise of the current run (from `start()` to
/// closed for good).
#[derive(Debug)]
pub(crate) struct StateWatch {
    state: ConnectionState,
    pub(crate) handlers: Handlers<Function>,
    closed: Option<(Promise, Option<Function>)>,
}

impl Default for StateWatch {
    fn default() -> Self {
        Self {
            state: ConnectionState::Idle,
            handlers: Handlers::default(),
            closed: None,
        }
    }
}

impl StateWatch {
    pub(crate) fn state(&self) -> ConnectionState {
        self.state
    }

    /// Moves to `state`; the handlers to call with it, if it changed (called by the caller, once
    /// it holds no borrow: a handler may call the client).
    #[must_use]
    pub(crate) fn set(&mut self, state: ConnectionState) -> Vec<Function> {
        if state == self.state {
            return Vec::new();
        }
        if self.state == ConnectionState::Closed {
            // A new run: the previous one's `closed` stays resolved for whoever holds it.
            self.closed = None;
        }
        self.state = state;
        self.handlers
            .snapshot()
            .iter()
            .map(|(_, handler)| handler.clone())
            .collect()
    }

    /// The promise of this run's end.
    pub(crate) fn closed(&mut self) -> Promise {
        let (promise, _) = self.closed.get_or_insert_with(|| {
            let mut resolver = None;
            let promise = Promise::new(&mut |resolve, _| resolver = Some(resolve));
            (promise, resolver)
        });
        promise.clone()
    }

    /// This run is over: resolves `closed` with `info`.
    pub(crate) fn close(&mut self, info: &CloseInfo) {
        let _ = self.closed();
        if let Some((_, resolve)) = &mut self.closed
            && let Some(resolve) = resolve.take()
        {
            let _ = resolve.call1(&JsValue::NULL, &info.to_js());
        }
    }
}
