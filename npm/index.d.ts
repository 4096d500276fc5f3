// Every type comes from the Rust crates (wasm-bindgen and tsify); the original client's names
// are aliases of them.
import type {
  ClaudeAgentClientOptions,
  ClientMessage,
  SdkUserMessage,
  ServerMessage,
} from "./pkg/claude_agent_client.js";

export * from "./pkg/claude_agent_client.js";

/** The original client's name for {@link ClaudeAgentClientOptions}. */
export type ClientOptions = ClaudeAgentClientOptions;
/** The original client's name for {@link ClientMessage}. */
export type WSInputMessage = ClientMessage;
/** The original client's name for {@link ServerMessage}. */
export type WSOutputMessage = ServerMessage;
/** The Agent SDK's name for {@link SdkUserMessage}. */
export type SDKUserMessage = SdkUserMessage;
/** An agent message, as `sdk_message` frames carry it. */
export type SDKMessage = Extract<ServerMessage, { type: "sdk_message" }>["data"];
