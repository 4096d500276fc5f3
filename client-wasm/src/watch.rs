//! `watchDir`'s stream: the server's `text/event-stream`, read from a `fetch` answer's body
//! (Node 20 has no `EventSource`, and `fetch` can send the bearer token). Reading a stream of
//! text lines is JS's own job; it is a few lines there, and keeps the `.wasm` small.

use js_sys::{Function, Promise};
use wasm_bindgen::{JsValue, prelude::wasm_bindgen};

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    pub(crate) fn follow(
        answer: Promise,
        controller: &AbortController,
        on_event: &Function,
        on_exit: &JsValue,
        report: &Function,
    ) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    /// The global `AbortController`.
    #[derive(Debug, Clone)]
    pub(crate) type AbortController;
    #[wasm_bindgen(constructor)]
    pub(crate) fn new() -> AbortController;
    #[wasm_bindgen(method)]
    pub(crate) fn abort(this: &AbortController);
    #[wasm_bindgen(method, getter)]
    pub(crate) fn signal(this: &AbortController) -> AbortSignal;

    #[derive(Debug, Clone)]
    pub(crate) type AbortSignal;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn aborted(this: &AbortSignal) -> bool;
}
