// The page on a server that wants its token, in headless Chromium: it asks for the token, says
// when one is wrong, and once given, remembers it (the server's cookie) across reloads.
import assert from "node:assert/strict";
import { test } from "node:test";

import { screenshot } from "../../npm/tests/browser.mjs";
import { lastReply, newSession, openDemo, turn } from "./demo.mjs";

const TOKEN = "page-test-token-0123456789";

test("the page asks for the token, then remembers it", async (t) => {
  const { page, problems } = await openDemo(t, {}, { args: ["--token", TOKEN] });
  const dialog = page.getByRole("dialog", { name: "This server needs its token" });
  await dialog.waitFor();
  await screenshot(t, page, "token-asked");

  await dialog.getByLabel("Token").fill("wrong-token-0123456789");
  await dialog.getByRole("button", { name: "Open" }).click();
  await page.locator("#token-problem", { hasText: "Wrong token" }).waitFor();
  assert.ok(await dialog.isVisible());

  await dialog.getByLabel("Token").fill(TOKEN);
  await dialog.getByRole("button", { name: "Open" }).click();
  await page.waitForURL((url) => url.pathname === "/" && !url.search.includes("token"));
  await newSession(page);
  await turn(page, "[[say:let in]]");
  assert.equal(await lastReply(page).innerText(), "let in");

  await page.reload();
  await page.locator("#sessions li").first().waitFor();
  assert.equal(await dialog.isVisible(), false);
  const cookies = await page.context().cookies();
  assert.deepEqual(
    cookies.map((cookie) => [cookie.name, cookie.httpOnly, cookie.sameSite]),
    [["claude_agent_token", true, "Strict"]],
  );
  // The token never sits in the page's address.
  assert.ok(!page.url().includes(TOKEN), page.url());
  // The wrong try was the server's 401, which the browser logs; nothing else went wrong.
  assert.deepEqual(
    problems.filter((problem) => !problem.includes("401")),
    [],
  );
});
