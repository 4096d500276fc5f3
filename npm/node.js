// Node entry: the wasm comes from the package's own file, and Node 20 (which has no global
// WebSocket) gets the `ws` package's.
import { readFileSync } from "node:fs";
import { initSync } from "./pkg/claude_agent_client.js";

if (typeof globalThis.WebSocket === "undefined") {
  const { WebSocket } = await import("ws");
  globalThis.WebSocket = WebSocket;
}
initSync({ module: readFileSync(new URL("./pkg/claude_agent_client_bg.wasm", import.meta.url)) });

export { FilesystemEventType } from "./events.js";
export * from "./pkg/claude_agent_client.js";
