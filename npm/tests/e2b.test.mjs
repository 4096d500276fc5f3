// E2B mode (no connectionUrl) against the testkit's E2B mock, whose sandboxes run the real
// server: the original client's own example, unchanged but for its import; what the sandbox is
// created with; each failure of start() named, and no sandbox left running.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

import { ClaudeAgentClient, FilesystemEventType } from "@claude-agent/client";
import ts from "typescript";

import {
  assistantText,
  E2B_KEY,
  fileEvents,
  readmeExample,
  runExample,
  startE2bMock,
  turn,
  watchRequests,
} from "./harness.mjs";

/** Where the template's server reads its token from. */
const TOKEN_FILE = "/home/user/.claude-agent-server/token";

/** The options that point a client at `mock`. */
const at = (mock) => ({
  e2bApiKey: E2B_KEY,
  anthropicApiKey: "test-key",
  e2bApiUrl: mock.apiUrl,
  e2bDomain: mock.domain,
});

/** Asserts that every sandbox the mock made was killed, by a request; resolves with them. */
async function allKilled(mock) {
  const sandboxes = await mock.sandboxes();
  for (const sandbox of sandboxes) {
    assert.equal(sandbox.state, "killed", JSON.stringify(sandbox));
    assert.equal(sandbox.killedBy, "request", JSON.stringify(sandbox));
  }
  return sandboxes;
}

/** Runs `body` without these variables in this process's environment. */
async function withoutEnv(names, body) {
  const saved = names.map((name) => [name, process.env[name]]);
  for (const name of names) delete process.env[name];
  try {
    return await body();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

test("the original's example-client.ts runs against the mock, its environment only changed", async (t) => {
  const mock = await startE2bMock(t);
  const source = await readFile(new URL("original/example-client.ts", import.meta.url), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const printed = await runExample(outputText, {
    E2B_API_KEY: E2B_KEY,
    ANTHROPIC_API_KEY: "test-key",
    E2B_API_URL: mock.apiUrl,
    E2B_DOMAIN: mock.domain,
  });
  for (const line of [
    "✅ File watcher active",
    "✅ File written",
    "📄 Created: input.txt",
    '"result": "You said: Please read \\"input.txt\\", reverse its content',
    "Hello! This is a test file created by the user.",
    "🛑 Stopping file watcher...",
    "✅ Sandbox terminated",
  ]) {
    assert.ok(printed.includes(line), `${line} not in:\n${printed}`);
  }
  const [sandbox, ...more] = await allKilled(mock);
  assert.deepEqual(more, []);
  assert.equal(sandbox.templateID, "claude-agent-server");
});

test("the README's E2B example runs, with the environment's keys and E2B", async (t) => {
  const mock = await startE2bMock(t);
  const stdout = await runExample(await readmeExample("## E2B sandboxes"), {
    E2B_API_KEY: E2B_KEY,
    ANTHROPIC_API_KEY: "test-key",
    E2B_API_URL: mock.apiUrl,
    E2B_DOMAIN: mock.domain,
  });
  assert.equal(stdout, "You said: What does input.txt say?\n");
  assert.equal((await allKilled(mock)).length, 1);
});

test("start() creates a sandbox and hands its server a token; files and turns work; stop() kills it", async (t) => {
  const mock = await startE2bMock(t);
  // What the client writes to the sandbox's token file, seen on its way.
  let token;
  watchRequests(t, (url, init) => {
    if (url.includes(`/files?path=${TOKEN_FILE}`)) token = init.body;
  });
  const client = new ClaudeAgentClient({ ...at(mock), timeoutMs: 120_500, maxTurns: 2 });
  await assert.rejects(client.listFiles(), {
    message: "Sandbox not initialized: call start() first",
  });
  await client.start();

  const [sandbox] = await mock.sandboxes();
  const [created] = sandbox.requests;
  assert.equal(created.method, "POST");
  assert.equal(created.path, "/sandboxes");
  assert.deepEqual(created.body, {
    templateID: "claude-agent-server",
    timeout: 121,
    envVars: { ANTHROPIC_API_KEY: "test-key" },
    metadata: { client: "@claude-agent/client" },
    secure: true,
  });
  const [handed] = sandbox.envd;
  assert.deepEqual(
    { ...handed, headers: handed.headers.includes("x-access-token") },
    {
      method: "POST",
      path: "/files",
      query: { path: TOKEN_FILE, username: "user" },
      headers: true,
      status: 200,
    },
  );
  // The sandbox's server takes that token, and no other; the config (with the key) was posted.
  assert.match(token, /^[0-9a-f]{64}$/);
  const server = `http://3000-${sandbox.sandboxID}.${mock.domain}`;
  assert.equal((await fetch(`${server}/config`)).status, 401);
  const posted = await fetch(`${server}/config`, { headers: { authorization: `Bearer ${token}` } });
  const { config } = await posted.json();
  assert.equal(config.maxTurns, 2);
  assert.equal(config.anthropicApiKey, "[redacted]");

  const replies = turn(client);
  client.sendText("Say hello");
  assert.equal(assistantText(await replies), "You said: Say hello");
  await client.writeFile("dir/a.txt", "in the sandbox");
  const events = fileEvents();
  const watch = await client.watchDir(".", events.onEvent, { recursive: true });
  await client.writeFile("dir/b.txt", "also");
  await events.next({ type: FilesystemEventType.CREATE, name: "dir/b.txt" });
  assert.equal(await client.readFile("dir/a.txt"), "in the sandbox");
  assert.deepEqual(
    (await client.listFiles("dir")).map((entry) => entry.name),
    ["a.txt", "b.txt"],
  );
  await watch.stop();

  await client.stop();
  await client.stop();
  assert.equal((await allKilled(mock)).length, 1);
  await assert.rejects(client.readFile("dir/a.txt"), {
    message: "Sandbox not initialized: call start() first",
  });
});

test("start() after stop() creates another sandbox, with a session of its own", async (t) => {
  const mock = await startE2bMock(t);
  const client = new ClaudeAgentClient({ ...at(mock), session: "new" });
  const ids = [];
  for (const text of ["first", "second"]) {
    await client.start();
    ids.push(client.sessionId);
    const replies = turn(client);
    client.sendText(text);
    assert.equal(assistantText(await replies), `You said: ${text}`);
    await client.stop();
  }
  assert.notEqual(ids[0], ids[1]);
  assert.equal((await allKilled(mock)).length, 2);
});

test("start() failures say what failed, and kill the sandbox they leave", async (t) => {
  const mock = await startE2bMock(t);
  const failures = [
    [
      { e2bApiKey: "wrong" },
      "Failed to create an E2B sandbox: E2B refused the API key (e2bApiKey, or E2B_API_KEY in Node)",
    ],
    [
      { template: "nope" },
      /^Failed to create an E2B sandbox from template "nope": template 'nope' not found/,
    ],
    [
      { template: "never-ready", readyTimeoutMs: 1_500 },
      /^The server in E2B sandbox \w+ was not ready in 2 s: /,
    ],
    [{ maxTurns: "x" }, /^Failed to configure server: Invalid config field `maxTurns`/],
  ];
  for (const [options, message] of failures) {
    const client = new ClaudeAgentClient({ ...at(mock), ...options });
    await assert.rejects(client.start(), { name: "Error", message });
    assert.equal(client.state, "closed");
  }
  // The never-ready one and the one whose config was refused; none for the key or template.
  assert.equal((await allKilled(mock)).length, 2);

  await withoutEnv(["E2B_API_KEY", "ANTHROPIC_API_KEY"], async () => {
    const { e2bApiKey, anthropicApiKey, ...rest } = at(mock);
    for (const [options, message] of [
      [{ ...rest, anthropicApiKey }, /^E2B_API_KEY is required/],
      [{ ...rest, e2bApiKey }, /^ANTHROPIC_API_KEY is required/],
    ]) {
      await assert.rejects(new ClaudeAgentClient(options).start(), { message });
    }
  });
  assert.equal((await allKilled(mock)).length, 2);
});

test("stop() while start() waits for the sandbox's server kills the sandbox", async (t) => {
  const mock = await startE2bMock(t);
  // The first health check of the sandbox's server tells that the wait has begun.
  const waiting = new Promise((resolve) =>
    watchRequests(t, (url) => url.endsWith("/healthz") && resolve()),
  );
  const client = new ClaudeAgentClient({ ...at(mock), template: "never-ready" });
  const refused = assert.rejects(client.start(), {
    message: "stop() was called before the connection was made",
  });
  await waiting;
  await client.stop();
  await refused;
  assert.equal((await allKilled(mock)).length, 1);
});
