// Builds the E2B sandbox template `claude-agent-server` from ./Dockerfile: `npm run build`, with
// E2B_API_KEY set and Docker running. `npm run check` (--dry-run) only prints what E2B would get.
//
// E2B builds single-stage Dockerfiles only: so Docker runs the image's build
// (deploy/Containerfile, up to its `files` stage), which leaves the server, the CLI, the page and
// the client package in ./out/, and E2B gets ./Dockerfile, which copies them from there.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultBuildLogger, Template, waitForURL } from "e2b";

const here = dirname(fileURLToPath(import.meta.url));
const dockerfile = readFileSync(join(here, "Dockerfile"), "utf8");

// The server starts as the template is built, and E2B snapshots it once its health route
// answers: each sandbox resumes with it listening, so nothing given at create (envVars) reaches
// it. It waits for its token in the token file instead (503 token_pending meanwhile), which the
// sandbox's creator writes through envd with the envdAccessToken only it was given.
const start =
  "claude-agent-server --host 0.0.0.0 --port 3000 --allowed-host .e2b.app" +
  " --workspace /home/user/agent-workspace" +
  " --token-file /home/user/.claude-agent-server/token";
const template = Template({ fileContextPath: here })
  .fromDockerfile(dockerfile)
  .setStartCmd(start, waitForURL("http://localhost:3000/healthz"));

if (process.argv.includes("--dry-run")) {
  console.log(await Template.toJSON(template, false));
} else {
  const root = join(here, "../..");
  const output = `type=local,dest=${join(here, "out")}`;
  const containerfile = join(root, "deploy/Containerfile");
  execFileSync(
    "docker",
    ["build", "--file", containerfile, "--target", "files", "--output", output, root],
    { stdio: "inherit" },
  );
  // The name is the template's alias: what clients create sandboxes of.
  await Template.build(template, "claude-agent-server", {
    cpuCount: 2,
    memoryMB: 2048,
    onBuildLogs: defaultBuildLogger(),
  });
}
