// The demo page's approval cards for permission prompts, in headless Chromium against the real
// server and CLI in `default` mode, which asks before a Bash command that writes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { launchBrowser, screenshot } from "../../npm/tests/browser.mjs";
import { startProxy, startServer } from "../../npm/tests/harness.mjs";
import { newSession, openDemo, sessionOf, type } from "./demo.mjs";

/** A Bash command that `default` mode asks about (it writes a file), then `command`. */
const asking = (command) => `[[tool:bash:touch made-here && ${command}]]`;

/** The approval cards of `page`; `state` (`waiting`, `allowed`, …) only those in it. */
const cards = (page, state) =>
  page.locator(`.entry.permission${state ? `[data-state="${state}"]` : ""}`);

/** A new `default`-mode session from the page's settings, as a person would make it. */
async function askingSession(page) {
  await page.getByLabel("Permission mode", { exact: true }).selectOption("default");
  const config = await newSession(page);
  assert.equal(config.permissionMode, "default");
  return sessionOf(page);
}

/** The tool card's output, once its result has come. */
async function toolOutput(page) {
  const card = page.locator("details.tool:is(.done, .failed)");
  await card.locator("> summary").click();
  return {
    output: await card.locator(".tool-output").innerText(),
    kind: await card.getAttribute("class"),
  };
}

test("two tabs show a prompt's card; Allow on one clears both, saying who, and the tool runs", async (t) => {
  const { page, browser, server, problems } = await openDemo(t);
  const id = await askingSession(page);
  const second = await browser.open(`${server}/?session=${id}`);
  await second.page.locator('#status[data-state="connected"]').waitFor();
  const tabs = [page, second.page];

  await type(page, asking("echo allowed-ran"));
  for (const tab of tabs) {
    const card = cards(tab, "waiting");
    await card.waitFor();
    assert.equal(await card.locator(".permission-title").innerText(), "Claude wants to use Bash");
    assert.equal(
      await card.locator(".permission-input").innerText(),
      "touch made-here && echo allowed-ran",
    );
    assert.match(
      await card.locator(".blocked-path").innerText(),
      /^Path it would touch: \/.*\/made-here$/,
    );
    assert.ok(await card.getByRole("button", { name: "Always allow" }).isVisible());
    assert.equal(
      await tab.locator("#activity").innerText(),
      "Claude is waiting for your approval…",
    );
  }
  await screenshot(t, second.page, "waiting");

  await cards(second.page).getByRole("button", { name: "Allow", exact: true }).click();
  for (const tab of tabs) {
    const card = cards(tab, "allowed");
    await card.waitFor();
    assert.match(await card.locator(".outcome").innerText(), /^Allowed by client-\d+$/);
    assert.equal(await card.getByRole("button").count(), 0);
    await tab.locator(".entry.result").waitFor();
    const { output, kind } = await toolOutput(tab);
    assert.equal(output, "allowed-ran");
    assert.equal(kind, "tool done");
  }
  assert.equal(await cards(page).count(), 1);
  assert.deepEqual([...problems, ...second.problems], []);
});

test("Deny with a message: the card says denied, the tool fails with the message", async (t) => {
  const { page, problems } = await openDemo(t);
  await askingSession(page);
  await type(page, asking("echo denied-ran"));
  const card = cards(page, "waiting");
  await card.getByLabel("Message for Claude if you deny (optional)").fill("Not in this folder.");
  await card.getByRole("button", { name: "Deny" }).click();
  await cards(page, "denied").waitFor();
  assert.match(await cards(page).locator(".outcome").innerText(), /^Denied by client-\d+$/);
  await page.locator(".entry.result").waitFor();
  const { output, kind } = await toolOutput(page);
  assert.ok(output.includes("Not in this folder.") && !output.includes("denied-ran"), output);
  assert.equal(kind, "tool failed");
  // The history shows the prompt as it ended.
  await page.reload();
  await page.locator(".entry.result").waitFor();
  assert.equal(await cards(page, "denied").count(), 1);
  assert.equal(await cards(page).getByRole("button").count(), 0);
  assert.deepEqual(problems, []);
});

test("a prompt that came while the page was away shows on reconnecting and on loading", async (t) => {
  const browser = await launchBrowser(t);
  const server = await startServer(t);
  const proxy = await startProxy(t, server);
  const away = await browser.open(`${proxy.url}/`);
  const id = await askingSession(away.page);
  proxy.refuse(true);
  proxy.cut();
  await away.page.locator('#status[data-state="reconnecting"]').waitFor();
  // Another client asks meanwhile.
  const message = {
    type: "user",
    message: { role: "user", content: asking("echo always-ran") },
  };
  const sent = await fetch(`${server}/v1/sessions/${id}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(message),
  });
  assert.equal(sent.status, 202);
  proxy.refuse(false);
  await cards(away.page, "waiting").waitFor();

  const loaded = await browser.open(`${server}/?session=${id}`);
  const card = cards(loaded.page, "waiting");
  await card.waitFor();
  // "Always allow" keeps the CLI's suggested rule for the session: the same command runs unasked.
  assert.equal(
    await card.locator(".hint").innerText(),
    "Always allow: Bash(touch made-here *), for this session.",
  );
  await card.getByRole("button", { name: "Always allow" }).click();
  for (const { page } of [away, loaded]) {
    await cards(page, "allowed").waitFor();
    await page.locator(".entry.result").waitFor();
  }
  await type(loaded.page, asking("echo again-ran"));
  await loaded.page.locator(".entry.result").nth(1).waitFor();
  assert.equal(await cards(loaded.page).count(), 1);
  const again = loaded.page.locator("details.tool").nth(1);
  await again.locator("> summary").click();
  assert.equal(await again.locator(".tool-output").innerText(), "again-ran");
  // Chromium logs the failed reconnects (the socket's, and the client's asking the server why
  // over HTTP); nothing else.
  const reconnecting = /WebSocket connection to|Failed to load resource: net::ERR_CONNECTION_/;
  assert.deepEqual(
    [...away.problems, ...loaded.problems].filter((p) => !reconnecting.test(p)),
    [],
  );
});
