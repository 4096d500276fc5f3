// The JavaScript the client runs beside its wasm, as one module: a page then fetches it in one
// request (each `inline_js` block was a module of its own, and five fetched at once can starve
// the wasm-bindgen test runner's server). Each Rust module imports what it uses from here.

// ── Requests: `fetch`, and how an answer is read or refused.

// Sends a request with the global `fetch` (no `window` in Node), and reads its answer as `read`
// says: "json" (undefined when it has none), "text", "blob", or "response" (as it is: a
// stream). A refusal rejects with an Error saying "Failed to <action>: " and the server's
// reason, with its `code` (if any) and `status`; a network failure with one saying so.
export async function send(url, init, action, read) {
  let response;
  let text;
  try {
    response = await fetch(url, init);
    if (response.ok && read !== "json") {
      return read === "response" ? response : await response[read]();
    }
    text = await response.text();
  } catch (error) {
    throw new Error(`Could not connect to ${url}: ${error?.message ?? error}`);
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  if (response.ok) return json;
  // This server answers {"error", "code"}; E2B {"code": 401, "message"}; anything else is
  // shown as it came.
  const reason = json?.error ?? json?.message ?? `HTTP ${response.status}: ${text}`;
  const error = new Error(`Failed to ${action}: ${reason}`);
  if (typeof json?.code === "string") error.code = json.code;
  error.status = response.status;
  throw error;
}

// ── Frames: the WebSocket listener that hands each frame to the handlers.

const RUST_FRAMES = new Set([
  "connected",
  "permission_request",
  "permission_resolved",
  "control_result",
]);

export function listener(state) {
  return (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (error) {
      return state.report(error);
    }
    // A frame of the session's log is handed over once: one already seen is a resend of a
    // resumed connection (or of a restart of the client, resuming where it stopped).
    const seq = frame?.seq;
    if (typeof seq === "number") {
      if (seq <= state.lastSeq) return;
      state.lastSeq = seq;
    } else if (frame?.type === "connected" && frame.after > state.lastSeq) {
      // The frames before this connection's first were handled elsewhere (the legacy /ws
      // goes on from the first no client had): a reconnect resumes from here, not earlier.
      state.lastSeq = frame.after;
    }
    if (state.inspect) state.inspect(frame);
    if (RUST_FRAMES.has(frame?.type)) state.prompts(frame);
    if (state.debug) console.log("Received message:", frame);
    // The array of this moment: handlers (un)subscribed by a handler take effect next frame.
    for (const handler of state.handlers) {
      try {
        handler(frame);
      } catch (error) {
        state.report(error);
      }
    }
  };
}

// ── Files: entries as the e2b SDK shapes them.

// The e2b SDK's `modifiedTime` (a Date) beside the server's `modified` (RFC 3339 text).
const withTime = (entry) => Object.assign(entry, { modifiedTime: new Date(entry.modified) });
export const entry = (answer) => answer.then(withTime);
export const entries = (answer) => answer.then((list) => list.entries.map(withTime));

// ── Watches: a text/event-stream of file events.

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

// ── E2B sandboxes: the token, and a kill.

// 32 random bytes from Web Crypto (global in browsers and Node 20+), in hex.
export const newToken = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(32)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");

// Resolves once `closing` has and the kill is `answer`ed; a sandbox gone already (404)
// counts as killed.
export const killed = (answer, closing) =>
  Promise.all([
    closing,
    answer.catch((error) => {
      if (error.status !== 404) throw error;
    }),
  ]).then(() => {});
