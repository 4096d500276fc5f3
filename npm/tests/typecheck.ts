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
  type EntryInfo,
  type FilesystemEvent,
  FilesystemEventType,
  getSession,
  listSessions,
  type PermissionDecision,
  type PermissionRequest,
  type SDKMessage,
  type SessionInfo,
  type SessionStatus,
  type WatchHandle,
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
// @ts-expect-error connectionUrl is a URL
new ClaudeAgentClient({ connectionUrl: 3000 });
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

// The server's token.
new ClaudeAgentClient({ connectionUrl: "http://h", token: "t" });
// @ts-expect-error a token is a string
new ClaudeAgentClient({ connectionUrl: "http://h", token: 1 });
await listSessions("http://h", { token: "t" });
await createSession("http://h", undefined, { token: "t" });

// E2B mode, as the original's example makes its client: no connectionUrl.
const sandboxed = new ClaudeAgentClient({ debug: true });
new ClaudeAgentClient();
new ClaudeAgentClient({
  e2bApiKey: "key",
  anthropicApiKey: "key",
  template: "claude-agent-server",
  timeoutMs: 300_000,
  readyTimeoutMs: 60_000,
  e2bApiUrl: "http://127.0.0.1:1",
  e2bDomain: "localhost:1",
});
// @ts-expect-error a timeout is a number of milliseconds
new ClaudeAgentClient({ timeoutMs: "5m" });

// The original example's files calls, e2b-shaped.
const watchHandle: WatchHandle = await sandboxed.watchDir(
  ".",
  (event: FilesystemEvent) => {
    const labels: Record<string, string> = {
      [FilesystemEventType.CREATE]: "Created",
      [FilesystemEventType.WRITE]: "Modified",
      [FilesystemEventType.REMOVE]: "Deleted",
      [FilesystemEventType.RENAME]: "Renamed",
      [FilesystemEventType.CHMOD]: "Permissions changed",
    };
    const name: string = event.name;
    console.log(labels[event.type], name, event.path);
    // @ts-expect-error a type is one of FilesystemEventType's
    if (event.type === "created") console.log(name);
  },
  { recursive: true, onExit: (error?: Error) => console.log(error?.message) },
);
await sandboxed.watchDir("sub", async () => {});
await sandboxed.writeFile("input.txt", "Hello! This is a test file created by the user.");
await sandboxed.writeFile("a.bin", new Uint8Array([1]));
await sandboxed.writeFile("b.bin", new Blob(["b"]));
const written: EntryInfo = await sandboxed.writeFile("c.bin", new ArrayBuffer(1));
// @ts-expect-error content is text or bytes
await sandboxed.writeFile("x", 42);
const content: string = await sandboxed.readFile("input.txt", "text");
const same: string = await sandboxed.readFile("input.txt");
const blob: Blob = await sandboxed.readFile("a.bin", "blob");
const format = Math.random() > 0.5 ? "text" : "blob";
const either: string | Blob = await sandboxed.readFile("input.txt", format);
// @ts-expect-error a format is "text" or "blob"
await sandboxed.readFile("x", "json");
console.log(content.toString(), same, blob.size, either, written.size);
const entries: EntryInfo[] = await sandboxed.listFiles();
const modified: Date = entries[0].modifiedTime;
const kind: "file" | "dir" = (await sandboxed.listFiles("."))[0].type;
console.log(modified, kind);
await sandboxed.removeFile("input.txt");
await watchHandle.stop();
await sandboxed.stop();
