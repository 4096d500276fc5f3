// The types come from the Rust crate (wasm-bindgen); this file only picks what the package exports.
export { ClaudeAgentClient } from "./pkg/claude_agent_client.js";
