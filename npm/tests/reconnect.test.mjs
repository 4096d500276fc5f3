// Reconnect and resume: the server's connection cut mid-turn (by a proxy between client and
// server), on the legacy /ws and on a v1 session; the states on the way; `closed`; `stop()`.
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";

import { ClaudeAgentClient, createSession } from "@claude-agent/client";
import WebSocket from "ws";

import {
  assistantText,
  frames,
  reaches,
  slowWords,
  startProxy,
  startServer,
  streamedText,
  turn,
} from "./harness.mjs";

// Slow enough (3 s) that the reconnect comes before the turn ends: the server compacts a
// finished message's tokens away, after which a resumed client gets the message whole instead.
const WORDS = 30;

/** The numbered frames' `seq`s among `seen`. */
const seqs = (seen) => seen.filter((f) => f.seq !== undefined).map((f) => f.seq);

/** Records `client`'s states. */
function states(client) {
  const seen = [];
  client.onStateChange((state) => seen.push(state));
  return seen;
}

/**
 * A slow streamed turn on `client` whose connection `proxy` cuts after the fifth token: resolves
 * with its frames once its result arrives.
 */
async function turnCutMidway(client, proxy) {
  const replies = turn(client);
  const cut = proxy.cutAfter('"text_delta"', 5);
  client.sendText(`[[slow:${WORDS}:100]]`);
  await cut;
  return replies;
}

/** A plain WebSocket on the legacy /ws, tried until the server has let go of the last one. */
async function takeLegacySocket(server) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const ws = new WebSocket(`${server.replace("http", "ws")}/ws`);
    const [data] = await once(ws, "message");
    if (JSON.parse(data).type === "connected") return ws;
    await once(ws, "close"); // refused: the server closes it
  }
  throw new Error("the server kept the legacy connection taken");
}

/** Every seq is new and larger than the one before. */
function assertIncreasing(numbers) {
  for (let i = 1; i < numbers.length; i++) {
    assert.ok(numbers[i] > numbers[i - 1], `seq ${numbers[i]} after ${numbers[i - 1]}: ${numbers}`);
  }
}

test("legacy /ws: cut mid-turn, the client reconnects and resumes, no frame twice or missed", async (t) => {
  const proxy = await startProxy(t, await startServer(t));
  const client = new ClaudeAgentClient({ connectionUrl: proxy.url, includePartialMessages: true });
  const seen = states(client);
  await client.start();
  const replies = await turnCutMidway(client, proxy);
  // Every token once, in order: one lost or repeated would show here.
  assert.equal(streamedText(replies), slowWords(WORDS));
  assert.equal(assistantText(replies), slowWords(WORDS));
  assert.ok(seqs(replies).length > WORDS, "frames are numbered");
  assertIncreasing(seqs(replies));
  assert.deepEqual(seen, ["connecting", "connected", "reconnecting", "connected"]);
  await client.stop();
  assert.deepEqual(await client.closed, { code: 1000, reason: "" });
  assert.equal(seen.at(-1), "closed");
});

test("v1 session: cut mid-turn, every frame of the session's log is handed over once", async (t) => {
  const server = await startServer(t);
  const proxy = await startProxy(t, server);
  const session = await createSession(server, { includePartialMessages: true });
  const client = new ClaudeAgentClient({ connectionUrl: proxy.url, sessionId: session.id });
  const all = [];
  client.onMessage((frame) => all.push(frame));
  const seen = states(client);
  await client.start();
  assert.equal(client.sessionId, session.id);
  const replies = await turnCutMidway(client, proxy);
  assert.equal(streamedText(replies), slowWords(WORDS));
  assert.deepEqual(seen, ["connecting", "connected", "reconnecting", "connected"]);
  assertIncreasing(seqs(all));
  // The log as a new client reads it, from the start: each of its frames was handed over (the
  // server compacts the turn's tokens away once its message is whole, hence no equality).
  const witness = new ClaudeAgentClient({
    connectionUrl: server,
    sessionId: session.id,
    reconnect: false,
  });
  t.after(() => Promise.all([client.stop(), witness.stop()]));
  // Up to the last frame the client has, which may move on (the turn's last frames) meanwhile:
  // what it has is read once the witness got there.
  const history = frames(witness, (f) => f.seq === seqs(all).at(-1));
  await witness.start();
  const kept = seqs(await history);
  const handed = new Set(seqs(all));
  assert.deepEqual(
    kept.filter((seq) => !handed.has(seq)),
    [],
  );
});

test("with reconnect: false a lost connection closes the client, and `closed` says how", async (t) => {
  const proxy = await startProxy(t, await startServer(t));
  const client = new ClaudeAgentClient({ connectionUrl: proxy.url, reconnect: false });
  const seen = states(client);
  const messages = (async () => {
    for await (const _ of client.messages());
  })();
  await client.start();
  proxy.cut();
  const closed = await client.closed;
  assert.equal(closed.code, 1006, JSON.stringify(closed));
  assert.deepEqual(seen, ["connecting", "connected", "closed"]);
  await messages; // the iteration ended with the client
  assert.throws(() => client.sendText("after"), { message: "WebSocket is not connected" });
  await client.stop(); // already closed: resolves at once
});

test("stop() while reconnecting ends it for good, at once", async (t) => {
  const proxy = await startProxy(t, await startServer(t));
  const client = new ClaudeAgentClient({ connectionUrl: proxy.url });
  const seen = states(client);
  await client.start();
  proxy.refuse(true);
  proxy.cut();
  await reaches(client, "reconnecting");
  await client.stop();
  assert.deepEqual(await client.closed, { code: 1000, reason: "" });
  assert.deepEqual(seen, ["connecting", "connected", "reconnecting", "closed"]);
});

test("a reconnect the legacy server refuses (another client has /ws) is retried", async (t) => {
  const server = await startServer(t);
  const proxy = await startProxy(t, server);
  const client = new ClaudeAgentClient({ connectionUrl: proxy.url });
  await client.start();
  // Another client takes the one legacy connection while ours is away.
  proxy.refuse(true);
  proxy.cut();
  await reaches(client, "reconnecting");
  const other = await takeLegacySocket(server);
  const refused = frames(client, (f) => f.type === "error" && /active connection/.test(f.error));
  proxy.refuse(false);
  await refused;
  assert.equal(client.state, "reconnecting");
  other.close();
  await reaches(client, "connected");
  const replies = turn(client);
  client.sendText("back");
  assert.equal(assistantText(await replies), "You said: back");
  await client.stop();
});

test("a failed start() closes the client; state handlers unsubscribe and report what they throw", async (t) => {
  const thrown = [];
  const client = new ClaudeAgentClient({
    connectionUrl: await startServer(t),
    model: "m",
    maxTurns: "x", // refused by the server
    onError: (error) => thrown.push(error.message),
  });
  assert.equal(client.state, "idle");
  const seen = states(client);
  const off = client.onStateChange(() => {
    throw new Error("state handler bug");
  });
  await assert.rejects(
    client.start(),
    /^Error: Failed to configure server: Invalid config field `maxTurns`/,
  );
  assert.deepEqual(seen, ["connecting", "closed"]);
  assert.deepEqual(thrown, ["state handler bug", "state handler bug"]);
  const closed = await client.closed;
  assert.equal(closed.code, 1006);
  assert.match(closed.reason, /maxTurns/);
  off();
  await assert.rejects(client.start());
  assert.equal(thrown.length, 2);
});
