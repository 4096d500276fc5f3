//! The per-frame path: one JS function, the socket's `onmessage`, parses each frame with the
//! engine's own `JSON.parse` and calls the handlers, so that a frame crosses into wasm only while
//! `start()` waits for it (each crossing cost a tenth of the rate in scripts/bench-client). What
//! it reads is Rust's: the handlers (a snapshot of [`Handlers`](crate::handlers::Handlers)),
//! whether frames go to Rust first, debug logging, and where exceptions go. What it writes is
//! the `seq` of the last logged frame handed over, which a reconnect resumes after. The frames
//! that say which permission prompts wait (a few a turn) also go to Rust, for
//! `onPermissionRequest`, and so do the results of live controls, for their promises.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{
    JsValue,
    prelude::{Closure, wasm_bindgen},
};

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    fn listener(state: &Object) -> Function;
}

type Callback = Closure<dyn Fn(JsValue)>;

/// The listener and the state it reads.
#[derive(Debug)]
pub(crate) struct Dispatch {
    state: Object,
    listener: Function,
    inspect: Callback,
    _prompts: Callback,
    _report: Callback,
}

impl Dispatch {
    /// Frames go to `inspect` first while [`Dispatch::inspect`] says so, and those about
    /// permission prompts to `prompts`; handlers' exceptions, and frames that are not JSON, go
    /// to `report`.
    pub(crate) fn new(
        debug: bool,
        inspect: impl Fn(JsValue) + 'static,
        prompts: impl Fn(JsValue) + 'static,
        report: impl Fn(JsValue) + 'static,
    ) -> Self {
        let state = Object::new();
        let inspect = Callback::new(inspect);
        let prompts = Callback::new(prompts);
        let report = Callback::new(report);
        set(&state, "debug", &debug.into());
        set(&state, "prompts", prompts.as_ref());
        set(&state, "report", report.as_ref());
        set(&state, "handlers", &Array::new());
        set(&state, "lastSeq", &0.into());
        Self {
            listener: listener(&state),
            state,
            inspect,
            _prompts: prompts,
            _report: report,
        }
    }

    /// The socket's `onmessage`.
    pub(crate) fn listener(&self) -> &Function {
        &self.listener
    }

    /// Whether frames go to `inspect` before the handlers.
    pub(crate) fn inspect(&self, on: bool) {
        let inspect: &JsValue = if on {
            self.inspect.as_ref()
        } else {
            &JsValue::NULL
        };
        set(&self.state, "inspect", inspect);
    }

    /// The `seq` of the last logged frame handed over, if any.
    pub(crate) fn last_seq(&self) -> Option<u64> {
        Reflect::get(&self.state, &"lastSeq".into())
            .ok()
            .and_then(|seq| seq.as_f64())
            .filter(|seq| *seq >= 1.0)
            .map(|seq| seq as u64)
    }

    /// Forgets the frames seen: another session's log numbers its frames anew.
    pub(crate) fn forget_seq(&self) {
        set(&self.state, "lastSeq", &0.into());
    }

    /// The handlers from the next frame on.
    pub(crate) fn set_handlers<'a>(&self, handlers: impl Iterator<Item = &'a Function>) {
        let array: Array = handlers.collect();
        set(&self.state, "handlers", &array);
    }
}

fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).expect("setting a plain object's field");
}
