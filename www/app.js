// The page's wiring: the session in the URL (`?session=<id>`) gets a ClaudeAgentClient whose
// frames (the whole history, then live) go to the conversation; the session list opens,
// creates and deletes sessions; the composer sends through the client, and so do the approval
// cards of permission prompts, the withdraw buttons of queued messages, and the header's live
// model and permission mode.
import { ClaudeAgentClient, deleteSession, getSession, listSessions } from "/client/web.js";
import { conversation } from "./conversation.js";
import { sessionList } from "./sessions.js";
import { turns } from "./turns.js";

const $ = (id) => document.getElementById(id);
const server = location.origin;
const settings = $("settings");
const view = conversation($("conversation"), { answer, withdraw });
const turn = turns();
const sessions = sessionList($("sessions"), { open: (id) => go(id), remove });
const POLL_MS = 10_000; // the list also changes with other tabs' and clients' doings

let client = null; // the current session's; frames and events of older ones are ignored
let replayUntil = 0; // the history being replayed ends at this seq (0: none is)
let connectedFrame = null; // the current connection's first frame, which lists waiting prompts
let state = "none"; // none, then the client's: connecting, connected, reconnecting, closed; failed
let apiKey = ""; // for the sessions this page creates: in memory only, never shown

const STATES = {
  none: "No session",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  closed: "Closed",
  failed: "Not connected",
};

function show(next, detail = "") {
  state = next;
  $("status").dataset.state = next;
  $("status-state").textContent = STATES[next];
  $("status-detail").textContent = detail;
  update();
}

/** Enables what can be done now. */
function update() {
  const connected = state === "connected";
  $("new-session").disabled = state === "connecting";
  $("send").disabled = !connected && !sendCreates();
  $("interrupt").disabled = !connected || !turn.running;
  $("live-fields").disabled = !connected;
  $("activity").textContent = view.waiting
    ? "Claude is waiting for your approval…"
    : turn.running
      ? "Claude is working…"
      : "";
}

/** With no session open (nor one on its way), sending creates one. */
const sendCreates = () => state !== "connecting" && state !== "connected" && !urlSession();

/** The session the URL names, or null. */
const urlSession = () => new URLSearchParams(location.search).get("session");

/** Puts `id` (or no session) in the URL; `how` is a `history` method. */
function setUrl(id, how = "pushState") {
  const url = new URL(location.href);
  if (id) url.searchParams.set("session", id);
  else url.searchParams.delete("session");
  if (url.href !== location.href) history[how](null, "", url);
}

/** The new session's config from the settings; empty fields are left to the server. */
function config() {
  const field = (name) => settings.elements[name].value.trim();
  const tools = field("allowedTools")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (field("apiKey")) apiKey = field("apiKey");
  // Out of the page as soon as it is read.
  settings.elements.apiKey.value = "";
  settings.elements.apiKey.placeholder = apiKey ? "set (kept for new sessions)" : "the server's";
  return {
    systemPrompt: settings.elements.systemPrompt.value || undefined,
    model: field("model") || undefined,
    permissionMode: field("permissionMode") || undefined,
    allowedTools: tools.length ? tools : undefined,
    anthropicApiKey: apiKey || undefined,
    includePartialMessages: settings.elements.includePartialMessages.checked || undefined,
  };
}

/** Lets the current session go: its frames and events are ignored from now on. */
function detach() {
  client?.stop();
  client = null;
  connectedFrame = null;
  $("live-model").value = "";
  $("live-mode").value = "";
  liveNote("");
  view.clear();
  turn.reset();
  replaying(0);
}

/** Connects to a session (`{ sessionId }`, or `{ session: "new", ...config }`); true once done. */
async function attach(options) {
  detach();
  show("connecting");
  let next;
  try {
    next = new ClaudeAgentClient({ connectionUrl: server, ...options });
  } catch (error) {
    show("failed", error.message);
    return false;
  }
  client = next;
  const ifCurrent =
    (then) =>
    (...args) =>
      client === next && then(...args);
  next.onMessage(ifCurrent(onFrame));
  next.onStateChange(ifCurrent((now) => now !== "closed" && show(now, sessionName(next))));
  next.closed.then(ifCurrent((info) => show("closed", info.reason)));
  try {
    await next.start();
  } catch (error) {
    const reason = await why(error, options.sessionId);
    if (client === next) show("failed", reason);
    return false;
  }
  if (client === next) $("settings-panel").open = false;
  return client === next;
}

/** Why the session `id` (if any) could not be opened: a failed WebSocket does not say. */
async function why(error, id) {
  if (!id) return error.message;
  try {
    await getSession(server, id);
  } catch (gone) {
    if (gone.code === "session_not_found") return `There is no session ${id} (any more).`;
  }
  return error.message;
}

const sessionName = (client) => (client.sessionId ? `Session ${client.sessionId}` : "");

/** Opens the session `id` (null: none), as the URL says. */
async function openSession(id) {
  if (!id) {
    detach();
    show("none", "Create a session, or open one from the list.");
    $("settings-panel").open = true;
  } else {
    await attach({ sessionId: id });
  }
  refreshSessions();
}

/** Switches to the session `id`, and puts it in the URL. */
function go(id) {
  setUrl(id);
  return openSession(id);
}

/** Creates a session with the settings and opens it; true once connected. */
async function create() {
  setUrl(null);
  const created = await attach({ session: "new", ...config() });
  if (created) setUrl(client.sessionId, "replaceState");
  refreshSessions();
  return created;
}

/** Says what went wrong with the sessions (`from` a list request or an action), or clears it. */
function sessionsProblem(text, from = "action") {
  $("sessions-problem").textContent = text;
  $("sessions-problem").dataset.from = from;
}

async function remove(id) {
  sessionsProblem("");
  try {
    await deleteSession(server, id);
  } catch (error) {
    return sessionsProblem(`Could not delete the session: ${error.message}`);
  }
  if (id === urlSession()) {
    setUrl(null, "replaceState");
    await openSession(null);
  } else {
    refreshSessions();
  }
}

let listing = false; // a list request is under way
let relist = false; // and another was asked for meanwhile: its answer may be stale already
/** Shows the server's sessions anew; one request at a time, however often it is asked. */
async function refreshSessions() {
  if (listing) return void (relist = true);
  listing = true;
  try {
    sessions.render(await listSessions(server), urlSession());
    if ($("sessions-problem").dataset.from === "list") sessionsProblem("");
  } catch (error) {
    sessionsProblem(`Could not list the sessions: ${error.message}`, "list");
  }
  listing = false;
  if (relist) {
    relist = false;
    refreshSessions();
  }
}

/** Screen readers wait while the history is replayed, rather than hear all of it. */
function replaying(until) {
  replayUntil = until;
  if (until) $("conversation").setAttribute("aria-busy", "true");
  else $("conversation").removeAttribute("aria-busy");
}

/** The frames that change which permission prompts wait. */
const PROMPTS = new Set(["connected", "permission_request", "permission_resolved"]);

function onFrame(frame) {
  // Everything kept follows, from the start; the prompts waiting stay shown.
  if (frame.type === "resync_required") {
    view.clear();
    turn.reset();
    view.frame(connectedFrame);
  }
  if (frame.type === "connected") {
    connectedFrame = frame;
    replaying(frame.latest_seq > (frame.after ?? 0) ? frame.latest_seq : 0);
  }
  view.frame(frame);
  if (frame.type === "sdk_message" && frame.data.type === "system") showLive(frame.data);
  if (replayUntil && frame.seq >= replayUntil) replaying(0);
  const turned = turn.frame(frame);
  if (turned || PROMPTS.has(frame.type)) update();
  if (turned) refreshSessions(); // the session's status changed, and at a turn's end its cost
}

/** Answers the permission prompt `requestId` (an approval card's button); false if it could not. */
function answer(requestId, decision) {
  try {
    client.respondToPermission(requestId, decision);
    return true;
  } catch (error) {
    view.problem(error.message);
    return false;
  }
}

/** Withdraws the queued message `uuid` (its withdraw button); resolves false if it could not. */
async function withdraw(uuid) {
  try {
    await client.cancelMessage(uuid);
    return true;
  } catch (error) {
    view.problem(`Could not withdraw the message: ${error.message}`);
    return false;
  }
}

/** The model and permission mode the agent says it runs with (`system` messages). */
function showLive(data) {
  const editing = (field) => document.activeElement === field;
  if (typeof data.model === "string" && !editing($("live-model"))) {
    $("live-model").value = data.model;
  }
  if (typeof data.permissionMode === "string" && !editing($("live-mode"))) {
    $("live-mode").value = data.permissionMode;
  }
}

/** Says how a live change went (`state`: pending, ok, failed), or clears it. */
function liveNote(text, state = "") {
  $("live-note").textContent = text;
  $("live-note").dataset.state = state;
}

/** Applies a live change (`change(client)`, a control's promise) to the open session. */
async function control(what, change) {
  const mine = client;
  liveNote(`${what}…`, "pending");
  try {
    await change(mine);
    if (client === mine) liveNote(`${what}: done`, "ok");
  } catch (error) {
    if (client === mine) liveNote(`Could not ${what.toLowerCase()}: ${error.message}`, "failed");
  }
}

/** A new message's id, by which the CLI reports it queued, started or withdrawn. */
function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

async function send() {
  const text = $("message").value;
  if (!text.trim() || $("send").disabled) return;
  if (sendCreates() && !(await create())) return;
  try {
    client.send({
      type: "user_message",
      data: {
        type: "user",
        session_id: "",
        parent_tool_use_id: null,
        uuid: newUuid(),
        message: { role: "user", content: text },
      },
    });
  } catch (error) {
    return view.problem(error.message);
  }
  // Shown when the server echoes it, as to every client of the session.
  $("message").value = "";
}

/**
 * In demo mode (`GET /config` says so) the banner says whose replies these are, and token
 * streaming starts on, so that the replies are seen being written.
 */
function showDemoMode(config) {
  if (config.demo !== true) return;
  $("demo-banner").hidden = false;
  settings.elements.includePartialMessages.checked = true;
}

/**
 * Asks for the server's token. A token that the server takes is sent in the page's address,
 * which the server trades for a cookie (kept from scripts) and takes out of the address.
 */
function askForToken() {
  const dialog = $("token-dialog");
  const form = $("token-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    const tried = await fetch(`${server}/config`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!tried.ok) {
      $("token-problem").textContent = (await tried.json()).error ?? tried.statusText;
      return;
    }
    const address = new URLSearchParams(location.search);
    address.set("token", token);
    location.assign(`./?${address}`);
  });
  dialog.showModal();
}

/** Opens the page's session once the server lets the page in; else asks for the token. */
async function start() {
  const config = await fetch(`${server}/config`);
  if (config.status === 401) return askForToken();
  setInterval(() => document.visibilityState === "visible" && refreshSessions(), POLL_MS);
  openSession(urlSession());
  // A server that cannot say runs no demo.
  showDemoMode(await config.json().catch(() => ({})));
}

settings.addEventListener("submit", (event) => {
  event.preventDefault();
  create();
});
$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
$("message").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
$("interrupt").addEventListener("click", () => {
  try {
    client.interrupt();
  } catch (error) {
    view.problem(error.message);
  }
});
$("live").addEventListener("submit", (event) => {
  event.preventDefault();
  const model = $("live-model").value.trim() || null;
  control(`Switch to ${model ?? "the default model"}`, (c) => c.setModel(model));
});
$("live-mode").addEventListener("change", () => {
  const mode = $("live-mode").value;
  control(`Switch to ${mode} mode`, (c) => c.setPermissionMode(mode));
});
addEventListener("popstate", () => openSession(urlSession()));
start().catch((error) => view.problem(error.message));
