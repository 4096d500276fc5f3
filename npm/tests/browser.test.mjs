// The browser entry (web.js) in headless Chromium: a plain page imports it, with no bundler,
// from an origin other than the server's, and completes a turn against the real server; a
// page's session survives its connection cut mid-turn; a page uses the files methods (with the
// server's token, and without auth), and drives an agent in an E2B sandbox (the mock).
import assert from "node:assert/strict";
import { test } from "node:test";

import { openPage, serveStatic } from "./browser.mjs";
import { E2B_KEY, slowWords, startE2bMock, startProxy, startServer } from "./harness.mjs";

const PACKAGE = new URL("..", import.meta.url).pathname;

test("a plain page imports web.js, configures the server, and completes a turn", async (t) => {
  const origin = await serveStatic(t, PACKAGE);
  const server = await startServer(t, ["--cors-origin", origin]);
  const { reported, problems } = await openPage(
    t,
    `${origin}/tests/pages/plain.html?server=${server}`,
  );
  assert.deepEqual(await reported(), {
    reply: "You said: Hello from a plain page",
    subtype: "success",
  });
  // Among them, wasm-bindgen's warning if the wasm were not served as application/wasm.
  assert.deepEqual(problems, []);
});

test("without --cors-origin a page from another origin cannot configure the server", async (t) => {
  const origin = await serveStatic(t, PACKAGE);
  const server = await startServer(t);
  const { reported } = await openPage(t, `${origin}/tests/pages/plain.html?server=${server}`);
  assert.deepEqual(await reported(), {
    error: `Error: Could not connect to ${server}/config: Failed to fetch`,
  });
});

test("a page's session resumes after its connection is cut mid-turn", async (t) => {
  const origin = await serveStatic(t, PACKAGE);
  const server = await startServer(t, ["--cors-origin", origin]);
  const proxy = await startProxy(t, server);
  const cut = proxy.cutAfter('"text_delta"', 5);
  const query = new URLSearchParams({ server, via: proxy.url, text: "[[slow:30:100]]" });
  const { reported, problems } = await openPage(t, `${origin}/tests/pages/resume.html?${query}`);
  const outcome = await reported();
  await cut;
  assert.deepEqual(outcome, {
    subtype: "success",
    streamed: slowWords(30),
    states: ["connecting", "connected", "reconnecting", "connected", "closed"],
    increasing: true,
    closed: { code: 1000, reason: "" },
  });
  // The cut connection's failure is the only one the browser logs.
  assert.ok(
    problems.every((problem) => /WebSocket connection to .* failed/.test(problem)),
    problems.join("\n"),
  );
});

const FILES_OUTCOME = {
  size: 11,
  text: "from a page",
  bytes: [1, 2, 255],
  entries: ["a.txt file true", "b.bin file true"],
  watched: true,
  removed: true,
};

test("a page writes, reads, lists, watches and removes files, with the server's token", async (t) => {
  const origin = await serveStatic(t, PACKAGE);
  // With a token, any page may call the API: no --cors-origin.
  const token = "a-token-for-the-page";
  const server = await startServer(t, ["--token", token]);
  const query = new URLSearchParams({ server, token });
  const { reported, problems } = await openPage(t, `${origin}/tests/pages/files.html?${query}`);
  assert.deepEqual(await reported(), FILES_OUTCOME);
  assert.deepEqual(problems, []);
});

test("a page uses the files methods of a server without auth that allows its origin", async (t) => {
  const origin = await serveStatic(t, PACKAGE);
  const server = await startServer(t, ["--cors-origin", origin]);
  const { reported, problems } = await openPage(
    t,
    `${origin}/tests/pages/files.html?server=${server}`,
  );
  assert.deepEqual(await reported(), FILES_OUTCOME);
  assert.deepEqual(problems, []);
});

test("a page drives an agent in an E2B sandbox, which stop() kills", async (t) => {
  const origin = await serveStatic(t, PACKAGE);
  const mock = await startE2bMock(t);
  const query = new URLSearchParams({ api: mock.apiUrl, domain: mock.domain, key: E2B_KEY });
  const { reported, problems } = await openPage(t, `${origin}/tests/pages/e2b.html?${query}`);
  assert.deepEqual(await reported(), {
    reply: "You said: Hello from a page",
    text: "in a sandbox",
  });
  assert.deepEqual(problems, []);
  const [sandbox, ...more] = await mock.sandboxes();
  assert.deepEqual(more, []);
  assert.equal(sandbox.state, "killed");
});
