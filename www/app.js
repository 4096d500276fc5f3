// The page's wiring: the settings make a ClaudeAgentClient on connect, its frames go to the
// conversation, the composer sends through it.
import { ClaudeAgentClient } from "/client/web.js";
import { conversation } from "./conversation.js";

const $ = (id) => document.getElementById(id);
const settings = $("settings");
const composer = $("composer");
const view = conversation($("conversation"));

let client = null; // the current connection's; frames and events of older ones are ignored
let state = "idle"; // idle, connecting, connected, refused, failed, disconnected
let running = false; // a turn runs: from a send until its result
let apiKey = ""; // kept in memory for reconnects (the config is replaced on each), never shown

const STATES = {
  idle: "Not connected",
  connecting: "Connecting…",
  connected: "Connected",
  refused: "Refused: another client is connected",
  failed: "Not connected",
  disconnected: "Disconnected",
};

function show(next, detail = "") {
  state = next;
  $("status").dataset.state = next;
  $("status-state").textContent = STATES[next];
  $("status-detail").textContent = detail;
  update();
}

function setRunning(value) {
  running = value;
  update();
}

/** Enables what can be done now. */
function update() {
  const connected = state === "connected";
  $("connect").disabled = state === "connecting";
  $("connect").textContent = state === "idle" ? "Connect" : "Reconnect";
  $("disconnect").disabled = !connected;
  $("send").disabled = !connected || running;
  $("interrupt").disabled = !connected || !running;
}

/** The client's options from the settings; empty fields are left to the server. */
function options() {
  const field = (name) => settings.elements[name].value.trim();
  const tools = field("allowedTools").split(",").map((t) => t.trim()).filter(Boolean);
  if (field("apiKey")) apiKey = field("apiKey");
  // Out of the page as soon as it is read.
  settings.elements.apiKey.value = "";
  settings.elements.apiKey.placeholder = apiKey ? "set (kept for reconnects)" : "the server's";
  return {
    connectionUrl: location.origin,
    // Always given, so that every connect posts (and so replaces) the whole config.
    systemPrompt: settings.elements.systemPrompt.value,
    model: field("model") || undefined,
    permissionMode: field("permissionMode") || undefined,
    allowedTools: tools.length ? tools : undefined,
    anthropicApiKey: apiKey || undefined,
    includePartialMessages: settings.elements.includePartialMessages.checked || undefined,
  };
}

async function connect() {
  const previous = client;
  client = null;
  await previous?.stop();
  setRunning(false);
  show("connecting");
  let next;
  try {
    next = new ClaudeAgentClient(options());
  } catch (error) {
    return show("failed", error.message);
  }
  client = next;
  next.onMessage((frame) => client === next && onFrame(frame));
  try {
    await next.start();
  } catch (error) {
    if (client !== next) return;
    const refused = error.message.startsWith("The server refused the connection");
    return show(refused ? "refused" : "failed", error.message);
  }
  if (client !== next) return;
  $("settings-panel").open = false;
  show("connected");
  for await (const _frame of next.messages()) {} // ends when the connection closes
  if (client !== next) return;
  setRunning(false);
  show("disconnected");
}

function onFrame(frame) {
  view.frame(frame);
  // A result ends the turn; an error means the agent died or refused the message: none comes.
  if ((frame.type === "sdk_message" && frame.data.type === "result") || frame.type === "error") setRunning(false);
}

function send() {
  const text = $("message").value;
  if (!text.trim() || $("send").disabled) return;
  try {
    client.sendText(text);
  } catch (error) {
    return view.problem(error.message);
  }
  view.sent(text);
  $("message").value = "";
  setRunning(true);
}

settings.addEventListener("submit", (event) => {
  event.preventDefault();
  connect();
});
$("disconnect").addEventListener("click", () => client?.stop());
composer.addEventListener("submit", (event) => {
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
update();
