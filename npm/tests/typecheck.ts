// Type-checked (tsc --noEmit, strict) by packaging.test.mjs against the packed package: the
// declarations come from the Rust types, so each `@ts-expect-error` fails the check if a type
// has gone loose (`any`).
import {
  ClaudeAgentClient,
  type CloseInfo,
  type ConnectionState,
  type ControlResult,
  createSession,
  deleteSession,
  getSession,
  listSessions,
  type PermissionDecision,
  type PermissionRequest,
  type SDKMessage,
  type SessionInfo,
  type SessionStatus,
  type WSOutputMessage,
} from "@claude-agent/client";

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
  data: {
    type: "user",
    session_id: "",
    parent_tool_use_id: null,
    message: { role: "user", content: "Hi" },
  },
});
client.send({
  type: "user_message",
  data: { type: "user", message: { role: "user", content: [{ type: "text", text: "Hi" }] } },
});
// @ts-expect-error no such message type
client.send({ type: "bogus" });
client.send({
  type: "user_message",
  // @ts-expect-error a user message has the role "user"
  data: { type: "user", message: { role: "assistant", content: "Hi" } },
});

const off: () => void = client.onMessage((message: WSOutputMessage) => {
  if (message.type === "error") {
    const error: string = message.error;
    console.log(error);
  } else if (message.type === "sdk_message") {
    const data: SDKMessage = message.data;
    if (data.type === "result") console.log(data.subtype, data.total_cost_usd);
    const seq: number | undefined = message.seq;
    console.log(seq);
  } else if (message.type === "user_message") {
    const role: "user" = message.data.message.role;
    console.log(role);
  } else if (message.type === "resync_required") {
    const kept: number = message.oldest_seq;
    console.log(kept);
    // @ts-expect-error resync_required carries no data
    console.log(message.data);
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

// Sessions.
new ClaudeAgentClient({ connectionUrl: "http://h", session: "new", model: "m", reconnect: false });
const attached = new ClaudeAgentClient({ connectionUrl: "http://h", sessionId: "s" });
// @ts-expect-error session is "new" (or absent)
new ClaudeAgentClient({ connectionUrl: "http://h", session: "old" });
// @ts-expect-error reconnect is a boolean
new ClaudeAgentClient({ connectionUrl: "http://h", reconnect: "yes" });

const offState: () => void = attached.onStateChange((state: ConnectionState) => {
  // @ts-expect-error no such state
  if (state === "open") return;
});
offState();
const now: ConnectionState = attached.state;
const id: string | undefined = attached.sessionId;
// @ts-expect-error the id is unknown until the session is
const sure: string = attached.sessionId;
const { code, reason }: CloseInfo = await attached.closed;
console.log(now, id, sure, code, reason);

const sessions: SessionInfo[] = await listSessions("http://h");
const created: SessionInfo = await createSession("http://h", { model: "m" });
await ClaudeAgentClient.createSession("http://h");
// @ts-expect-error the config is QueryConfig
await createSession("http://h", { maxTurns: "x" });
const status: SessionStatus = (await getSession("http://h", created.id)).status;
// @ts-expect-error a status is one of the server's
const sleeping: SessionStatus = "sleeping";
const latest: number = sessions[0].latest_seq;
console.log(status, sleeping, latest);
await deleteSession("http://h", created.id);

// Permission prompts.
const offPrompts: () => void = client.onPermissionRequest((request: PermissionRequest) => {
  const tool: string = request.tool_name;
  const rule = request.permission_suggestions?.find((suggestion) => suggestion.type === "addRules");
  if (rule)
    return { behavior: "allow", updated_permissions: [{ ...rule, destination: "session" }] };
  return { behavior: "deny", message: `Not ${tool}.`, interrupt: true };
});
offPrompts();
client.onPermissionRequest(async () => ({ behavior: "allow", updated_input: { command: "ls" } }));
client.onPermissionRequest(() => undefined);
client.onPermissionRequest(() => {});
// @ts-expect-error a decision allows or denies
client.onPermissionRequest(() => ({ behavior: "maybe" }));
const deny: PermissionDecision = { behavior: "deny", message: "No." };
client.respondToPermission("id", deny);
// @ts-expect-error only an allow carries the input to run with
client.respondToPermission("id", { behavior: "deny", updated_input: {} });
// Live control: each answered by its ControlResult.
const switched: Promise<ControlResult> = client.setModel(null);
switched.then(({ ok, error }) => console.log(ok, error?.length));
client.setPermissionMode("plan");
client.setMaxThinkingTokens(4096);
client.cancelMessage("uuid");
// @ts-expect-error a permission mode is one of the CLI's
client.setPermissionMode("sideways");
client.onMessage((message) => {
  if (message.type === "control_result") console.log(message.data.request_id);
  if (message.type === "permission_request") {
    const input: Record<string, unknown> = message.data.input;
    console.log(input, message.data.blocked_path);
  } else if (message.type === "permission_resolved") {
    const { by, reason } = message.data;
    // @ts-expect-error a prompt is answered, cancelled or timed out
    if (reason === "ignored") console.log(by);
  } else if (message.type === "connected") {
    const waiting: PermissionRequest[] | undefined = message.pending_permissions;
    console.log(waiting);
  }
});
