// The demo page's question cards (AskUserQuestion) and plan cards (ExitPlanMode), in headless
// Chromium against the real server and CLI, with the scripted API's question and plan markers.
import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot } from "../../npm/tests/browser.mjs";
import { lastReply, newSession, openDemo, type } from "./demo.mjs";

const ASK = "[[question:Which color?|Red|Blue]]";

/** The prompt cards of `kind` (`question`, `plan`), those in `state` if given. */
const cards = (page, kind, state) =>
  page.locator(`.entry.permission.${kind}${state ? `[data-state="${state}"]` : ""}`);

/** Resolves once the page shows `count` turn results. */
const results = (page, count) =>
  page
    .locator(".entry.result")
    .nth(count - 1)
    .waitFor();

test("a question card: an option picked, then a free-text answer, is what the model reads", async (t) => {
  const { page, problems } = await openDemo(t);
  await newSession(page); // bypassPermissions: questions are asked all the same
  await type(page, ASK);
  const card = cards(page, "question", "waiting");
  await card.waitFor();
  assert.match(await card.locator("legend").innerText(), /Which color\?/);
  const submit = card.getByRole("button", { name: "Submit answers" });
  assert.equal(await submit.isDisabled(), true);
  await card.getByRole("button", { name: "Blue" }).click();
  assert.equal(
    await card.getByRole("button", { name: "Blue" }).getAttribute("aria-pressed"),
    "true",
  );
  await screenshot(t, page, "question");
  await submit.click();
  await cards(page, "question", "allowed").waitFor();
  assert.match(
    await cards(page, "question").locator(".outcome").innerText(),
    /^Answered by client-\d+$/,
  );
  await results(page, 1);
  assert.match(await lastReply(page).innerText(), /"Which color\?"="Blue"/);

  await type(page, ASK);
  const again = cards(page, "question", "waiting");
  await again.getByLabel("Or your own answer").fill("Sea green");
  await again.getByLabel("Or your own answer").press("Enter");
  await results(page, 2);
  assert.match(await lastReply(page).innerText(), /Sea green/);
  assert.deepEqual(problems, []);
});

/** A new session in plan mode, from the page's settings. */
async function planning(page) {
  await page.getByLabel("Permission mode", { exact: true }).selectOption("plan");
  assert.equal((await newSession(page)).permissionMode, "plan");
}

test("a plan card shows the plan; approved with accept edits, plan mode ends", async (t) => {
  const { page, problems } = await openDemo(t);
  await planning(page);
  await type(page, "[[plan:Add a **bold** feature]]");
  const card = cards(page, "plan", "waiting");
  await card.waitFor();
  assert.equal(await card.locator(".markdown.plan strong").innerText(), "bold");
  await screenshot(t, page, "plan");
  await card.getByRole("button", { name: "Approve and accept edits" }).click();
  await cards(page, "plan", "allowed").waitFor();
  await results(page, 1);
  const reply = await lastReply(page).innerText();
  assert.ok(reply.includes("approved your plan") && reply.includes("Approved Plan"), reply);
  // The CLI says the mode changed; the header shows it.
  await page.waitForFunction(() => document.getElementById("live-mode").value === "acceptEdits");
  assert.deepEqual(problems, []);
});

test("Keep planning with a message: the model reads it, and plan mode stays", async (t) => {
  const { page, problems } = await openDemo(t);
  await planning(page);
  await type(page, "[[plan:Rewrite everything]]");
  const card = cards(page, "plan", "waiting");
  await card.getByLabel(/What to change/).fill("Make it shorter.");
  await card.getByRole("button", { name: "Keep planning" }).click();
  await cards(page, "plan", "denied").waitFor();
  assert.match(
    await cards(page, "plan").locator(".outcome").innerText(),
    /^Sent back by client-\d+$/,
  );
  await results(page, 1);
  assert.match(await lastReply(page).innerText(), /Make it shorter\./);
  assert.equal(await page.locator("#live-mode").inputValue(), "plan");
  assert.deepEqual(problems, []);
});
