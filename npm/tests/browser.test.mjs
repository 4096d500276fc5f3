// The browser entry (web.js) in headless Chromium: a plain page imports it, with no bundler,
// from an origin other than the server's, and completes a turn against the real server.
import assert from "node:assert/strict";
import { test } from "node:test";

import { openPage, serveStatic } from "./browser.mjs";
import { startServer } from "./harness.mjs";

const PACKAGE = new URL("..", import.meta.url).pathname;

test("a plain page imports web.js, configures the server, and completes a turn", async (t) => {
  const origin = await serveStatic(t, PACKAGE);
  const server = await startServer(t, ["--cors-origin", origin]);
  const { reported, problems } = await openPage(t, `${origin}/tests/pages/plain.html?server=${server}`);
  assert.deepEqual(await reported(), { reply: "You said: Hello from a plain page", subtype: "success" });
  // Among them, wasm-bindgen's warning if the wasm were not served as application/wasm.
  assert.deepEqual(problems, []);
});

test("without --cors-origin a page from another origin cannot configure the server", async (t) => {
  const origin = await serveStatic(t, PACKAGE);
  const server = await startServer(t);
  const { reported } = await openPage(t, `${origin}/tests/pages/plain.html?server=${server}`);
  assert.deepEqual(await reported(), { error: `Error: Could not connect to ${server}/config: Failed to fetch` });
});
