// Test helpers: a real server (the testkit's `test-server`: the server binary, the pinned CLI,
// the scripted Messages API), the E2B mock, a proxy to cut its connections, watching this
// process's requests, waiting for frames, states and file events, and the README's examples.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const TEST_SERVER =
  process.env.TEST_SERVER ?? new URL("../../target/debug/test-server", import.meta.url).pathname;
const PACKAGE = new URL("..", import.meta.url).pathname;
const LOCALHOST_DNS = new URL("localhost-dns.mjs", import.meta.url).pathname;
/** How long a test waits for what should come. */
export const PATIENCE_MS = 60_000;

/**
 * Starts a server with the server's `args`, and `env` for `test-server` (such as
 * `TEST_SERVER_NO_KEY`), stopped after the test (or if this process dies).
 */
export async function startServer(t, args = [], env = {}) {
  const child = spawn(TEST_SERVER, args, {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${TEST_SERVER} exited with ${code}`)));
    child.once("error", reject);
    lines.on("line", (line) => {
      const match = line.match(/^listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
  });
  t.after(async () => {
    child.stdin.end();
    if (child.exitCode === null) await once(child, "exit");
  });
  return url;
}

const E2B_MOCK =
  process.env.E2B_MOCK ?? new URL("../../target/debug/e2b-mock", import.meta.url).pathname;
/** The E2B mock's API key (its default). */
export const E2B_KEY = "e2b_test_key";

/**
 * Starts the E2B mock (the testkit's `e2b-mock`: E2B's control plane, whose sandboxes run the
 * real server), with `env` for it (such as `E2B_MOCK_TEMPLATES`), stopped after the test (it
 * then kills every sandbox). Resolves with `{ apiUrl, domain, sandboxes() }`: what to pass as
 * `e2bApiUrl` and `e2bDomain`, and every sandbox it ever made (`GET /_mock/sandboxes`). Node
 * reaches its sandbox hosts (`*.localhost`) only with tests/localhost-dns.mjs preloaded.
 */
export async function startE2bMock(t, env = {}) {
  const child = spawn(E2B_MOCK, [], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout });
  const printed = {};
  await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${E2B_MOCK} exited with ${code}`)));
    child.once("error", reject);
    lines.on("line", (line) => {
      const [, key, value] = line.match(/^e2b (api|domain) (\S+)/) ?? [];
      if (key) printed[key] = value;
      if (printed.api && printed.domain) resolve();
    });
  });
  t.after(async () => {
    child.stdin.end();
    if (child.exitCode === null) await once(child, "exit");
  });
  const apiUrl = printed.api;
  return {
    apiUrl,
    domain: printed.domain,
    sandboxes: async () => (await fetch(`${apiUrl}/_mock/sandboxes`)).json(),
  };
}

/**
 * Calls `seen(url, init)` with each request this process's `fetch` sends (the client's too)
 * until the test ends.
 */
export function watchRequests(t, seen) {
  const realFetch = globalThis.fetch;
  t.after(() => (globalThis.fetch = realFetch));
  globalThis.fetch = (url, init) => {
    seen(String(url), init);
    return realFetch(url, init);
  };
}

/** A URL where nothing listens. */
export async function deadUrl() {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${port}`;
}

/**
 * A TCP proxy to the server at `url`, closed after the test, for cutting the server's
 * connections as a network would. `url` is the proxy's; `cut()` destroys the connections open
 * now; `cutAfter(pattern, count)` destroys the next one to carry `pattern` `count` times from
 * the server (before forwarding the chunk that completes the count), and resolves then;
 * `refuse(on)` drops new connections while on.
 */
export async function startProxy(t, url) {
  const { hostname, port } = new URL(url);
  const open = new Set();
  let refusing = false;
  let cutting = null; // { pattern, count, done }
  const server = createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = connect(Number(port), hostname);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(end);
    };
    open.add(end);
    for (const socket of [client, upstream]) socket.on("error", end).on("close", end);
    client.pipe(upstream);
    let seen = 0;
    let tail = ""; // so that a pattern split between chunks is still seen
    upstream.on("data", (chunk) => {
      if (cutting) {
        const text = tail + chunk.toString("latin1");
        seen += text.split(cutting.pattern).length - 1;
        tail = text.slice(-(cutting.pattern.length - 1));
        if (seen >= cutting.count) {
          const { done } = cutting;
          cutting = null;
          end();
          return done();
        }
      }
      client.write(chunk);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const end of open) end();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut: () => {
      for (const end of open) end();
    },
    cutAfter: (pattern, count) => new Promise((done) => (cutting = { pattern, count, done })),
    refuse: (on) => (refusing = on),
  };
}

/** Resolves once `client` reaches `state` (at once if it is there). */
export function reaches(client, state) {
  if (client.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`not ${state} in time, but ${client.state}`));
    }, PATIENCE_MS);
    const off = client.onStateChange((now) => {
      if (now !== state) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/**
 * Resolves with the frames up to and including the first that `done(frame, seen)` accepts
 * (`seen`: the frames so far, that one included).
 */
export function frames(client, done) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching frame in time; saw ${JSON.stringify(seen).slice(0, 2000)}`));
    }, PATIENCE_MS);
    const off = client.onMessage((frame) => {
      seen.push(frame);
      if (done(frame, seen)) {
        clearTimeout(timer);
        off();
        resolve(seen);
      }
    });
  });
}

/** The frames of one turn, up to its result. */
export const turn = (client) =>
  frames(client, (f) => f.type === "sdk_message" && f.data.type === "result");

/** The assistant's text among `frames`. */
export const assistantText = (seen) =>
  seen
    .filter((f) => f.type === "sdk_message" && f.data.type === "assistant")
    .flatMap((f) => f.data.message.content)
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("");

/** The text of the token deltas (`stream_event`s) among `frames`. */
export const streamedText = (seen) =>
  seen
    .filter((f) => f.type === "sdk_message" && f.data.type === "stream_event")
    .map((f) => f.data.event)
    .filter((event) => event.type === "content_block_delta" && event.delta.type === "text_delta")
    .map((event) => event.delta.text)
    .join("");

/** What `[[slow:N:MS]]` makes the mock API say: "w0 w1 … w(N-1) ". */
export const slowWords = (n) => Array.from({ length: n }, (_, i) => `w${i} `).join("");

/** The text of the tool results among `frames`, and whether any of them is an error. */
export function toolResults(seen) {
  const results = seen
    .filter((f) => f.type === "sdk_message" && f.data.type === "user")
    .flatMap((f) => f.data.message.content)
    .filter((block) => block.type === "tool_result");
  const text = (content) =>
    typeof content === "string" ? content : content.map((block) => block.text ?? "").join("");
  return {
    text: results.map((block) => text(block.content)).join(""),
    failed: results.some((block) => block.is_error === true),
  };
}

/**
 * A `watchDir` handler that keeps the events it gets (`seen`): pass `onEvent`; `next(match)`
 * resolves with the events since the last match up to the first whose fields are those of
 * `match` (e.g. `{ type: "create", name: "a.txt" }`).
 */
export function fileEvents() {
  const seen = [];
  let from = 0;
  let waiter = null;
  const check = () => {
    if (!waiter) return;
    const fits = (event) =>
      Object.entries(waiter.match).every(([key, value]) => event[key] === value);
    const index = seen.findIndex((event, i) => i >= from && fits(event));
    if (index < 0) return;
    const got = seen.slice(from, index + 1);
    from = index + 1;
    clearTimeout(waiter.timer);
    waiter.resolve(got);
    waiter = null;
  };
  return {
    seen,
    onEvent: (event) => {
      seen.push(event);
      check();
    },
    next: (match) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = null;
          const since = JSON.stringify(seen.slice(from));
          reject(new Error(`no ${JSON.stringify(match)} in time; saw ${since}`));
        }, PATIENCE_MS);
        waiter = { match, resolve, timer };
        check();
      }),
  };
}

/** The first ```js block after `heading` in the package README. */
export async function readmeExample(heading) {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  return readme.slice(readme.indexOf(heading)).match(/```js\n([\s\S]*?)```/)[1];
}

/**
 * Runs `code` in Node from the package, whose own name it imports, with `env` added to this
 * process's and tests/localhost-dns.mjs preloaded, until it ends by itself; resolves with what
 * it printed.
 */
export async function runExample(code, env = {}) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", LOCALHOST_DNS, "--input-type=module", "--eval", code],
    { cwd: PACKAGE, timeout: 60_000, env: { ...process.env, ...env } },
  );
  return stdout;
}
