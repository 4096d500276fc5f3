// Browser entry (plain <script type="module"> or a bundler): the wasm is fetched beside this file.
import init from "./pkg/claude_agent_client.js";

await init();

export { FilesystemEventType } from "./events.js";
export * from "./pkg/claude_agent_client.js";
