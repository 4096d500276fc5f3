// Type-checked (tsc --noEmit, strict) by packaging.test.mjs against the packed package: the
// declarations come from the Rust types, so each `@ts-expect-error` fails the check if a type
// has gone loose (`any`).
import { ClaudeAgentClient, type SDKMessage, type WSOutputMessage } from "@claude-agent/client";

const client = new ClaudeAgentClient({
  connectionUrl: "http://127.0.0.1:3000",
  model: "claude-sonnet-4-5",
  allowedTools: ["Read"],
  systemPrompt: { type: "preset", preset: "claude_code", append: "Be brief." },
  agents: { reviewer: { description: "Reviews", prompt: "Review." } },
  onError: (error: unknown) => console.error(error),
  e2bApiKey: "ignored",
});
// @ts-expect-error connectionUrl is required
new ClaudeAgentClient({ model: "m" });
// @ts-expect-error permissionMode is one of the CLI's modes
new ClaudeAgentClient({ connectionUrl: "http://h", permissionMode: "sometimes" });

client.send({ type: "interrupt" });
client.send({
  type: "user_message",
  data: { type: "user", session_id: "", parent_tool_use_id: null, message: { role: "user", content: "Hi" } },
});
client.send({
  type: "user_message",
  data: { type: "user", message: { role: "user", content: [{ type: "text", text: "Hi" }] } },
});
// @ts-expect-error no such message type
client.send({ type: "bogus" });
// @ts-expect-error a user message has the role "user"
client.send({ type: "user_message", data: { type: "user", message: { role: "assistant", content: "Hi" } } });

const off: () => void = client.onMessage((message: WSOutputMessage) => {
  if (message.type === "error") {
    const error: string = message.error;
    console.log(error);
  } else if (message.type === "sdk_message") {
    const data: SDKMessage = message.data;
    if (data.type === "result") console.log(data.subtype, data.total_cost_usd);
  }
  // @ts-expect-error frames have no such type
  if (message.type === "bogus") return;
});
off();

for await (const message of client.messages()) {
  // @ts-expect-error `info` frames carry text
  const n: number = message.type === "info" ? message.data : 0;
  console.log(n);
}
