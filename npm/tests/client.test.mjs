// ClaudeAgentClient against the real server, the real CLI and the scripted Messages API.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { ClaudeAgentClient } from "@claude-agent/client";

import { assistantText, deadUrl, frames, startServer, turn } from "./harness.mjs";

test("the original's example flow: configure, connect, send, read the result, stop", async (t) => {
  const url = await startServer(t);
  const client = new ClaudeAgentClient({
    connectionUrl: url,
    systemPrompt: "You are a test agent.",
    allowedTools: ["Read"],
  });
  await client.start();
  const replies = turn(client);
  client.send({
    type: "user_message",
    data: {
      type: "user",
      session_id: "s1",
      parent_tool_use_id: null,
      message: { role: "user", content: "Say hello" },
    },
  });
  const seen = await replies;
  assert.equal(assistantText(seen), "You said: Say hello");
  const result = seen.at(-1).data;
  assert.equal(result.subtype, "success");
  assert.equal(typeof result.session_id, "string");
  await client.stop();
});

test("sendText builds the user message", async (t) => {
  const client = new ClaudeAgentClient({ connectionUrl: await startServer(t) });
  await client.start();
  const replies = turn(client);
  client.sendText("hi there");
  assert.equal(assistantText(await replies), "You said: hi there");
  await client.stop();
});

test("interrupt ends a slow turn", async (t) => {
  const client = new ClaudeAgentClient({ connectionUrl: await startServer(t) });
  await client.start();
  const started = frames(client, (f) => f.type === "sdk_message" && f.data.type === "system");
  const replies = turn(client);
  client.sendText("[[slow:200:100]]");
  await started;
  client.interrupt();
  const result = (await replies).at(-1).data;
  assert.equal(result.subtype, "error_during_execution");
  await client.stop();
});

test("a malformed message throws a clear Error, and so does sending unconnected", async (t) => {
  const client = new ClaudeAgentClient({ connectionUrl: await startServer(t) });
  assert.throws(() => client.sendText("too early"), { message: "WebSocket is not connected" });
  await client.start();
  // The original client README's example, which killed the original server.
  assert.throws(() => client.send({ type: "user_message", data: { content: "Hello, Claude!" } }), {
    name: "Error",
    message: "Invalid message: data: missing field `type`",
  });
  assert.throws(() => client.send({ type: "bogus" }), {
    message:
      /^Invalid message: type: unknown variant `bogus`, expected `user_message` or `interrupt` or `permission_response`/,
  });
  assert.throws(() => client.send(null), {
    message: "Invalid message: expected an object, found null",
  });
  const cyclic = { type: "interrupt" };
  cyclic.self = cyclic;
  assert.throws(() => client.send(cyclic), /^Error: Invalid message: .*circular/i);
  // Still connected and working.
  const replies = turn(client);
  client.sendText("still fine");
  assert.equal(assistantText(await replies), "You said: still fine");
  await client.stop();
});

test("start() against a dead port rejects with a clear Error", async () => {
  const url = await deadUrl();
  const plain = new ClaudeAgentClient({ connectionUrl: url });
  await assert.rejects(plain.start(), (error) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /^Could not connect to ws:\/\/127\.0\.0\.1:\d+\/ws/);
    return true;
  });
  const configured = new ClaudeAgentClient({ connectionUrl: url, model: "m" });
  await assert.rejects(
    configured.start(),
    /^Error: Could not connect to http:\/\/127\.0\.0\.1:\d+\/config/,
  );
});

test("a config the server refuses rejects start() with the server's reason", async (t) => {
  const url = await startServer(t);
  const client = new ClaudeAgentClient({ connectionUrl: `${url}/not-a-server`, model: "m" });
  await assert.rejects(client.start(), {
    message: "Failed to configure server: HTTP 404: Not Found",
  });
  const invalid = new ClaudeAgentClient({ connectionUrl: url, maxTurns: "x" });
  await assert.rejects(invalid.start(), {
    message:
      'Failed to configure server: Invalid config field `maxTurns`: invalid type: string "x", expected u32',
  });
});

test("only the agent config is posted: not the client's own options nor the E2B ones", async (t) => {
  // A stand-in for /config that keeps what it was sent and refuses it.
  let posted;
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      posted = JSON.parse(body);
      response.writeHead(400, { "content-type": "application/json" }).end('{"error":"kept"}');
    });
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const client = new ClaudeAgentClient({
    connectionUrl: `http://127.0.0.1:${server.address().port}`,
    debug: false,
    onError: () => {},
    e2bApiKey: "e2b-secret",
    template: "claude-agent-server",
    timeoutMs: 1000,
    model: "m",
    anthropicApiKey: "k",
    allowedTools: ["Read"],
    agents: null,
    maxTurns: undefined,
  });
  await assert.rejects(client.start(), { message: "Failed to configure server: kept" });
  assert.deepEqual(posted, { model: "m", anthropicApiKey: "k", allowedTools: ["Read"] });
});

test("a second client is refused with the server's words", async (t) => {
  const url = await startServer(t);
  const first = new ClaudeAgentClient({ connectionUrl: url });
  await first.start();
  const second = new ClaudeAgentClient({ connectionUrl: url });
  await assert.rejects(second.start(), {
    message: "The server refused the connection: Server already has an active connection",
  });
  await first.stop();
});

test("a throwing handler stops neither the others nor the client", async (t) => {
  const thrown = [];
  const client = new ClaudeAgentClient({
    connectionUrl: await startServer(t),
    onError: (error) => thrown.push(error),
  });
  client.onMessage(() => {
    throw new Error("handler bug");
  });
  await client.start();
  const replies = turn(client);
  client.sendText("keep going");
  assert.equal(assistantText(await replies), "You said: keep going");
  assert.ok(thrown.length > 0 && thrown.every((e) => e.message === "handler bug"));
  await client.stop();
});

test("a handler added or removed by a handler takes effect from the next frame", async (t) => {
  const client = new ClaudeAgentClient({ connectionUrl: await startServer(t) });
  const seen = { first: 0, second: 0, late: 0 };
  let offSecond;
  const offFirst = client.onMessage(() => {
    seen.first++;
    if (seen.first === 1) {
      offSecond(); // the second still gets this frame
      client.onMessage(() => seen.late++); // this one from the next frame on
      offFirst();
    }
  });
  offSecond = client.onMessage(() => seen.second++);
  const replies = turn(client);
  await client.start();
  client.sendText("hi");
  const all = await replies;
  assert.deepEqual(seen, { first: 1, second: 1, late: all.length - 1 });
  await client.stop();
});

test("debug logs each frame to the console", async (t) => {
  const client = new ClaudeAgentClient({ connectionUrl: await startServer(t), debug: true });
  const logged = [];
  const log = console.log;
  console.log = (...args) => logged.push(args);
  t.after(() => (console.log = log));
  const replies = turn(client);
  await client.start();
  client.sendText("hi");
  const all = await replies;
  console.log = log;
  const frames = logged
    .filter(([label]) => label === "Received message:")
    .map(([, frame]) => frame);
  assert.deepEqual(frames.slice(-all.length), all);
  assert.ok(
    logged.some(([line]) => String(line).startsWith("Connecting to ws://")),
    JSON.stringify(logged),
  );
  await client.stop();
});

test("messages() iterates the frames, and ends when the connection closes", async (t) => {
  const client = new ClaudeAgentClient({ connectionUrl: await startServer(t) });
  await client.start();
  client.sendText("iterate");
  const kinds = [];
  for await (const message of client.messages()) {
    kinds.push(message.type === "sdk_message" ? message.data.type : message.type);
    if (kinds.at(-1) === "result") break; // return(): unsubscribes
  }
  assert.equal(kinds.at(-1), "result");
  assert.ok(kinds.includes("assistant"), kinds.join());
  const rest = [];
  const draining = (async () => {
    for await (const message of client.messages()) rest.push(message);
  })();
  await client.stop();
  await draining; // ended by the close, not left pending
  assert.deepEqual(rest, []);
});

test("stop() closes cleanly, twice is safe, and the process lives on", async (t) => {
  const client = new ClaudeAgentClient({ connectionUrl: await startServer(t) });
  let closedFrames = 0;
  client.onMessage(() => closedFrames++);
  await client.start();
  await client.stop();
  await client.stop();
  assert.throws(() => client.sendText("after stop"), { message: "WebSocket is not connected" });
  // The failure this guards against (a freed closure called by a late close event) crashes the
  // process some time after the close: it must still be running.
  await sleep(500);
  assert.ok(closedFrames >= 1);
});
