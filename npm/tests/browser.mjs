// Browser test helpers: a static file server on 127.0.0.1 and pages in headless Chromium
// (Debian's, driven by playwright-core), each screenshotted to target/screenshots/ after its test.
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, resolve, sep } from "node:path";

import { chromium } from "playwright-core";

import { PATIENCE_MS } from "./harness.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Root needs --no-sandbox; the rest keep Chromium off a network that only has loopback.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SCREENSHOTS = new URL("../../target/screenshots/", import.meta.url).pathname;

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Serves the files under `root` over http on 127.0.0.1 until the test ends; resolves with its origin. */
export async function serveStatic(t, root) {
  root = resolve(root);
  const server = createServer(async (request, response) => {
    try {
      const path = decodeURIComponent(new URL(request.url, "http://host").pathname);
      const file = join(root, path.endsWith("/") ? `${path}index.html` : path);
      if (!file.startsWith(root + sep)) throw new Error("outside the root");
      const body = await readFile(file);
      const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
      response.writeHead(200, { "content-type": type }).end(body);
    } catch {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
    }
  });
  await new Promise((listening) => server.listen(0, "127.0.0.1", listening));
  t.after(async () => {
    server.closeAllConnections(); // Chromium's keep-alive connections would hold close() up
    await new Promise((closed) => server.close(closed));
  });
  return `http://127.0.0.1:${server.address().port}`;
}

/**
 * Opens `url` in a new headless Chromium, closed after the test (once its screenshot is taken).
 * `problems` collects the page's uncaught errors and console errors and warnings. `reported()`
 * resolves with the first value the page passes to `window.report(value)`, and rejects on an
 * uncaught error or after a minute without one. `options` as `launchBrowser(t).open`'s.
 */
export async function openPage(t, url, options) {
  return (await launchBrowser(t)).open(url, options);
}

/**
 * A new headless Chromium whose pages (`open(url, { viewport })`, as `openPage`'s) are each
 * screenshotted when the test ends, then it closes. Launched before a test's servers start, the
 * screenshots show the pages with their servers still running (`t.after` hooks run in order).
 */
export async function launchBrowser(t) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const pages = [];
  t.after(async () => {
    for (const [index, page] of pages.entries()) {
      await screenshot(t, page, index ? `page-${index + 1}` : "");
    }
    await browser.close();
  });
  return {
    async open(url, { viewport } = {}) {
      const page = await browser.newPage(viewport ? { viewport } : {});
      pages.push(page);
      return watch(page, url);
    },
  };
}

/** Saves `page` to target/screenshots/, named after the test and `label`; failures are only noted. */
export async function screenshot(t, page, label = "") {
  const name = [t.name, label].filter(Boolean).join(" ");
  const path = join(SCREENSHOTS, `${name.replace(/[^\w]+/g, "-").toLowerCase()}.png`);
  await mkdir(SCREENSHOTS, { recursive: true });
  await page
    .screenshot({ path, fullPage: true, timeout: 5_000 })
    .catch((error) => t.diagnostic(`no screenshot: ${error.message}`));
}

/** Watches `page` for problems and reports, then goes to `url`. */
async function watch(page, url) {
  const problems = [];
  let report, fail;
  const reports = new Promise((resolve, reject) => {
    report = resolve;
    fail = (what) => reject(new Error(`${what} at ${url}; problems: ${problems.join("\n")}`));
  });
  reports.catch(() => {}); // a test that never asks for the report is not failed by it
  page.on("pageerror", (error) => {
    problems.push(`uncaught: ${error.message}`);
    fail("an uncaught error");
  });
  page.on("console", (message) => {
    const type = message.type();
    if (type === "error" || type === "warning") problems.push(`${type}: ${message.text()}`);
  });
  await page.exposeFunction("report", (value) => report(value));
  await page.goto(url);
  const reported = () => {
    const timer = setTimeout(() => fail("no report in time"), PATIENCE_MS);
    return reports.finally(() => clearTimeout(timer));
  };
  return { page, problems, reported };
}
