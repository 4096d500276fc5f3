// Test helpers: a real server (the testkit's `test-server`: the server binary, the pinned CLI,
// the scripted Messages API) and waiting for frames.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

const TEST_SERVER =
  process.env.TEST_SERVER ?? new URL("../../target/debug/test-server", import.meta.url).pathname;
/** How long a test waits for what should come. */
export const PATIENCE_MS = 60_000;

/** Starts a server with the server's `args`, stopped after the test (or if this process dies). */
export async function startServer(t, args = []) {
  const child = spawn(TEST_SERVER, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${TEST_SERVER} exited with ${code}`)));
    child.once("error", reject);
    lines.on("line", (line) => {
      const match = line.match(/^listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
  });
  t.after(async () => {
    child.stdin.end();
    if (child.exitCode === null) await once(child, "exit");
  });
  return url;
}

/** A URL where nothing listens. */
export async function deadUrl() {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${port}`;
}

/** Resolves with the frames up to and including the first that `done` accepts. */
export function frames(client, done) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching frame in time; saw ${JSON.stringify(seen).slice(0, 2000)}`));
    }, PATIENCE_MS);
    const off = client.onMessage((frame) => {
      seen.push(frame);
      if (done(frame)) {
        clearTimeout(timer);
        off();
        resolve(seen);
      }
    });
  });
}

/** The frames of one turn, up to its result. */
export const turn = (client) =>
  frames(client, (f) => f.type === "sdk_message" && f.data.type === "result");

/** The assistant's text among `frames`. */
export const assistantText = (seen) =>
  seen
    .filter((f) => f.type === "sdk_message" && f.data.type === "assistant")
    .flatMap((f) => f.data.message.content)
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("");
