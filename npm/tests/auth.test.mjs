// The `token` option against a server started with `--token`: sent as `Authorization: Bearer`
// on every HTTP call and in the WebSocket's subprotocols; without it, or with a wrong one,
// every call rejects saying so.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ClaudeAgentClient,
  createSession,
  deleteSession,
  getSession,
  listSessions,
} from "@claude-agent/client";

import { assistantText, startServer, turn } from "./harness.mjs";

const TOKEN = "a-test-token-of-the-server";
const NEEDS_TOKEN = /This server needs its token/;

/** Runs `body` with CLAUDE_AGENT_TOKEN set to `token` in this process's environment. */
async function withEnvToken(token, body) {
  process.env.CLAUDE_AGENT_TOKEN = token;
  try {
    return await body();
  } finally {
    delete process.env.CLAUDE_AGENT_TOKEN;
  }
}

test("with the server's token: the config, the socket, the files and the sessions", async (t) => {
  const url = await startServer(t, ["--token", TOKEN]);
  const client = new ClaudeAgentClient({ connectionUrl: url, token: TOKEN, maxTurns: 3 });
  await client.start();
  const replies = turn(client);
  client.sendText("Say hello");
  assert.equal(assistantText(await replies), "You said: Say hello");
  await client.writeFile("a.txt", "with a token");
  assert.equal(await client.readFile("a.txt"), "with a token");
  await client.stop();

  const options = { token: TOKEN };
  const created = await createSession(url, { maxTurns: 1 }, options);
  assert.equal((await getSession(url, created.id, options)).id, created.id);
  assert.ok((await listSessions(url, options)).some((session) => session.id === created.id));
  const attached = new ClaudeAgentClient({ connectionUrl: url, sessionId: created.id, ...options });
  await attached.start();
  assert.deepEqual(
    (await attached.listFiles()).map((entry) => entry.name),
    ["a.txt"],
  );
  await attached.stop();
  await deleteSession(url, created.id, options);
});

test("in Node, CLAUDE_AGENT_TOKEN is the token when the option is absent", async (t) => {
  const url = await startServer(t, ["--token", TOKEN]);
  await withEnvToken(TOKEN, async () => {
    const client = new ClaudeAgentClient({ connectionUrl: url });
    await client.start();
    await client.stop();
    assert.ok(Array.isArray(await listSessions(url)));
  });
  // The option wins over the environment.
  await withEnvToken("not-it", async () => {
    const client = new ClaudeAgentClient({ connectionUrl: url, token: TOKEN });
    await client.start();
    await client.stop();
  });
});

test("without the token, or with a wrong one, each call rejects saying so", async (t) => {
  const url = await startServer(t, ["--token", TOKEN]);
  const none = new ClaudeAgentClient({ connectionUrl: url });
  await assert.rejects(none.start(), {
    name: "Error",
    message: /^Failed to connect: This server needs its token/,
    code: "unauthorized",
    status: 401,
  });
  assert.equal(none.state, "closed");
  const configured = new ClaudeAgentClient({ connectionUrl: url, maxTurns: 1 });
  await assert.rejects(configured.start(), {
    message: /^Failed to configure server: This server needs its token/,
    code: "unauthorized",
  });
  const wrong = new ClaudeAgentClient({ connectionUrl: url, token: "wrong" });
  await assert.rejects(wrong.start(), { message: "Failed to connect: Wrong token" });
  await assert.rejects(wrong.readFile("a.txt"), { message: "Failed to read file: Wrong token" });
  await assert.rejects(listSessions(url), { message: NEEDS_TOKEN, code: "unauthorized" });
});

test("too many wrong tokens from here: start() says when to try again", async (t) => {
  const url = await startServer(t, ["--token", TOKEN]);
  // Wrong tokens until the server has had enough (10 a minute, as it stands).
  for (let tries = 0; ; tries++) {
    const { status } = await listSessions(url, { token: "wrong" }).catch((error) => error);
    if (status === 429) break;
    assert.equal(status, 401);
    assert.ok(tries < 100, "never rate limited");
  }
  const client = new ClaudeAgentClient({ connectionUrl: url, token: TOKEN });
  await assert.rejects(client.start(), {
    message: /^Failed to connect: Too many wrong tokens from this address: try again in \d+ s$/,
    code: "rate_limited",
    status: 429,
  });
});

test("a token given to a server without auth (--no-auth) changes nothing", async (t) => {
  const url = await startServer(t);
  const client = new ClaudeAgentClient({ connectionUrl: url, token: TOKEN });
  await client.start();
  const replies = turn(client);
  client.sendText("hi");
  assert.equal(assistantText(await replies), "You said: hi");
  await client.stop();
});
