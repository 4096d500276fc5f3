// Live control: `setModel`, `setPermissionMode`, `setMaxThinkingTokens` and `cancelMessage`
// against the real CLI, each settled by the `control_result` of its own request.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ClaudeAgentClient } from "@claude-agent/client";

import { assistantText, frames, readmeExample, runExample, startServer, turn } from "./harness.mjs";

/** A client started on a new session of `url`. */
async function started(url, options = {}) {
  const client = new ClaudeAgentClient({ connectionUrl: url, session: "new", ...options });
  await client.start();
  return client;
}

/** The models of the assistant messages among `seen` (the scripted API echoes the request's). */
const models = (seen) =>
  seen
    .filter((f) => f.type === "sdk_message" && f.data.type === "assistant")
    .map((f) => f.data.message.model);

test("setModel: resolves with the CLI's answer, and the next turn asks for that model", async (t) => {
  const client = await started(await startServer(t));
  const result = await client.setModel("claude-live-1");
  assert.equal(result.subtype, "set_model");
  assert.equal(result.ok, true);
  assert.match(result.request_id, /\S/);
  const seen = turn(client);
  client.sendText("Which model?");
  const used = models(await seen);
  assert.ok(used.length > 0 && used.every((model) => model === "claude-live-1"), `${used}`);
  // Back to the default; the mode and thinking budget change as well.
  assert.equal((await client.setModel(null)).ok, true);
  const mode = await client.setPermissionMode("plan");
  assert.deepEqual([mode.subtype, mode.ok], ["set_permission_mode", true]);
  const thinking = await client.setMaxThinkingTokens(2048);
  assert.equal(thinking.subtype, "set_max_thinking_tokens");
  await client.stop();
});

test("cancelMessage of a message not queued rejects with the error; a malformed one is not sent", async (t) => {
  const client = await started(await startServer(t));
  await assert.rejects(client.cancelMessage("no-such-message"), (error) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /no-such-message.*is queued/);
    return true;
  });
  // Refused before it is sent, naming the problem.
  await assert.rejects(client.setPermissionMode("sideways"), /Invalid message: data/);
  // Two at once: each settles with its own result.
  const [a, b] = await Promise.all([client.setModel("claude-a"), client.setModel("claude-b")]);
  assert.notEqual(a.request_id, b.request_id);
  await client.stop();
  await assert.rejects(client.setModel("claude-c"), /WebSocket is not connected/);
});

test("a queued message withdrawn by cancelMessage never runs", async (t) => {
  const client = await started(await startServer(t));
  const lifecycle = (uuid, state) => (f) =>
    f.type === "sdk_message" &&
    f.data.type === "command_lifecycle" &&
    f.data.command_uuid === uuid &&
    f.data.state === state;
  const say = (text, uuid) =>
    client.send({
      type: "user_message",
      data: {
        type: "user",
        parent_tool_use_id: null,
        uuid,
        message: { role: "user", content: text },
      },
    });
  const initialized = frames(client, (f) => f.type === "sdk_message" && f.data.subtype === "init");
  say("[[slow:30:100]]", "m-1");
  await initialized;
  const queued = frames(client, lifecycle("m-2", "queued"));
  say("[[say:withdrawn-ran]]", "m-2");
  await queued;
  const result = await client.cancelMessage("m-2");
  assert.deepEqual([result.subtype, result.ok], ["cancel_message", true]);
  const seen = frames(client, lifecycle("m-3", "completed"));
  say("[[say:after-it]]", "m-3");
  const text = assistantText(await seen);
  assert.ok(text.includes("after-it") && !text.includes("withdrawn-ran"), text);
  await client.stop();
});

test("the README's live control example runs", async (t) => {
  const url = await startServer(t);
  const example = (await readmeExample("## Live control")).replace("http://127.0.0.1:3000", url);
  const printed = await runExample(example);
  // Its message withdrawn while queued, or run already: the mock is quick, and the example
  // may end before the CLI's `queued` or `cancelled` for it is printed, but not before the
  // withdrawal's answer.
  assert.match(printed, /withdrawn|No message .* is queued/);
});
