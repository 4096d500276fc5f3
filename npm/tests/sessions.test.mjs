// v1 sessions: the REST functions, `session: "new"`, attaching by `sessionId`, and their errors
// as real Errors carrying the server's message and code.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ClaudeAgentClient,
  createSession,
  deleteSession,
  getSession,
  listSessions,
} from "@claude-agent/client";

import {
  assistantText,
  deadUrl,
  frames,
  readmeExample,
  runExample,
  startServer,
  turn,
} from "./harness.mjs";

const ids = async (url) => (await listSessions(url)).map((session) => session.id);

test("createSession, getSession, listSessions and deleteSession", async (t) => {
  const url = await startServer(t);
  const session = await createSession(url, { systemPrompt: "Be brief.", model: "claude-test" });
  assert.equal(typeof session.id, "string");
  assert.equal(session.model, "claude-test");
  assert.equal(typeof session.latest_seq, "number");
  const plain = await ClaudeAgentClient.createSession(url); // the statics are the same functions
  assert.deepEqual(await ClaudeAgentClient.listSessions(url), await listSessions(url));
  assert.ok((await ids(url)).includes(session.id));
  assert.equal((await getSession(url, session.id)).id, session.id);
  await deleteSession(url, session.id);
  await ClaudeAgentClient.deleteSession(url, plain.id);
  assert.ok(!(await ids(url)).includes(session.id));
  assert.ok(!(await ids(url)).includes(plain.id));
});

test("the REST functions reject with real Errors: the server's message and code", async (t) => {
  const url = await startServer(t);
  for (const [call, action] of [
    [deleteSession, "delete session"],
    [getSession, "get session"],
  ]) {
    await assert.rejects(call(url, "no-such-session"), (error) => {
      assert.ok(error instanceof Error);
      assert.ok(error.message.startsWith(`Failed to ${action}: `), error.message);
      assert.equal(error.code, "session_not_found");
      return true;
    });
  }
  await assert.rejects(createSession(url, { maxTurns: "x" }), (error) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /^Failed to create session: .*maxTurns/);
    return true;
  });
  const dead = await deadUrl();
  await assert.rejects(listSessions(dead), (error) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /^Could not connect to http:\/\/127\.0\.0\.1:\d+\/v1\/sessions: /);
    return true;
  });
  await assert.rejects(listSessions("ftp://x"), { name: "Error", message: /is not an http:\/\// });
});

test('session: "new" creates a session with the config and attaches to it', async (t) => {
  const url = await startServer(t);
  const client = new ClaudeAgentClient({
    connectionUrl: url,
    session: "new",
    model: "claude-test",
  });
  assert.equal(client.sessionId, undefined);
  const connected = frames(client, (f) => f.type === "connected");
  await client.start();
  const [hello] = await connected;
  assert.equal(client.sessionId, hello.session_id);
  const info = (await listSessions(url)).find((session) => session.id === client.sessionId);
  assert.equal(info.model, "claude-test");
  const replies = turn(client);
  client.sendText("in a session");
  assert.equal(assistantText(await replies), "You said: in a session");
  await client.stop();
});

test("clients attached by sessionId share the session: each sees the other's turn", async (t) => {
  const url = await startServer(t);
  const { id } = await createSession(url);
  const [one, two] = [0, 1].map(() => new ClaudeAgentClient({ connectionUrl: url, sessionId: id }));
  assert.equal(one.sessionId, id);
  await Promise.all([one.start(), two.start()]);
  const seenByTwo = turn(two);
  const seenByOne = turn(one);
  one.sendText("from one");
  for (const seen of await Promise.all([seenByOne, seenByTwo])) {
    const echo = seen.find((f) => f.type === "user_message");
    assert.equal(echo?.data.message.content, "from one");
    assert.equal(assistantText(seen), "You said: from one");
  }
  await Promise.all([one.stop(), two.stop()]);
});

test("deleting a session closes its clients for good, saying why", async (t) => {
  const url = await startServer(t);
  const { id } = await createSession(url);
  const client = new ClaudeAgentClient({ connectionUrl: url, sessionId: id });
  await client.start();
  await deleteSession(url, id);
  const closed = await client.closed;
  assert.ok(closed.reason.startsWith("Failed to connect: No session "), JSON.stringify(closed));
  assert.equal(client.state, "closed");
});

test("session options are checked when the client is made", () => {
  const url = "http://127.0.0.1:1";
  for (const [options, message] of [
    [{ sessionId: "s", session: "new" }, /not both/],
    [{ session: "old" }, /session must be "new"/],
    [{ sessionId: 7 }, /sessionId must be a string/],
    [{ sessionId: "s", model: "m" }, /give no agent config/],
    [{ reconnect: "no" }, /reconnect must be a boolean/],
  ]) {
    assert.throws(() => new ClaudeAgentClient({ connectionUrl: url, ...options }), {
      name: "Error",
      message,
    });
  }
});

test("the README's sessions example runs", async (t) => {
  const url = await startServer(t);
  const example = await readmeExample("## Sessions");
  // It ends once its clients are closed.
  const stdout = await runExample(example.replace("http://127.0.0.1:3000", url));
  assert.match(stdout, /status: 'idle'|status: 'starting'|status: 'running'/);
  assert.match(stdout, /code: \d+,\s+reason: .Failed to connect: No session /);
});
