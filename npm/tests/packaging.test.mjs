// The package as users get it: `npm pack`, installed in a fresh project, the README's Node
// example type-checked and run against a real server (and the original client's example
// type-checked), and a page bundled with Vite, which completes a turn in headless Chromium.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { openPage, serveStatic } from "./browser.mjs";
import { readmeExample, startServer } from "./harness.mjs";

const run = promisify(execFile);
const PACKAGE = new URL("..", import.meta.url).pathname;
// Pinned, as a user's project would be.
const TOOLS = ["typescript@5.9.3", "@types/node@20.19.25", "vite@8.3.8"];

test("the packed package installs, type-checks, runs, and bundles into a page that works", async (t) => {
  const project = await mkdtemp(join(tmpdir(), "claude-agent-client-"));
  t.after(() => rm(project, { recursive: true, force: true }));
  // The bundled page is served from its own origin, which the server lets configure it.
  const origin = await serveStatic(t, join(project, "dist"));
  const url = await startServer(t, ["--cors-origin", origin]);

  const { stdout: tarball } = await run(
    "npm",
    ["pack", "--silent", "--pack-destination", project],
    {
      cwd: PACKAGE,
    },
  );
  await writeFile(join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      join(project, tarball.trim()),
      ...TOOLS,
    ],
    {
      cwd: project,
    },
  );

  // Node: the README's example, as TypeScript, against the test server.
  const example = (await readmeExample("## Node")).replace("http://127.0.0.1:3000", url);
  await writeFile(join(project, "example.ts"), example);
  await writeFile(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        target: "es2022",
        strict: true,
        types: ["node"],
        outDir: "out",
      },
      files: ["example.ts", "typecheck.ts", "example-client.ts"],
    }),
  );
  await copyFile(new URL("typecheck.ts", import.meta.url), join(project, "typecheck.ts"));
  // The original client's own example, unchanged but for its import.
  await copyFile(
    new URL("original/example-client.ts", import.meta.url),
    join(project, "example-client.ts"),
  );
  await run("npx", ["tsc", "--noEmit"], { cwd: project });
  await run("npx", ["tsc"], { cwd: project });
  const { stdout } = await run(process.execPath, ["out/example.js"], {
    cwd: project,
    timeout: 60_000,
  });
  assert.equal(stdout.trim(), "You said: Say hello");

  // Browser: a page importing the package, bundled by Vite with the wasm beside it.
  await writeFile(
    join(project, "index.html"),
    '<!doctype html><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>',
  );
  await copyFile(new URL("pages/turn.js", import.meta.url), join(project, "turn.js"));
  await writeFile(
    join(project, "main.js"),
    'import { ClaudeAgentClient } from "@claude-agent/client";\n' +
      'import { reportTurn } from "./turn.js";\n' +
      'reportTurn(ClaudeAgentClient, "Hello from a bundle");\n',
  );
  await run("npx", ["vite", "build", "--logLevel", "warn"], { cwd: project });
  const assets = await readdir(join(project, "dist", "assets"));
  assert.ok(
    assets.some((file) => file.endsWith(".wasm")),
    assets.join(),
  );
  assert.ok(
    assets.some((file) => file.endsWith(".js")),
    assets.join(),
  );

  const { reported, problems } = await openPage(t, `${origin}/?server=${url}`);
  assert.deepEqual(await reported(), {
    reply: "You said: Hello from a bundle",
    subtype: "success",
  });
  assert.deepEqual(problems, []);
});
