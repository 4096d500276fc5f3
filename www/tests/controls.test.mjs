// The demo page's live controls (the header's model and permission mode) and queued messages,
// in headless Chromium against the real server and CLI.
import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot } from "../../npm/tests/browser.mjs";
import { activity, newSession, openDemo, type } from "./demo.mjs";

/** The text Claude wrote in the page's conversation. */
const replies = (page) => page.locator(".entry.assistant .markdown").allInnerTexts();

test("plan mode switched on from the header: a Bash that writes is not run", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page); // the server's default mode: bypassPermissions
  await page.getByLabel("Permission mode (this session)").selectOption("plan");
  await page.locator('#live-note[data-state="ok"]').waitFor();
  assert.equal(await page.locator("#live-note").innerText(), "Switch to plan mode: done");

  await type(page, "[[tool:bash:touch planned && echo wrote-it]]");
  // Plan mode asks before a write (deny it), or refuses it outright.
  const card = page.locator('.entry.permission[data-state="waiting"]');
  const result = page.locator(".entry.result");
  await card.or(result).first().waitFor();
  if (await card.count()) {
    await card.getByRole("button", { name: "Deny" }).click();
    await result.waitFor();
  }
  const outputs = await page.locator(".tool-output").allTextContents();
  assert.ok(!outputs.join("").includes("wrote-it"), outputs.join("\n"));
  await screenshot(t, page, "plan-mode");
  assert.deepEqual(problems, []);
});

test("a model switched from the header takes the next turn; a refusal is shown", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page);
  await page.getByLabel("Model (this session)").fill("claude-live-1");
  await page.getByRole("button", { name: "Switch model" }).click();
  await page.locator('#live-note[data-state="ok"]').waitFor();
  await type(page, "Which model?");
  // The scripted API answers as the model asked for; the agent's `init` says it too.
  await page.locator(".entry.result").waitFor();
  assert.equal(await page.getByLabel("Model (this session)").inputValue(), "claude-live-1");
  assert.deepEqual(problems, []);
});

test("a message sent during a turn shows queued; withdrawn, it never runs", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page);
  await type(page, "[[slow:30:100]]");
  await activity(page, true);
  await type(page, "[[say:withdrawn-ran]]");
  const queued = page.locator('.entry.mine[data-queue="queued"]');
  await queued.waitFor();
  assert.match(
    await queued.locator(".queue-note").innerText(),
    /^Queued: waits for the running turn/,
  );
  await screenshot(t, page, "queued");
  await queued.getByRole("button", { name: "Withdraw" }).click();
  const withdrawn = page.locator('.entry.mine[data-queue="withdrawn"]');
  await withdrawn.waitFor();
  assert.equal(await withdrawn.locator(".queue-note").innerText(), "Withdrawn: it never ran");
  await page.locator(".entry.result").waitFor();
  await activity(page, false);
  await type(page, "[[say:after-it]]");
  await page.locator(".entry.result").nth(1).waitFor();
  const said = await replies(page);
  assert.ok(said.includes("after-it") && !said.includes("withdrawn-ran"), `${said}`);
  assert.equal(await page.locator(".entry.mine[data-queue]").count(), 1);
  assert.deepEqual(problems, []);
});
