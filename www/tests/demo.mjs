// The demo page's test helpers: the page on a new server in a new browser, and what a person
// does with it (create a session, type, wait for a turn) and reads from it.
import { launchBrowser } from "../../npm/tests/browser.mjs";
import { startServer } from "../../npm/tests/harness.mjs";

/**
 * The page served by a new server, in a new browser; `browser.open` opens more tabs. `options`
 * are the page's (`browser.open`'s), `args` and `env` the server's (`startServer`'s).
 */
export async function openDemo(t, options, { args, env } = {}) {
  const browser = await launchBrowser(t);
  const server = await startServer(t, args, env);
  return { ...(await browser.open(`${server}/`, options)), browser, server };
}

/** Clicks New session and waits for the status to say `state`; resolves with the config posted. */
export async function newSession(page, state = "connected") {
  const posted = page.waitForRequest(
    (r) => r.method() === "POST" && new URL(r.url()).pathname === "/v1/sessions",
  );
  await page.getByRole("button", { name: "New session" }).click();
  await page.locator(`#status[data-state="${state}"]`).waitFor();
  return (await posted).postDataJSON().config;
}

/** Types `text` in the composer and sends it with Enter. */
export async function type(page, text) {
  const message = page.getByLabel("Message", { exact: true });
  await message.fill(text);
  await message.press("Enter");
}

/** Sends `text`; resolves with the turn's result entry. */
export async function turn(page, text) {
  const results = page.locator(".entry.result");
  const before = await results.count();
  await type(page, text);
  await results.nth(before).waitFor();
  return results.nth(before);
}

/** Resolves once the activity indicator says a turn runs (`true`) or says nothing (`false`). */
export async function activity(page, running) {
  const says = running ? "Claude is working…" : "";
  const saying = (says) => document.getElementById("activity").textContent === says;
  await page.waitForFunction(saying, says);
}

export const status = (page) => page.locator("#status").innerText();
export const lastReply = (page) => page.locator(".entry.assistant .markdown").last();
export const mine = (page) => page.locator(".entry.mine .plain").allInnerTexts();
export const sessionOf = (page) => new URL(page.url()).searchParams.get("session");
/** The session list's button that opens the session `id`. */
export const sessionButton = (page, id) =>
  page.locator("#sessions button.open", { hasText: `Session ${id.slice(0, 8)}` });
