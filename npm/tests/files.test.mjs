// The files methods (writeFile, readFile, removeFile, listFiles, watchDir) against the real
// server's files API: the legacy session's workspace, a v1 session's cwd, refusals, watches.
import assert from "node:assert/strict";
import { appendFile, mkdtemp, readFile, realpath, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";

import { ClaudeAgentClient, FilesystemEventType } from "@claude-agent/client";

import { fileEvents, readmeExample, runExample, startProxy, startServer } from "./harness.mjs";

const { CREATE, REMOVE, RENAME, WRITE } = FilesystemEventType;

/** A started client of a new server (or of `url`), stopped after the test. */
async function started(t, url) {
  const client = new ClaudeAgentClient({ connectionUrl: url ?? (await startServer(t)) });
  await client.start();
  t.after(() => client.stop());
  return client;
}

test("FilesystemEventType is the e2b SDK's enum, frozen", () => {
  assert.deepEqual(
    { ...FilesystemEventType },
    { CHMOD: "chmod", CREATE: "create", REMOVE: "remove", RENAME: "rename", WRITE: "write" },
  );
  assert.ok(Object.isFrozen(FilesystemEventType));
});

test("files are written, read as text or a Blob, listed and removed", async (t) => {
  const client = await started(t);
  const text = "héllo ✓\n";
  const written = await client.writeFile("notes/a.txt", text);
  assert.equal(written.name, "a.txt");
  assert.equal(written.type, "file");
  assert.equal(written.size, Buffer.byteLength(text));
  assert.ok(written.path.endsWith("/notes/a.txt"), written.path);
  assert.ok(written.modifiedTime instanceof Date);
  assert.equal(written.modifiedTime.getTime(), Date.parse(written.modified));
  assert.equal(await client.readFile("notes/a.txt"), text);
  assert.equal(await client.readFile("notes/a.txt", "text"), text);

  const bytes = Uint8Array.from([0, 1, 2, 255]);
  for (const content of [bytes, bytes.buffer, new Blob([bytes])]) {
    await client.writeFile("bin", content);
    const blob = await client.readFile("bin", "blob");
    assert.ok(blob instanceof Blob);
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), bytes);
  }

  const ours = (entries) =>
    entries.filter((e) => ["bin", "notes"].includes(e.name)).map((e) => [e.name, e.type]);
  assert.deepEqual(ours(await client.listFiles()), [
    ["bin", "file"],
    ["notes", "dir"],
  ]);
  assert.deepEqual(ours(await client.listFiles(".")), ours(await client.listFiles()));
  const [entry] = await client.listFiles("notes");
  assert.deepEqual({ ...entry, modifiedTime: undefined }, { ...written, modifiedTime: undefined });

  assert.equal(await client.removeFile("notes"), undefined);
  assert.deepEqual(ours(await client.listFiles()), [["bin", "file"]]);
  await assert.rejects(client.readFile("notes/a.txt"), {
    name: "Error",
    message: /^Failed to read file: No file or folder .*notes/,
    code: "file_not_found",
    status: 404,
  });
});

test("what the server refuses rejects with its reason and code", async (t) => {
  const client = await started(t);
  await client.writeFile("bin", Uint8Array.from([0xff, 0xfe]));
  const refusals = [
    [() => client.readFile("../outside"), "bad_path", /^Failed to read file: Bad path/],
    [() => client.readFile("/etc/hostname"), "outside_workspace", /outside the session's/],
    [() => client.readFile("bin", "text"), "not_text", /not UTF-8 text/],
    [() => client.readFile("."), "is_a_directory", /is a folder/],
    [() => client.listFiles("bin"), "not_a_directory", /^Failed to list files: .* not a folder/],
    [() => client.removeFile("missing"), "file_not_found", /^Failed to remove file: No file/],
    [() => client.watchDir("missing", () => {}), "file_not_found", /^Failed to watch: No file/],
  ];
  for (const [refused, code, message] of refusals) {
    await assert.rejects(refused(), { code, message });
  }
  // Checked before anything is sent.
  await assert.rejects(client.writeFile("x", 42), {
    message: "writeFile: content must be a string, Blob, ArrayBuffer or Uint8Array",
  });
  await assert.rejects(client.readFile("bin", "json"), {
    message: 'readFile: format must be "text" or "blob", not json',
  });
});

test("watchDir reports creates, writes, renames and removes, in the folder only, until stopped", async (t) => {
  const client = await started(t);
  const events = fileEvents();
  const exits = [];
  const handle = await client.watchDir(".", events.onEvent, { onExit: (e) => exits.push(e) });
  // A second watch, to know when a change has been reported: events come in order.
  const sentinel = fileEvents();
  const other = await client.watchDir(".", sentinel.onEvent);

  const { path } = await client.writeFile("a.txt", "1");
  await events.next({ type: CREATE, name: "a.txt" });
  await appendFile(path, "2");
  await events.next({ type: WRITE, name: "a.txt" });
  const folder = dirname(path);
  await rename(path, join(folder, "b.txt"));
  const renamed = await events.next({ type: CREATE, name: "b.txt" });
  assert.ok(
    renamed.some((e) => e.type === RENAME && e.name === "a.txt"),
    renamed,
  );
  // Not recursive: what happens in a subfolder is not reported.
  await client.writeFile("sub/c.txt", "x");
  await client.removeFile("b.txt");
  await events.next({ type: REMOVE, name: "b.txt" });
  assert.ok(
    events.seen.every((e) => !e.name.startsWith("sub/")),
    events.seen,
  );
  for (const event of events.seen) {
    assert.deepEqual(Object.keys(event).sort(), ["name", "path", "type"]);
    assert.equal(event.path, join(folder, event.name));
  }

  assert.equal(await handle.stop(), undefined);
  assert.deepEqual(exits, [undefined]);
  const before = events.seen.length;
  await client.writeFile("d.txt", "after");
  await sentinel.next({ type: CREATE, name: "d.txt" });
  assert.equal(events.seen.length, before);
  await other.stop();
});

test("a recursive watch reports the changes in subfolders", async (t) => {
  const client = await started(t);
  await client.writeFile("sub/one.txt", "1");
  const events = fileEvents();
  const handle = await client.watchDir(".", events.onEvent, { recursive: true });
  await client.writeFile("sub/two.txt", "2");
  await events.next({ type: CREATE, name: "sub/two.txt" });
  await client.removeFile("sub/one.txt");
  await events.next({ type: REMOVE, name: "sub/one.txt" });
  await handle.stop();
});

test("a watch ends with an Error when its connection is lost, and with stop() of the client", async (t) => {
  const proxy = await startProxy(t, await startServer(t));
  const client = await started(t, proxy.url);
  let lost;
  const ended = new Promise((resolve) => (lost = resolve));
  await client.watchDir(".", () => {}, { onExit: lost });
  proxy.cut();
  const error = await ended;
  assert.ok(error instanceof Error);
  assert.match(error.message, /^The watch ended: /);

  let stopped;
  const exited = new Promise((resolve) => (stopped = resolve));
  await client.watchDir(".", () => {}, { onExit: (...args) => stopped(args) });
  await client.stop();
  assert.deepEqual(await exited, [undefined]);
});

test("a handler that throws is reported to onError, and the watch goes on", async (t) => {
  const thrown = [];
  const client = new ClaudeAgentClient({
    connectionUrl: await startServer(t),
    onError: (error) => thrown.push(error.message),
  });
  await client.start();
  t.after(() => client.stop());
  const events = fileEvents();
  const handle = await client.watchDir(".", async (event) => {
    events.onEvent(event);
    throw new Error(`no thanks: ${event.name}`);
  });
  await client.writeFile("a.txt", "1");
  await events.next({ type: CREATE, name: "a.txt" });
  await client.writeFile("b.txt", "2");
  await events.next({ type: CREATE, name: "b.txt" });
  assert.ok(thrown.includes("no thanks: a.txt"), thrown);
  await handle.stop();
});

test("a v1 session's files are in its own cwd, once start() has created it", async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), "claude-agent-files-"));
  t.after(() => rm(cwd, { recursive: true, force: true }));
  const client = new ClaudeAgentClient({
    connectionUrl: await startServer(t),
    session: "new",
    cwd,
  });
  await assert.rejects(client.listFiles(), { message: "No session yet: call start() first" });
  await client.start();
  t.after(() => client.stop());
  const entry = await client.writeFile("a.txt", "in the session");
  assert.equal(entry.path, join(await realpath(cwd), "a.txt"));
  assert.equal(await readFile(join(cwd, "a.txt"), "utf8"), "in the session");
  assert.deepEqual(
    (await client.listFiles()).map((e) => e.name),
    ["a.txt"],
  );
});

test("the README's files example runs", async (t) => {
  const url = await startServer(t);
  const example = await readmeExample("## Files");
  const stdout = await runExample(example.replace("http://127.0.0.1:3000", url));
  assert.match(stdout, /^Hello!$/m);
  assert.match(stdout, /^input\.txt file 6$/m);
});
