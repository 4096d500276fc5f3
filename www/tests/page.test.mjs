// The demo page (www/) in headless Chromium, served by the real server with the real CLI and
// the scripted Messages API: what a person can do with it, end to end.
import assert from "node:assert/strict";
import { test } from "node:test";

import { launchBrowser, screenshot } from "../../npm/tests/browser.mjs";
import { startProxy, startServer } from "../../npm/tests/harness.mjs";
import {
  activity,
  lastReply,
  mine,
  newSession,
  openDemo,
  sessionButton,
  sessionOf,
  status,
  turn,
  type,
} from "./demo.mjs";

test("a new session with the settings: a message, the reply and the turn's figures", async (t) => {
  const { page, problems, server } = await openDemo(t);
  assert.equal(await status(page), "No session\nCreate a session, or open one from the list.");
  const key = "sk-ant-page-test-key";
  await page.getByLabel("Model", { exact: true }).fill("sonnet");
  await page.getByLabel("Permission mode", { exact: true }).selectOption("acceptEdits");
  await page.getByLabel("Allowed tools").fill("Bash, Read");
  await page.getByLabel("Anthropic API key").fill(key);
  await page.getByLabel("System prompt").fill("Be brief.");
  const config = await newSession(page);
  assert.deepEqual(config, {
    model: "sonnet",
    permissionMode: "acceptEdits",
    allowedTools: ["Bash", "Read"],
    anthropicApiKey: key,
    systemPrompt: "Be brief.",
  });
  // The key went with the session and is nowhere on the page any more.
  const fields = page.locator("input, textarea");
  const values = await fields.evaluateAll((fields) => fields.map((f) => f.value));
  assert.ok(!values.includes(key) && !(await page.content()).includes(key));
  // The session is in the URL, and marked in the list.
  const id = sessionOf(page);
  const session = await (await fetch(`${server}/v1/sessions/${id}`)).json();
  assert.equal(session.model, "sonnet");
  assert.equal(await status(page), `Connected\nSession ${id}`);
  await sessionButton(page, id).and(page.locator('[aria-current="true"]')).waitFor();

  const result = await turn(page, "Hello from the page");
  // The message shows once, from the server's echo.
  assert.deepEqual(await mine(page), ["Hello from the page"]);
  assert.equal(await lastReply(page).innerText(), "You said: Hello from the page");
  assert.equal(await result.locator(".who").innerText(), "RESULT");
  const [outcome, duration, tokens, cost] = await result.locator("dd").allInnerTexts();
  assert.equal(outcome, "success");
  assert.match(duration, /^\d+\.\d\d s$/);
  assert.match(tokens, /^\d+ in · \d+ out$/);
  assert.match(cost, /^\$0\.0000\d\d$/); // the mock's prices
  await activity(page, false);
  assert.ok(await page.locator("#interrupt").isDisabled());
  assert.ok(await page.locator("#send").isEnabled());
  // The list catches up with the turn: the session's cost.
  await sessionButton(page, id).filter({ hasText: cost }).waitFor();

  // Every message's JSON is one click away.
  const json = result.locator("details.json");
  await json.locator("summary").click();
  // Written out on the toggle event.
  await json.locator("pre", { hasText: "duration_ms" }).waitFor();
  assert.equal(JSON.parse(await json.locator("pre").innerText()).data.type, "result");
  assert.deepEqual(problems, []);
});

test("a message sent with no session open creates one", async (t) => {
  const { page, problems } = await openDemo(t);
  await turn(page, "first words");
  assert.ok(sessionOf(page));
  assert.deepEqual(await mine(page), ["first words"]);
  assert.deepEqual(problems, []);
});

test("setup entries are collapsed, the conversation is not", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page);
  await turn(page, "hello");
  const setup = page.locator(".entry.setup");
  assert.ok((await setup.count()) >= 1);
  const first = setup.first();
  assert.match(await first.locator("> details > summary").innerText(), /^Setup \(\d+\): Connected/);
  assert.equal(await first.locator("> details").getAttribute("open"), null);
  const connected = first.getByText(`Session ${sessionOf(page)}`);
  assert.equal(await connected.isVisible(), false);
  // The agent's init, collapsed too.
  const init = setup.filter({ hasText: "System: init" });
  assert.equal(await init.locator("> details").getAttribute("open"), null);
  await init.locator("> details > summary").click();
  await init.locator("li > .who", { hasText: "System: init" }).waitFor();
  assert.ok(await page.locator(".entry.mine").isVisible());
  assert.ok(await lastReply(page).isVisible());
  assert.deepEqual(problems, []);
});

test("a tool call shows as a card with its input and its result", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page);
  await turn(page, "[[tool:bash:echo hi from a tool]]");
  const card = page.locator("details.tool");
  assert.equal(await card.count(), 1);
  assert.equal(await card.locator(".tool-input").isVisible(), false); // collapsed
  await card.locator("> summary").click();
  assert.equal(await card.locator("> summary").innerText(), "Bash echo hi from a tool");
  assert.equal(await card.getAttribute("class"), "tool done");
  const input = JSON.parse(await card.locator(".tool-input").innerText());
  assert.equal(input.command, "echo hi from a tool");
  assert.equal(await card.locator(".tool-output").innerText(), "hi from a tool");
  assert.equal(await lastReply(page).innerText(), "Tool result: hi from a tool");
  assert.deepEqual(problems, []);
});

test("the activity indicator shows while a turn runs, and goes after", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page);
  await activity(page, false);
  const result = page.locator(".entry.result");
  await type(page, "[[slow:10:200]]"); // 2 s
  await activity(page, true);
  assert.equal(await result.count(), 0);
  assert.ok(await page.getByRole("button", { name: "Interrupt" }).isEnabled());
  await screenshot(t, page, "running");
  await result.waitFor();
  await activity(page, false);
  assert.ok(await page.getByRole("button", { name: "Interrupt" }).isDisabled());
  assert.deepEqual(problems, []);
});

test("after a reload mid-turn, Interrupt ends the turn, which shows as failed", async (t) => {
  const { page, problems } = await openDemo(t);
  const interrupt = page.getByRole("button", { name: "Interrupt" });
  await newSession(page);
  assert.ok(await interrupt.isDisabled());
  await type(page, "[[slow:100:100]]"); // 100 words, 10 s
  // The turn has started once its init is in: an interrupt before might find no turn to end.
  await page.locator(".entry.setup", { hasText: "System: init" }).waitFor({ state: "attached" });
  await page.reload();
  // The page knows from the history alone that the turn runs.
  await activity(page, true);
  await page.locator('#status[data-state="connected"]').waitFor();
  assert.ok(await interrupt.isEnabled());
  await interrupt.click();
  const result = page.locator(".entry.result");
  await result.waitFor();
  assert.equal(await result.getAttribute("class"), "entry result failed");
  assert.equal(await result.locator("dd").first().innerText(), "failed: error_during_execution");
  assert.doesNotMatch(await page.locator("#conversation").innerText(), /w99/);
  await activity(page, false);
  assert.ok(await interrupt.isDisabled());
  assert.ok(await page.locator("#send").isEnabled());
  assert.deepEqual(problems, []);
});

test("a failed turn (an API error) shows as failed, not success", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page);
  const result = await turn(page, "[[error:500]]");
  assert.equal(await result.getAttribute("class"), "entry result failed");
  assert.equal(await result.locator(".who").innerText(), "RESULT: FAILED");
  assert.equal(await result.locator("dd").first().innerText(), "failed: API error 500");
  await activity(page, false);
  await screenshot(t, page, "failed");
  assert.deepEqual(problems, []);
});

test("with token streaming on, the reply shows as it is written, then whole", async (t) => {
  const { page, problems } = await openDemo(t);
  await page.getByLabel(/token streaming/).check();
  const config = await newSession(page);
  assert.equal(config.includePartialMessages, true);
  await type(page, "[[slow:6:300]]"); // "w0 w1 … w5", a word every 300 ms
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

test("a reload mid-turn shows the history, then the rest of the turn", async (t) => {
  const { page, problems } = await openDemo(t);
  await page.getByLabel(/token streaming/).check();
  await newSession(page);
  await turn(page, "before");
  await type(page, "[[slow:30:50]]"); // "w0 … w29", 1.5 s
  const live = page.locator(".entry.live .plain");
  await live.filter({ hasText: "w3" }).waitFor();
  assert.doesNotMatch(await live.innerText(), /w29/);
  const id = sessionOf(page);
  await page.reload();
  assert.equal(sessionOf(page), id);
  await page.locator(".entry.result").nth(1).waitFor();
  // Each message once, the earlier turn's reply, and the whole of the interrupted one.
  assert.deepEqual(await mine(page), ["before", "[[slow:30:50]]"]);
  const replies = await page.locator(".entry.assistant .markdown").allInnerTexts();
  const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
  assert.deepEqual(
    replies.map((r) => r.trim()),
    ["You said: before", words],
  );
  assert.equal(await page.locator(".entry.result").count(), 2);
  assert.equal(await live.count(), 0);
  // The replay is over: screen readers are no longer asked to wait.
  assert.equal(await page.locator("#conversation").getAttribute("aria-busy"), null);
  await activity(page, false);
  assert.deepEqual(problems, []);
});

test("two tabs share a session and see each other's messages", async (t) => {
  const { page, browser, server } = await openDemo(t);
  await newSession(page);
  const id = sessionOf(page);
  const second = await browser.open(`${server}/?session=${id}`);
  await second.page.locator('#status[data-state="connected"]').waitFor();
  await turn(page, "from the first tab");
  await second.page.locator(".entry.result").waitFor();
  await turn(second.page, "from the second tab");
  await page.locator(".entry.result").nth(1).waitFor();
  for (const tab of [page, second.page]) {
    assert.deepEqual(await mine(tab), ["from the first tab", "from the second tab"]);
    assert.equal(await lastReply(tab).innerText(), "You said: from the second tab");
    await sessionButton(tab, id).and(tab.locator('[aria-current="true"]')).waitFor();
  }
  const session = await (await fetch(`${server}/v1/sessions/${id}`)).json();
  assert.equal(session.clients, 2);
  await screenshot(t, second.page, "second tab");
  assert.deepEqual(second.problems, []);
});

test("switching sessions shows each one's conversation; deleting the open one", async (t) => {
  const { page, problems, server } = await openDemo(t);
  await newSession(page);
  const first = sessionOf(page);
  await turn(page, "in the first session");
  await newSession(page);
  const second = sessionOf(page);
  assert.notEqual(second, first);
  assert.deepEqual(await mine(page), []); // a new session starts empty
  await turn(page, "in the second session");

  /** Waits for the page to show session `id` with `text` as its only message. */
  async function shows(id, text) {
    await page.locator(".entry.result").waitFor(); // its history is in
    assert.equal(sessionOf(page), id);
    assert.deepEqual(await mine(page), [text]);
    await sessionButton(page, id).and(page.locator('[aria-current="true"]')).waitFor();
    assert.equal(await page.locator('#sessions [aria-current="true"]').count(), 1);
  }
  await sessionButton(page, first).click();
  await shows(first, "in the first session");
  await page.goBack(); // the URL keeps the session, and so does the history
  await shows(second, "in the second session");
  await screenshot(t, page, "switched");

  await page.getByRole("button", { name: `Delete Session ${second.slice(0, 8)}` }).click();
  await page.locator('#status[data-state="none"]').waitFor();
  assert.equal(sessionOf(page), null);
  assert.equal(await page.locator("#conversation > li").count(), 0);
  await sessionButton(page, second).waitFor({ state: "detached" });
  await sessionButton(page, first).waitFor();
  assert.equal((await fetch(`${server}/v1/sessions/${second}`)).status, 404);
  assert.deepEqual(problems, []);
});

test("the status follows the connection: reconnecting, connected again, closed", async (t) => {
  const browser = await launchBrowser(t);
  const server = await startServer(t);
  const proxy = await startProxy(t, server); // the page and its connection go through it
  const { page, problems } = await browser.open(`${proxy.url}/`);
  await newSession(page);
  const id = sessionOf(page);
  await turn(page, "before the cut");
  proxy.refuse(true);
  proxy.cut();
  await page.locator('#status[data-state="reconnecting"]').waitFor();
  assert.equal(await status(page), `Reconnecting…\nSession ${id}`);
  assert.ok(await page.locator("#send").isDisabled());
  await screenshot(t, page, "reconnecting");
  proxy.refuse(false);
  await page.locator('#status[data-state="connected"]').waitFor();
  await turn(page, "after the cut");
  // Resumed where it was: nothing missed, nothing twice.
  assert.deepEqual(await mine(page), ["before the cut", "after the cut"]);
  assert.equal(await page.locator(".entry.result").count(), 2);

  await fetch(`${server}/v1/sessions/${id}`, { method: "DELETE" }); // as another client might
  await page.locator('#status[data-state="closed"]').waitFor();
  assert.match(await status(page), /^Closed\n.*No session/);
  // Chromium logs failed reconnects and the deleted session's 404s; nothing else.
  const expected = /WebSocket connection to .* failed|404 \(Not Found\)/;
  assert.deepEqual(
    problems.filter((p) => !expected.test(p)),
    [],
  );
});

test("a URL naming no session says so", async (t) => {
  const browser = await launchBrowser(t);
  const server = await startServer(t);
  const { page, problems } = await browser.open(`${server}/?session=gone`);
  await page.locator('#status[data-state="failed"]').waitFor();
  assert.equal(await status(page), "Not connected\nThere is no session gone (any more).");
  // Chromium logs the failed WebSocket and the 404 of the session's look-up; nothing else.
  assert.deepEqual(
    problems.filter((p) => !/WebSocket|404 \(Not Found\)/.test(p)),
    [],
  );
});

test("agent text with HTML shows as text and runs nothing", async (t) => {
  const { page, problems } = await openDemo(t);
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss();
  });
  await newSession(page);
  const payload = "<img src=x onerror=alert(1)>";
  await turn(page, `[[say:${payload}]]`);
  assert.equal(await lastReply(page).innerText(), payload);
  const more = "<script>alert(2)</script> [click](javascript:alert`3`)";
  await turn(page, `[[say:${more}]]`);
  assert.equal(await lastReply(page).innerText(), more);
  const made = page.locator("#conversation img, #conversation script, #conversation a");
  assert.equal(await made.count(), 0);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []); // an <img src=x> would have logged its failed load
});

test("markdown renders as headings, emphasis, code, lists and http(s) links only", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page);
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
  const links = await reply
    .locator("a")
    .evaluateAll((links) => links.map((a) => [a.textContent, a.href, a.rel]));
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
  await page.getByLabel("Permission mode", { exact: true }).evaluate((select) => {
    select.add(new Option("yolo"));
    select.value = "yolo";
  });
  await newSession(page, "failed");
  assert.match(
    await page.locator("#status-detail").innerText(),
    /^Failed to create session: .*`permissionMode`: unknown variant `yolo`, expected one of/,
  );
  assert.equal(sessionOf(page), null);
  await screenshot(t, page, "error");
  // Chromium logs the 400 answer to the session's creation; nothing else.
  assert.deepEqual(
    problems.filter((p) => !p.includes("400 (Bad Request)")),
    [],
  );

  await page.getByLabel("Permission mode", { exact: true }).selectOption("plan");
  await newSession(page);
  assert.match(await status(page), /^Connected\n/);
});

test("on a 375 px screen nothing overflows, controls are labelled, focus is visible", async (t) => {
  const { page, problems } = await openDemo(t, { viewport: { width: 375, height: 740 } });
  const unlabelled = await page
    .locator("input, select, textarea")
    .evaluateAll((fields) => fields.filter((f) => f.labels.length === 0).map((f) => f.id));
  assert.deepEqual(unlabelled, []);
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none");

  await newSession(page);
  await turn(page, `[[tool:bash:echo ${"a-long-word-".repeat(20)}]]`);
  await page.locator("details.tool > summary").click();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the page is ${width} px wide`);
  assert.deepEqual(problems, []);
});

test("in demo mode a banner says so, and replies stream in and use tools with no key", async (t) => {
  const { page, problems } = await openDemo(t, undefined, { args: ["--demo"] });
  const banner = page.getByRole("note");
  await banner.waitFor();
  assert.equal(
    await banner.innerText(),
    "Demo mode: replies come from a scripted API, not Claude. Start without --demo and with ANTHROPIC_API_KEY for the real model.",
  );
  // Streaming starts on, so that the replies are seen being written.
  assert.ok(await page.getByLabel(/token streaming/).isChecked());
  await type(page, "hello"); // no session yet: it creates one
  const live = page.locator(".entry.live .plain");
  await live.filter({ hasText: "demo mode" }).waitFor();
  assert.doesNotMatch(await live.innerText(), /ANTHROPIC_API_KEY/);
  await screenshot(t, page, "demo-streaming");
  await page.locator(".entry.result").waitFor();
  assert.equal(await live.count(), 0);
  const reply = await lastReply(page).innerText();
  assert.match(reply, /^You wrote “hello”\. This is demo mode: .* not Claude/);
  assert.match(reply, /without --demo and with ANTHROPIC_API_KEY set\.$/);

  await turn(page, "list files");
  const card = page.locator("details.tool");
  await card.locator("> summary").click();
  assert.equal(await card.locator("> summary").innerText(), "Bash ls -la");
  assert.equal(await card.getAttribute("class"), "tool done");
  assert.match(await card.locator(".tool-output").innerText(), /^total \d+/);
  assert.match(await lastReply(page).innerText(), /^That was a tool call/);
  assert.deepEqual(problems, []);
});

test("with no key the turn fails saying how to give one; a key in the settings works", async (t) => {
  const { page, problems } = await openDemo(t, undefined, { env: { TEST_SERVER_NO_KEY: "1" } });
  const failed = await turn(page, "Say hello");
  assert.equal(await failed.getAttribute("class"), "entry result failed");
  const hint = await page.locator(".entry.error .plain").innerText();
  assert.match(hint, /^Claude Code has no Anthropic API key/);
  for (const way of ["ANTHROPIC_API_KEY", "anthropicApiKey", "settings", "--demo"]) {
    assert.ok(hint.includes(way), hint);
  }
  await screenshot(t, page, "no-key");

  await page.locator("#settings-panel > summary").click();
  await page.getByLabel("Anthropic API key").fill("sk-ant-typed-in-the-page");
  await newSession(page);
  const result = await turn(page, "Say hello");
  assert.equal(await lastReply(page).innerText(), "You said: Say hello");
  assert.equal(await result.locator("dd").first().innerText(), "success");
  assert.equal(await page.locator("#demo-banner").isVisible(), false);
  assert.deepEqual(problems, []);
});
