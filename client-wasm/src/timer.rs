//! A wait that can be cut short: the reconnect backoff, which `stop()` must not leave pending
//! (a pending timer keeps Node running).

use js_sys::{Function, Promise};
use wasm_bindgen::{JsValue, prelude::wasm_bindgen};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The global timers, whatever the runtime (no `window` in Node).
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: u32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A running wait; [`Timer::cancel`] ends it at once.
#[derive(Debug)]
pub(crate) struct Timer {
    id: JsValue,
    resolve: Function,
}

impl Timer {
    /// Starts a wait of `ms`; the future resolves when it is over or cancelled.
    pub(crate) fn start(ms: u32) -> (Self, JsFuture) {
        let mut resolver = None;
        let done = Promise::new(&mut |resolve, _| resolver = Some(resolve));
        let resolve = resolver.expect("the executor runs at once");
        // The timer calls the promise's own resolve: no Rust closure to own or free.
        let id = set_timeout(&resolve, ms);
        (Self { id, resolve }, JsFuture::from(done))
    }

    pub(crate) fn cancel(&self) {
        clear_timeout(&self.id);
        let _ = self.resolve.call0(&JsValue::NULL);
    }
}
