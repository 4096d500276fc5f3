// The image (deploy/Containerfile), run with Podman against the scripted Messages API on this
// machine, driven by the npm client: a turn with a tool call as the image's non-root user, the
// page and client package from the image's own files, SIGTERM mid-turn (clients told with 1001,
// the turn finished, exit 0) and SIGKILL mid-turn, each followed by a new container on the same
// volumes that resumes the session with nothing lost, and no tool process outliving its agent.
// scripts/test-container builds the image and runs this with CONTAINER_IMAGE set.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { ClaudeAgentClient, createSession, deleteSession, getSession } from "../../npm/node.js";
import {
  assistantText,
  frames,
  PATIENCE_MS,
  slowWords,
  toolResults,
} from "../../npm/tests/harness.mjs";

const IMAGE = process.env.CONTAINER_IMAGE;
const MOCK_API = new URL("../../target/debug/mock-api", import.meta.url).pathname;
const PODMAN = ["--runtime", "/usr/sbin/runc", "--cgroup-manager=cgroupfs"];
const LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];
const TOKEN = randomBytes(24).toString("base64url");
/** The image's user (deploy/Containerfile). */
const USER_ID = "1000";
const run = promisify(execFile);

/** Runs `podman args…`, resolving with its stdout. */
async function podman(...args) {
  const { stdout } = await run("podman", [...PODMAN, ...args], { maxBuffer: 1 << 24 });
  return stdout.trim();
}

/** A port nothing listens on now (the container binds it on the host's network). */
async function freePort() {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address();
  probe.close();
  return port;
}

/** Resolves once `check()` holds, trying every 100 ms. */
async function until(what, check) {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const names = `claude-agent-test-${process.pid}`;
const volumes = { workspace: `${names}-workspace`, data: `${names}-data` };
let api;
let apiUrl;
let containers = 0;

before(async () => {
  assert.ok(IMAGE, "CONTAINER_IMAGE names the image to test");
  api = spawn(MOCK_API, [], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: api.stdout });
  [apiUrl] = await new Promise((resolve) =>
    lines.on("line", (line) => {
      const match = line.match(/^listening on (\S+)/);
      if (match) resolve([match[1]]);
    }),
  );
  for (const volume of Object.values(volumes)) await podman("volume", "create", volume);
});

after(async () => {
  await podman("rm", "--force", "--ignore", "--filter", `name=^${names}-`).catch(() => {});
  await podman("volume", "rm", "--force", ...Object.values(volumes)).catch(() => {});
  api?.stdin.end();
});

/**
 * A new container of the image on the test's volumes: resolves with its name and URL once it is
 * ready. Its drain may take 20 s; `podman stop` gives it 60.
 */
async function startContainer() {
  const name = `${names}-${++containers}`;
  const port = await freePort();
  await podman(
    "run",
    "--detach",
    "--name",
    name,
    "--network=host",
    ...LIMITS,
    "--env",
    `PORT=${port}`,
    "--env",
    `CLAUDE_AGENT_TOKEN=${TOKEN}`,
    "--env",
    `ANTHROPIC_BASE_URL=${apiUrl}`,
    "--env",
    "ANTHROPIC_API_KEY=test-key",
    "--env",
    "DRAIN_TIMEOUT=20s",
    "--volume",
    `${volumes.workspace}:/workspace`,
    "--volume",
    `${volumes.data}:/data`,
    IMAGE,
  );
  const url = `http://127.0.0.1:${port}`;
  await until(`${name} ready`, async () => (await fetch(`${url}/readyz`)).ok);
  return { name, url };
}

/** The container's processes: `{ user, pid, stat, command }`, as its own `ps` sees them. */
async function processes(name) {
  const out = await podman("exec", name, "ps", "-eo", "uid=,pid=,stat=,args=");
  return out.split("\n").map((line) => {
    const [user, pid, stat, ...command] = line.trim().split(/\s+/);
    return { user, pid, stat, command: command.join(" ") };
  });
}

/** A client of session `id` on `url` that does not reconnect. */
function attach(url, sessionId) {
  return new ClaudeAgentClient({ connectionUrl: url, token: TOKEN, sessionId, reconnect: false });
}

/** Every frame session `id` has kept, as a client that attaches now gets them. */
async function history(url, id) {
  const { latest_seq } = await getSession(url, id, { token: TOKEN });
  const client = attach(url, id);
  const seen = frames(client, (f) => f.seq === latest_seq);
  await client.start();
  const kept = await seen;
  await client.stop();
  return kept;
}

const say = (client, text) => client.sendText(text);

/**
 * One turn on `text` by a client of session `id` on `url`: its frames, from the message (which
 * comes after the session's history, replayed to the client as it attaches) up to its result.
 */
async function oneTurn(url, id, text) {
  const client = attach(url, id);
  await client.start();
  const mine = (f) => f.type === "user_message" && f.data.message.content === text;
  const replies = frames(client, (f, seen) => seen.some(mine) && isResult(f));
  say(client, text);
  const seen = await replies;
  await client.stop();
  return seen.slice(seen.findIndex(mine));
}

const numbered = (seen) => seen.filter((f) => f.seq !== undefined);
const isResult = (f) => f.type === "sdk_message" && f.data.type === "result";
const results = (seen) => seen.filter(isResult);

let session;
let server;

test("a turn with a tool call, run by the image's non-root user, in bypass mode", async () => {
  server = await startContainer();
  // Streamed: the slow turns below are caught mid-way by their first token.
  const config = { permissionMode: "bypassPermissions", includePartialMessages: true };
  ({ id: session } = await createSession(server.url, config, { token: TOKEN }));
  const seen = await oneTurn(
    server.url,
    session,
    "[[tool:bash:id -u > made-by.txt && pwd && cat made-by.txt]]",
  );
  assert.equal(results(seen)[0].data.subtype, "success");
  const tool = toolResults(seen);
  assert.equal(tool.failed, false, tool.text);
  assert.equal(tool.text.trim(), `/workspace\n${USER_ID}`);
  assert.equal(await podman("exec", server.name, "cat", "/workspace/made-by.txt"), USER_ID);

  // Every process is the image's user's: tini, the server, the agent.
  const running = await processes(server.name);
  assert.deepEqual(
    running.filter((p) => p.user !== USER_ID),
    [],
    JSON.stringify(running),
  );
  assert.ok(
    running.some((p) => p.pid === "1" && /tini/.test(p.command)),
    "tini is PID 1",
  );
  assert.ok(running.some((p) => /claude-agent-server/.test(p.command)));
});

test("the page and the client package come from the image's own files", async () => {
  const page = await fetch(`${server.url}/?token=${TOKEN}`, { redirect: "manual" });
  assert.equal(page.status, 303, "the token is traded for the cookie");
  const cookie = page.headers.get("set-cookie").split(";")[0];
  const index = await fetch(`${server.url}/`, { headers: { cookie } });
  assert.equal(index.status, 200);
  assert.match(await index.text(), /<script/);
  for (const path of ["/client/web.js", "/client/pkg/claude_agent_client_bg.wasm"]) {
    assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);
  }
  await podman("healthcheck", "run", server.name); // fails (exit 1) unless healthy
});

test("SIGTERM mid-turn: the client is told (1001), the turn finishes, the container exits 0", async () => {
  const client = attach(server.url, session);
  await client.start();
  const started = frames(client, (f) => f.type === "sdk_message" && f.data.type === "stream_event");
  say(client, "[[slow:40:100]]");
  await started;
  const stopped = podman("stop", "--time", "60", server.name);
  assert.equal((await client.closed).code, 1001);
  await stopped;
  assert.equal(await podman("inspect", "--format", "{{.State.ExitCode}}", server.name), "0");

  server = await startContainer();
  const kept = await history(server.url, session);
  const [toolTurn, slowTurn] = results(kept);
  assert.equal(toolTurn.data.subtype, "success");
  assert.equal(slowTurn.data.subtype, "success", "the turn finished within the drain");
  assert.ok(assistantText(kept).endsWith(slowWords(40)), "the whole reply was kept");
});

test("the conversation resumes in the new container (the CLI's ~/.claude is on /data)", async () => {
  const seen = await oneTurn(server.url, session, "[[say:still here]]");
  assert.equal(results(seen)[0].data.subtype, "success");
  assert.equal(assistantText(seen), "still here");
});

test("SIGKILL mid-turn: a new container on the volumes has every frame the client saw", async () => {
  const client = attach(server.url, session);
  await client.start();
  const seen = [];
  client.onMessage((frame) => seen.push(frame));
  const started = frames(client, (f) => f.type === "sdk_message" && f.data.type === "stream_event");
  say(client, "[[slow:600:100]]");
  await started;
  await podman("kill", "--signal", "KILL", server.name);
  await client.closed;
  assert.notEqual(await podman("inspect", "--format", "{{.State.ExitCode}}", server.name), "0");

  server = await startContainer();
  const kept = new Map(numbered(await history(server.url, session)).map((f) => [f.seq, f]));
  const lost = numbered(seen).filter((f) => JSON.stringify(kept.get(f.seq)) !== JSON.stringify(f));
  assert.deepEqual(lost, [], "a frame the client saw is missing or changed");

  const resumed = await oneTurn(server.url, session, "[[say:after the kill]]");
  assert.equal(assistantText(resumed), "after the kill");
});

test("no tool process outlives its agent, and none is left a zombie", async () => {
  const { id } = await createSession(
    server.url,
    { permissionMode: "bypassPermissions" },
    { token: TOKEN },
  );
  const seen = await oneTurn(
    server.url,
    id,
    "[[tool:bash:(sleep 3141 >/dev/null 2>&1 &) ; echo started]]",
  );
  assert.match(toolResults(seen).text, /started/);
  const sleeping = async () =>
    (await processes(server.name)).some((p) => p.command === "sleep 3141");
  assert.ok(await sleeping(), "the tool's process runs while its agent does");

  await deleteSession(server.url, id, { token: TOKEN });
  await until("the tool's process to end", async () => !(await sleeping()));
  const zombies = (await processes(server.name)).filter((p) => p.stat.startsWith("Z"));
  assert.deepEqual(zombies, []);
  await podman("stop", "--time", "60", server.name);
});
