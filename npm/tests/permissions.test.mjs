// Permission prompts: `onPermissionRequest` and `respondToPermission` against the real CLI in
// `default` mode, which asks before a Bash command that writes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ClaudeAgentClient, createSession } from "@claude-agent/client";

import {
  frames,
  reaches,
  readmeExample,
  runExample,
  startProxy,
  startServer,
  toolResults,
  turn,
} from "./harness.mjs";

/** A Bash command that `default` mode asks about (it writes a file), then `command`. */
const asking = (command) => `[[tool:bash:touch made-here && ${command}]]`;

/** A new `default`-mode session on `url`, and `count` clients started on it. */
async function session(url, count = 1, options = {}) {
  const { id } = await createSession(url, { permissionMode: "default" });
  const clients = Array.from(
    { length: count },
    () => new ClaudeAgentClient({ connectionUrl: url, sessionId: id, ...options }),
  );
  await Promise.all(clients.map((client) => client.start()));
  return { id, clients };
}

/** Every `error` frame's text `client` gets from now on. */
function errorsOf(client) {
  const seen = [];
  client.onMessage((f) => f.type === "error" && seen.push(f.error));
  return seen;
}

const UNKNOWN = "no-such-prompt";

/**
 * Resolves once the server has handled every frame `client` sent before: it refuses an answer
 * to an unknown prompt, sent now, after whatever came before it (a connection's frames are
 * handled in order).
 */
async function settled(client) {
  const refused = frames(client, (f) => f.type === "error" && f.error.includes(UNKNOWN));
  client.respondToPermission(UNKNOWN, { behavior: "deny" });
  await refused;
}

/** `errors` but the one `settled` caused. */
const besidesSettling = (errors) => errors.filter((error) => !error.includes(UNKNOWN));

test("a handler that allows: the tool runs; handlers are asked in turn until one decides", async (t) => {
  const {
    clients: [client],
  } = await session(await startServer(t));
  const asked = { first: [], second: [] };
  client.onPermissionRequest((request) => {
    asked.first.push(request);
    // Nothing: left to the next handler.
  });
  client.onPermissionRequest(async (request) => {
    asked.second.push(request);
    return { behavior: "allow" };
  });
  const resolved = frames(client, (f) => f.type === "permission_resolved");
  const seen = turn(client);
  client.sendText(asking("echo allowed-ran"));
  const { text, failed } = toolResults(await seen);
  assert.ok(text.includes("allowed-ran") && !failed, text);
  const [request] = asked.second;
  assert.equal(request.tool_name, "Bash");
  assert.equal(request.input.command, "touch made-here && echo allowed-ran");
  assert.deepEqual(asked.first, [request]);
  assert.equal(asked.second.length, 1);
  const { data } = (await resolved).at(-1);
  assert.deepEqual(
    [data.request_id, data.behavior, data.reason],
    [request.request_id, "allow", "answered"],
  );
  await client.stop();
});

test("a handler that denies with a message: the tool fails with it and does not run", async (t) => {
  const {
    clients: [client],
  } = await session(await startServer(t));
  client.onPermissionRequest(() => ({ behavior: "deny", message: "Not today." }));
  const seen = turn(client);
  client.sendText(asking("echo denied-ran"));
  const { text, failed } = toolResults(await seen);
  assert.ok(failed && text.includes("Not today.") && !text.includes("denied-ran"), text);
  await client.stop();
});

test("two clients, one with a handler: it answers once, and both see the prompt resolved", async (t) => {
  const {
    clients: [watcher, answerer],
  } = await session(await startServer(t), 2);
  // A handler unsubscribed is no handler: the watcher leaves the prompt.
  const watched = [];
  const off = watcher.onPermissionRequest((request) => {
    watched.push(request);
    return { behavior: "deny" };
  });
  off();
  const answered = [];
  answerer.onPermissionRequest((request) => {
    answered.push(request);
    return { behavior: "allow" };
  });
  const errors = [watcher, answerer].map(errorsOf);
  const resolutions = [watcher, answerer].map((client) =>
    frames(client, (f) => f.type === "permission_resolved"),
  );
  const seen = turn(watcher);
  watcher.sendText(asking("echo shared-ran"));
  assert.ok(toolResults(await seen).text.includes("shared-ran"));
  for (const resolved of await Promise.all(resolutions)) {
    const { data } = resolved.at(-1);
    assert.equal(data.request_id, answered[0].request_id);
    assert.equal(data.behavior, "allow");
  }
  await Promise.all([watcher, answerer].map(settled));
  assert.deepEqual(errors.map(besidesSettling), [[], []]);
  assert.equal(answered.length, 1);
  assert.deepEqual(watched, []);
  await Promise.all([watcher.stop(), answerer.stop()]);
});

test("a slow handler's answer to a prompt resolved meanwhile is dropped", async (t) => {
  const {
    clients: [slow, quick],
  } = await session(await startServer(t), 2);
  // The slow handler decides only once the prompt is resolved: its answer is late.
  const resolved = frames(slow, (f) => f.type === "permission_resolved");
  let late;
  slow.onPermissionRequest(async () => {
    await resolved;
    late = { behavior: "allow" };
    return late;
  });
  quick.onPermissionRequest(() => ({ behavior: "deny", message: "The quick one said no." }));
  const errors = errorsOf(slow);
  const seen = turn(slow);
  slow.sendText(asking("echo slow-ran"));
  const { text, failed } = toolResults(await seen);
  assert.ok(failed && text.includes("The quick one said no."), text);
  assert.equal((await resolved).at(-1).data.behavior, "deny");
  assert.ok(late, "the slow handler decided");
  // Its answer, had it been sent, was sent before this turn of the event loop.
  await new Promise(setImmediate);
  await settled(slow);
  assert.deepEqual(besidesSettling(errors), []);
  await Promise.all([slow.stop(), quick.stop()]);
});

test("a prompt waiting before the client connects goes to its handler once, reconnects too", async (t) => {
  const server = await startServer(t);
  const proxy = await startProxy(t, server);
  const {
    id,
    clients: [asker],
  } = await session(server);
  const asked = frames(asker, (f) => f.type === "permission_request");
  asker.sendText(asking("echo waited-ran"));
  const request = (await asked).at(-1).data;

  // Its history holds the prompt too, and `connected` lists it.
  const late = new ClaudeAgentClient({ connectionUrl: proxy.url, sessionId: id });
  const offered = [];
  let first;
  const offeredOnce = new Promise((resolve) => (first = resolve));
  late.onPermissionRequest((request) => {
    offered.push(request);
    first();
    // Nothing: left for now.
  });
  await late.start();
  await offeredOnce;
  assert.deepEqual(offered, [request]);
  // Connected again, `connected` lists the prompt again.
  proxy.cut();
  await reaches(late, "reconnecting");
  await reaches(late, "connected");
  const seen = turn(asker);
  late.respondToPermission(request.request_id, { behavior: "allow" });
  assert.ok(toolResults(await seen).text.includes("waited-ran"));
  assert.deepEqual(offered, [request]);

  // A client that comes later finds the prompt in the history, answered: nothing to offer.
  const after = new ClaudeAgentClient({ connectionUrl: server, sessionId: id });
  after.onPermissionRequest((request) => offered.push(request));
  let latest;
  const history = frames(after, (f) => {
    if (f.type === "connected") latest = f.latest_seq;
    return (f.seq ?? 0) >= latest;
  });
  await after.start();
  await history;
  await new Promise(setImmediate); // the client's own work on the frames, done in microtasks
  assert.deepEqual(offered, [request]);
  await Promise.all([asker.stop(), late.stop(), after.stop()]);
});

test("an answer decided while the connection is down is sent once it is back", async (t) => {
  const server = await startServer(t);
  const proxy = await startProxy(t, server);
  const {
    clients: [asker],
  } = await session(server);
  const away = new ClaudeAgentClient({ connectionUrl: proxy.url, sessionId: asker.sessionId });
  let decide;
  const offered = new Promise((resolve) => {
    away.onPermissionRequest(() => {
      resolve();
      return new Promise((decision) => (decide = decision));
    });
  });
  await away.start();
  const seen = turn(asker);
  asker.sendText(asking("echo came-back-ran"));
  await offered;
  proxy.refuse(true);
  proxy.cut();
  await reaches(away, "reconnecting");
  decide({ behavior: "allow" });
  proxy.refuse(false);
  assert.ok(toolResults(await seen).text.includes("came-back-ran"));
  assert.equal(away.state, "connected");
  await Promise.all([asker.stop(), away.stop()]);
});

test("a handler's malformed answer goes to onError as an Error, and the prompt waits on", async (t) => {
  const server = await startServer(t);
  let reported;
  const error = new Promise((resolve) => (reported = resolve));
  const {
    id,
    clients: [client],
  } = await session(server, 1, { onError: reported });
  client.onPermissionRequest(() => ({ behavior: "sometimes" }));
  const seen = turn(client);
  client.sendText(asking("echo at-last-ran"));
  const thrown = await error;
  assert.ok(thrown instanceof Error);
  assert.match(thrown.message, /^Invalid message: data\.behavior: unknown variant `sometimes`/);
  const { permissions } = await (await fetch(`${server}/v1/sessions/${id}/permissions`)).json();
  assert.equal(permissions.length, 1);
  client.respondToPermission(permissions[0].request_id, { behavior: "allow" });
  assert.ok(toolResults(await seen).text.includes("at-last-ran"));
  await client.stop();
});

test("respondToPermission throws Errors naming what is wrong", () => {
  const client = new ClaudeAgentClient({ connectionUrl: "http://127.0.0.1:1" });
  for (const [decision, message] of [
    [{ behavior: "maybe" }, /^Invalid message: data\.behavior: unknown variant `maybe`/],
    [{ behavior: "allow", because: "yes" }, /^Invalid message: data: unknown field `because`/],
    ["allow", /^Invalid message: data: /],
    [{ behavior: "allow" }, /^WebSocket is not connected$/],
  ]) {
    assert.throws(() => client.respondToPermission("some-prompt", decision), {
      name: "Error",
      message,
    });
  }
});

test("the README's permission example runs: its handler allows the tool", async (t) => {
  const url = await startServer(t);
  const example = (await readmeExample("## Permission prompts"))
    .replace("http://127.0.0.1:3000", url)
    .replace("Make a file named notes.txt", asking("echo from-the-readme"));
  // It ends once its turn's result has come.
  const stdout = await runExample(example);
  assert.match(
    stdout,
    /^Bash asks to run: \{\s+command: 'touch made-here && echo from-the-readme'/,
  );
});
