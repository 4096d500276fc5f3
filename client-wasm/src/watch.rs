//! `watchDir`'s stream: the server's `text/event-stream`, read from a `fetch` answer's body
//! (Node 20 has no `EventSource`, and `fetch` can send the bearer token). Reading a stream of
//! text lines is JS's own job; it is a few lines there, and keeps the `.wasm` small.

use js_sys::{Function, Promise};
use wasm_bindgen::{JsValue, prelude::wasm_bindgen};

#[wasm_bindgen(inline_js = r#"
// Calls `onEvent(event, data)` for each event of a text/event-stream body; resolves at its
// end. Comments (the server's keepalives) and other fields are skipped.
async function read(body, onEvent) {
  const lines = body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  let event = "";
  let data = [];
  for (;;) {
    const { value, done } = await lines.read();
    if (done) return;
    const split = (rest + value).split(/\r?\n/);
    rest = split.pop();
    for (const line of split) {
      if (line === "") {
        if (data.length) onEvent(event || "message", data.join("\n"));
        event = "";
        data = [];
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
      } else if (line.startsWith("event:")) {
        event = line.slice(6).trim();
      }
    }
  }
}

// Once the `answer` to the watch's request comes, resolves with its handle at the server's
// `start` event, then hands each change to `onEvent` until `controller` aborts (`stop()`, or
// the client's) or the stream ends; then `onExit`, with an Error unless stopped. What the
// callbacks throw goes to `report`.
export async function follow(answer, controller, onEvent, onExit, report) {
  let response;
  try {
    response = await answer;
  } catch (error) {
    controller.abort(); // over: the client forgets it
    throw error;
  }
  // A callback may be async: what it throws or rejects with is reported, never unhandled.
  const call = async (callback) => {
    try {
      await callback();
    } catch (error) {
      report(error);
    }
  };
  let started;
  const ready = new Promise((resolve, reject) => {
    started = { resolve, reject };
  });
  let live = false;
  const handle = {
    stop: () => {
      controller.abort();
      return ended;
    },
  };
  const ended = (async () => {
    let why = "the server ended it";
    try {
      await read(response.body, (event, data) => {
        if (event === "start") {
          live = true;
          started.resolve(handle);
        } else if (event === "message") {
          call(() => onEvent(JSON.parse(data)));
        }
      });
    } catch (error) {
      why = error?.message ?? String(error);
    }
    const stopped = controller.signal.aborted;
    controller.abort(); // over: the client forgets it
    const error = stopped ? undefined : new Error(`The watch ended: ${why}`);
    started.reject(error ?? new Error("The watch was stopped before it started"));
    if (live) await call(() => onExit?.(error));
  })();
  return ready;
}
"#)]
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
