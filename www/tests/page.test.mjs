// The demo page (www/) in headless Chromium, served by the real server with the real CLI and
// the scripted Messages API: what a person can do with it, end to end.
import assert from "node:assert/strict";
import { test } from "node:test";

import { launchBrowser, screenshot } from "../../npm/tests/browser.mjs";
import { startServer } from "../../npm/tests/harness.mjs";

/** The page served by a new server, in a new browser; `browser.open` opens more tabs. */
async function openDemo(t, options) {
  const browser = await launchBrowser(t);
  const server = await startServer(t);
  return { ...(await browser.open(`${server}/`, options)), browser, server };
}

/** Clicks Connect (or Reconnect) and waits for the status to say `state`. */
async function connect(page, state = "connected") {
  await page.locator("#connect").click();
  await page.locator(`#status[data-state="${state}"]`).waitFor();
}

/** Sends `text` with Enter; resolves with the turn's result entry. */
async function turn(page, text) {
  const results = page.locator(".entry.result");
  const before = await results.count();
  const message = page.getByLabel("Message", { exact: true });
  await message.fill(text);
  await message.press("Enter");
  await results.nth(before).waitFor();
  return results.nth(before);
}

const status = (page) => page.locator("#status").innerText();
const lastReply = (page) => page.locator(".entry.assistant .markdown").last();

test("connect, send a message, and the reply and the turn's figures appear", async (t) => {
  const { page, problems, server } = await openDemo(t);
  assert.equal(await status(page), "Not connected");
  const key = "sk-ant-page-test-key";
  await page.getByLabel("Model").fill("sonnet");
  await page.getByLabel("Permission mode").selectOption("acceptEdits");
  await page.getByLabel("Allowed tools").fill("Bash, Read");
  await page.getByLabel("Anthropic API key").fill(key);
  await page.getByLabel("System prompt").fill("Be brief.");
  await connect(page);
  const { config } = await (await fetch(`${server}/config`)).json();
  assert.deepEqual(config, {
    model: "sonnet",
    permissionMode: "acceptEdits",
    allowedTools: ["Bash", "Read"],
    anthropicApiKey: "[redacted]",
    systemPrompt: "Be brief.",
  });
  // The key went to /config and is nowhere on the page any more.
  const values = await page.locator("input, textarea").evaluateAll((fields) => fields.map((f) => f.value));
  assert.ok(!values.includes(key) && !(await page.content()).includes(key));

  const result = await turn(page, "Hello from the page");
  assert.equal(await page.locator(".entry.mine .plain").innerText(), "Hello from the page");
  assert.equal(await lastReply(page).innerText(), "You said: Hello from the page");
  const [outcome, duration, tokens, cost] = await result.locator("dd").allInnerTexts();
  assert.equal(outcome, "success");
  assert.match(duration, /^\d+\.\d\d s$/);
  assert.match(tokens, /^\d+ in · \d+ out$/);
  assert.match(cost, /^\$0\.0000\d\d$/); // the mock's prices
  assert.ok(await page.locator("#interrupt").isDisabled());
  assert.ok(await page.locator("#send").isEnabled());

  // Every message's JSON is one click away.
  const json = result.locator("details.json");
  await json.locator("summary").click();
  await json.locator("pre", { hasText: "duration_ms" }).waitFor(); // written out on the toggle event
  assert.equal(JSON.parse(await json.locator("pre").innerText()).data.type, "result");
  assert.deepEqual(problems, []);
});

test("a tool call shows as a card with its input and its result", async (t) => {
  const { page, problems } = await openDemo(t);
  await connect(page);
  await turn(page, "[[tool:bash:echo hi from a tool]]");
  const card = page.locator("details.tool");
  assert.equal(await card.count(), 1);
  assert.equal(await card.locator(".tool-input").isVisible(), false); // collapsed
  await card.locator("> summary").click();
  assert.equal(await card.locator("> summary").innerText(), "Bash echo hi from a tool");
  assert.equal(await card.getAttribute("class"), "tool done");
  assert.equal(JSON.parse(await card.locator(".tool-input").innerText()).command, "echo hi from a tool");
  assert.equal(await card.locator(".tool-output").innerText(), "hi from a tool");
  assert.equal(await lastReply(page).innerText(), "Tool result: hi from a tool");
  assert.deepEqual(problems, []);
});

test("Interrupt ends a slow turn and is enabled only while a turn runs", async (t) => {
  const { page, problems } = await openDemo(t);
  const interrupt = page.getByRole("button", { name: "Interrupt" });
  await connect(page);
  assert.ok(await interrupt.isDisabled());
  const message = page.getByLabel("Message", { exact: true });
  await message.fill("[[slow:100:100]]"); // 100 words, 10 s
  await message.press("Enter");
  assert.ok(await interrupt.isEnabled());
  // The turn has started once its init shows: an interrupt before might find no turn to end.
  await page.locator(".entry.system", { hasText: "init" }).waitFor();
  await interrupt.click();
  const result = page.locator(".entry.result");
  await result.waitFor();
  assert.equal(await result.locator("dd").first().innerText(), "error_during_execution");
  assert.doesNotMatch(await page.locator("#conversation").innerText(), /w99/);
  assert.ok(await interrupt.isDisabled());
  assert.ok(await page.locator("#send").isEnabled());
  assert.deepEqual(problems, []);
});

test("with token streaming on, the reply shows as it is written, then whole", async (t) => {
  const { page, problems, server } = await openDemo(t);
  await page.getByLabel(/token streaming/).check();
  await connect(page);
  const { config } = await (await fetch(`${server}/config`)).json();
  assert.equal(config.includePartialMessages, true);
  const message = page.getByLabel("Message", { exact: true });
  await message.fill("[[slow:6:300]]"); // "w0 w1 … w5", a word every 300 ms
  await message.press("Enter");
  // Part of the reply, before the whole of it has come.
  const live = page.locator(".entry.live .plain");
  await live.filter({ hasText: "w1" }).waitFor();
  assert.doesNotMatch(await live.innerText(), /w5/);
  await screenshot(t, page, "streaming");
  await page.locator(".entry.result").waitFor();
  assert.equal(await live.count(), 0);
  assert.equal((await lastReply(page).innerText()).trim(), "w0 w1 w2 w3 w4 w5");
  assert.deepEqual(problems, []);
});

test("a second tab is told that another client is connected, and can take over", async (t) => {
  const { page, browser, server } = await openDemo(t);
  await connect(page);
  const second = await browser.open(`${server}/`);
  await connect(second.page, "refused");
  assert.equal(
    await status(second.page),
    "Refused: another client is connected\nThe server refused the connection: Server already has an active connection",
  );
  assert.equal(await second.page.locator(".entry.error .plain").innerText(), "Server already has an active connection");
  assert.equal(await second.page.locator("#connect").innerText(), "Reconnect");
  await screenshot(t, second.page, "refused");

  // The first tab is unaffected; once it disconnects, the second reconnects and carries on.
  await turn(page, "still here");
  await page.getByRole("button", { name: "Disconnect" }).click();
  await page.locator('#status[data-state="disconnected"]').waitFor();
  await connect(second.page);
  await turn(second.page, "taken over");
  assert.equal(await lastReply(second.page).innerText(), "You said: taken over");
  assert.deepEqual(second.problems, []);
});

test("agent text with HTML shows as text and runs nothing", async (t) => {
  const { page, problems } = await openDemo(t);
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss();
  });
  await connect(page);
  const payload = "<img src=x onerror=alert(1)>";
  await turn(page, `[[say:${payload}]]`);
  assert.equal(await lastReply(page).innerText(), payload);
  const more = "<script>alert(2)</script> [click](javascript:alert`3`)";
  await turn(page, `[[say:${more}]]`);
  assert.equal(await lastReply(page).innerText(), more);
  assert.equal(await page.locator("#conversation img, #conversation script, #conversation a").count(), 0);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []); // an <img src=x> would have logged its failed load
});

test("markdown renders as headings, emphasis, code, lists and http(s) links only", async (t) => {
  const { page, problems } = await openDemo(t);
  await connect(page);
  const markdown = [
    "# Title",
    "Some **bold**, *italic* and `a < b`.",
    "",
    "- one",
    "- two",
    "",
    "1. first",
    "2. second",
    "",
    "```js",
    "let x = 1 < 2;",
    "```",
    "[site](https://example.com/a) [bad](javascript:alert`1`) see https://example.org/b.",
  ].join("\n");
  await turn(page, `[[say:${markdown}]]`);
  const reply = lastReply(page);
  assert.equal(await reply.locator("h3").innerText(), "Title");
  assert.equal(await reply.locator("p strong").innerText(), "bold");
  assert.equal(await reply.locator("p em").innerText(), "italic");
  assert.equal(await reply.locator("p code").innerText(), "a < b");
  assert.deepEqual(await reply.locator("ul > li").allInnerTexts(), ["one", "two"]);
  assert.deepEqual(await reply.locator("ol > li").allInnerTexts(), ["first", "second"]);
  assert.equal(await reply.locator("pre > code").innerText(), "let x = 1 < 2;");
  const links = await reply.locator("a").evaluateAll((links) => links.map((a) => [a.textContent, a.href, a.rel]));
  assert.deepEqual(links, [
    ["site", "https://example.com/a", "noopener noreferrer"],
    ["https://example.org/b", "https://example.org/b", "noopener noreferrer"],
  ]);
  assert.match(await reply.innerText(), /\[bad\]\(javascript:alert`1`\)/);
  assert.deepEqual(problems, []);
});

test("a config the server refuses shows the server's reason", async (t) => {
  const { page, problems } = await openDemo(t);
  // The select offers only valid modes: add one the server does not know.
  await page.getByLabel("Permission mode").evaluate((select) => {
    select.add(new Option("yolo"));
    select.value = "yolo";
  });
  await connect(page, "failed");
  assert.match(
    await page.locator("#status-detail").innerText(),
    /^Failed to configure server: Invalid config field `permissionMode`: unknown variant `yolo`, expected one of/,
  );
  await screenshot(t, page, "error");
  // Chromium logs the 400 answer to the config post; nothing else.
  assert.deepEqual(problems.filter((p) => !p.includes("400 (Bad Request)")), []);

  await page.getByLabel("Permission mode").selectOption("plan");
  await connect(page);
  assert.equal(await status(page), "Connected");
});

test("on a 375 px wide screen nothing overflows, controls are labelled, focus is visible", async (t) => {
  const { page, problems } = await openDemo(t, { viewport: { width: 375, height: 740 } });
  const unlabelled = await page
    .locator("input, select, textarea")
    .evaluateAll((fields) => fields.filter((f) => f.labels.length === 0).map((f) => f.id));
  assert.deepEqual(unlabelled, []);
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none");

  await connect(page);
  await turn(page, `[[tool:bash:echo ${"a-long-word-".repeat(20)}]]`);
  await page.locator("details.tool > summary").click();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the page is ${width} px wide`);
  assert.deepEqual(problems, []);
});
