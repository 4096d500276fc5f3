// The conversation: one list entry per frame from the server, each with its full JSON; tool
// calls as cards that later receive their results; permission prompts as approval cards that
// later show how they ended; messages waiting behind the running turn marked queued, with a
// button that withdraws them. Setup frames (`connected`, notices, the agent's system messages) go
// to collapsed groups: they are rarely what the reader is after.
import { h } from "./dom.js";
import { dollars } from "./format.js";
import { renderMarkdown } from "./markdown.js";
import { promptCard } from "./permissions.js";

/**
 * Renders into the list `list`; returns what the page tells it. `answer(requestId, decision)`
 * sends a permission decision, false if it could not; `withdraw(uuid)` withdraws a queued
 * message, resolving false if it could not.
 */
export function conversation(list, { answer, withdraw }) {
  const toolResults = new Map(); // tool_use id → the result slot of its card
  const approvals = new Map(); // permission request id → its entry and card
  const messages = new Map(); // user message uuid → its entry
  const lifecycles = new Map(); // user message uuid → its latest `command_lifecycle` state
  let live = null; // the text streaming in (token streaming), until its whole message comes
  let setup = null; // the setup group that setup frames join, until another entry comes

  /** Appends a token-streaming text delta to the live entry. */
  function streamEvent(event) {
    if (event?.type !== "content_block_delta" || event.delta?.type !== "text_delta") return;
    if (!live) {
      live = add("assistant live", "Claude (writing…)", [h("p", { class: "plain" })]);
      live.setAttribute("aria-hidden", "true"); // screen readers hear the whole message, once
    }
    live.querySelector(".plain").append(String(event.delta.text));
  }

  /** The whole message has come (or the turn ended): it replaces the live text. */
  function endLive() {
    live?.remove();
    live = null;
  }

  /** Appends `entry` to the list, and follows it if the reader is at the bottom already. */
  function append(entry) {
    const page = document.scrollingElement;
    const atBottom = page.scrollTop + page.clientHeight >= page.scrollHeight - 80;
    list.append(entry);
    if (atBottom) page.scrollTop = page.scrollHeight;
    return entry;
  }

  function add(kind, label, body, frame) {
    setup = null;
    const who = h("p", { class: "who" }, label);
    return append(h("li", { class: `entry ${kind}` }, who, ...body, frame && json(frame)));
  }

  /** Adds a setup frame to the open setup group, or to a new one. */
  function addSetup(label, body, frame) {
    if (!setup) {
      const summary = h("summary");
      const items = h("ul");
      append(h("li", { class: "entry setup" }, h("details", {}, summary, items)));
      setup = { summary, items, labels: [] };
    }
    setup.items.append(h("li", {}, h("p", { class: "who" }, label), ...body, json(frame)));
    setup.labels.push(label);
    const kinds = [...new Set(setup.labels)].join(", ");
    setup.summary.textContent = `Setup (${setup.labels.length}): ${kinds}`;
  }

  function sdkMessage(frame) {
    const data = frame.data;
    switch (data.type) {
      case "assistant":
        endLive();
        return add("assistant", "Claude", (data.message?.content ?? []).map(block), frame);
      case "user": {
        const rest = blocksOf(data.message?.content).filter(
          (b) => !(b.type === "tool_result" && toolResult(b, frame)),
        );
        if (rest.length) add("user", "User", rest.map(block), frame);
        return;
      }
      case "result": {
        endLive();
        const failed = data.is_error || String(data.subtype).startsWith("error");
        const [kind, label] = failed ? ["result failed", "Result: failed"] : ["result", "Result"];
        return add(kind, label, [resultStats(data, failed)], frame);
      }
      case "stream_event":
        return streamEvent(data.event);
      case "system":
        return addSetup(`System: ${data.subtype ?? ""}`, [], frame);
      case "command_lifecycle":
        lifecycle(String(data.command_uuid), String(data.state));
        return addSetup(String(data.type), [], frame);
      default: // the agent's bookkeeping
        return addSetup(String(data.type), [], frame);
    }
  }

  /** A message of any client of the session, as the agent got it: shown once, for every tab. */
  function userMessage(frame) {
    const text = (b) => (b.type === "text" ? String(b.text) : `[${b.type} block]`);
    const body = blocksOf(frame.data?.message?.content).map((b) =>
      h("p", { class: b.type === "text" ? "plain" : "muted" }, text(b)),
    );
    const entry = add("mine", "You", body, frame);
    const uuid = frame.data?.uuid;
    if (typeof uuid !== "string") return;
    entry.dataset.uuid = uuid;
    messages.set(uuid, entry);
    if (lifecycles.has(uuid)) queueState(entry, lifecycles.get(uuid));
  }

  /** The CLI took in, started, finished or withdrew the message `uuid`. */
  function lifecycle(uuid, state) {
    lifecycles.set(uuid, state);
    const entry = messages.get(uuid);
    if (entry) queueState(entry, state);
  }

  /** Marks a message queued (with its withdraw button), withdrawn, or neither once it runs. */
  function queueState(entry, state) {
    const note = entry.querySelector(":scope > .queue-note");
    if (state === "queued") {
      if (entry.dataset.queue === "queued") return;
      entry.dataset.queue = "queued";
      const button = h("button", { type: "button", class: "withdraw" }, "Withdraw");
      button.addEventListener("click", async () => {
        button.disabled = true;
        if (!(await withdraw(entry.dataset.uuid))) button.disabled = false;
      });
      const waits = h("p", { class: "queue-note" }, "Queued: waits for the running turn", button);
      entry.querySelector(":scope > .who").after(waits);
    } else if (state === "cancelled") {
      entry.dataset.queue = "withdrawn";
      const gone = h("p", { class: "queue-note" }, "Withdrawn: it never ran");
      if (note) note.replaceWith(gone);
      else entry.querySelector(":scope > .who").after(gone);
    } else if (entry.dataset.queue === "queued") {
      delete entry.dataset.queue; // started, or over
      note?.remove();
    }
  }

  function block(b) {
    switch (b.type) {
      case "text":
        return h("div", { class: "markdown" }, renderMarkdown(String(b.text)));
      case "tool_use":
        return toolCard(b);
      case "tool_result":
        return h("pre", { class: "tool-output" }, resultText(b.content));
      case "thinking":
        return h(
          "details",
          { class: "thinking" },
          h("summary", {}, "Thinking"),
          h("p", {}, String(b.thinking)),
        );
      default:
        return h("p", { class: "muted" }, `[${b.type} block]`);
    }
  }

  function toolCard(use) {
    const waiting = h("p", { class: "muted" }, "Waiting for the result…");
    const result = h("div", { class: "tool-result" }, waiting);
    toolResults.set(use.id, result);
    return h(
      "details",
      { class: "tool", "data-tool-use-id": use.id },
      h(
        "summary",
        {},
        h("span", { class: "tool-name" }, String(use.name)),
        " ",
        h("span", { class: "muted" }, gist(use.input)),
      ),
      h("p", { class: "label" }, "Input"),
      h("pre", { class: "tool-input" }, JSON.stringify(use.input, null, 2)),
      h("p", { class: "label" }, "Result"),
      result,
    );
  }

  /** Puts a tool result into its card; false if no card asked for it. */
  function toolResult(b, frame) {
    const slot = toolResults.get(b.tool_use_id);
    if (!slot) return false;
    slot.closest(".tool").classList.add(b.is_error ? "failed" : "done");
    const output = h("pre", { class: "tool-output" }, resultText(b.content) || "(no output)");
    slot.replaceChildren(output, json(frame));
    return true;
  }

  /**
   * A permission prompt: its approval card, once. One shown already (from `connected`'s list)
   * moves here, to its place in the history being replayed.
   */
  function permissionRequest(request, frame) {
    const shown = approvals.get(request.request_id);
    if (shown) {
      setup = null;
      return append(shown.entry);
    }
    const card = promptCard(request, (decision) => answer(request.request_id, decision));
    const [kind, label] = PROMPT_KINDS[request.tool_name] ?? ["permission", "Permission request"];
    const entry = add(kind, label, card.nodes, frame);
    entry.dataset.state = "waiting";
    approvals.set(request.request_id, { entry, card });
  }

  /** A prompt is over: its card says how. */
  function permissionResolved(frame) {
    const shown = approvals.get(frame.data.request_id);
    if (!shown) return addSetup("permission_resolved", [], frame); // its prompt is gone from the history
    if (shown.entry.dataset.state === "waiting") {
      shown.entry.dataset.state = shown.card.resolve(frame.data);
    }
  }

  return {
    /** Prompts waiting for an answer. */
    get waiting() {
      return list.querySelectorAll('.entry.permission[data-state="waiting"]').length;
    },
    /** A frame from the server. */
    frame(frame) {
      const plain = (text) => [h("p", { class: "plain" }, String(text))];
      switch (frame.type) {
        case "sdk_message":
          return sdkMessage(frame);
        case "user_message":
          return userMessage(frame);
        case "error":
          return add("error", "Error", plain(frame.error), frame);
        case "info":
          return addSetup("Info", plain(frame.data), frame);
        case "connected":
          addSetup("Connected", plain(`Session ${frame.session_id}`), frame);
          // The prompts waiting now, shown at once: the history that follows may no longer
          // hold their frames (if it does, they move to their place in it).
          for (const request of frame.pending_permissions ?? []) {
            if (!approvals.has(request.request_id)) permissionRequest(request);
          }
          return;
        case "permission_request":
          return permissionRequest(frame.data, frame);
        case "permission_resolved":
          return permissionResolved(frame);
        default:
          return addSetup(String(frame.type), [], frame);
      }
    },
    /** A problem on this side (nothing the server said). */
    problem(text) {
      add("error", "Error", [h("p", { class: "plain" }, text)]);
    },
    /** Empties the list, for another session or its history again. */
    clear() {
      list.replaceChildren();
      toolResults.clear();
      approvals.clear();
      messages.clear();
      lifecycles.clear();
      live = null;
      setup = null;
    },
  };
}

/** The entry kind and label of the prompts that are not tool permissions. */
const PROMPT_KINDS = {
  AskUserQuestion: ["permission question", "Question"],
  ExitPlanMode: ["permission plan", "Plan"],
};

/** A message's content as blocks: a string is one text block. */
function blocksOf(content) {
  return typeof content === "string" ? [{ type: "text", text: content }] : (content ?? []);
}

/** A collapsed view of `frame`'s JSON, written out only when opened. */
function json(frame) {
  const pre = h("pre");
  const details = h("details", { class: "json" }, h("summary", {}, "JSON"), pre);
  const write = () => (pre.textContent ||= JSON.stringify(frame, null, 2));
  details.addEventListener("toggle", write, { once: true });
  return details;
}

/** Outcome, duration, tokens and cost of a turn's `result`. */
function resultStats(data, failed) {
  const usage = data.usage ?? {};
  const stat = (term, value) => h("div", {}, h("dt", {}, term), h("dd", {}, value));
  return h(
    "dl",
    { class: "stats" },
    stat("Outcome", failed ? `failed: ${failure(data)}` : String(data.subtype)),
    stat("Duration", `${((data.duration_ms ?? 0) / 1000).toFixed(2)} s`),
    stat("Tokens", `${usage.input_tokens ?? 0} in · ${usage.output_tokens ?? 0} out`),
    stat("Session cost", dollars(data.total_cost_usd ?? 0)),
  );
}

/** Why a turn failed: its error subtype, else the API's error status (with subtype success). */
function failure(data) {
  if (String(data.subtype).startsWith("error")) return String(data.subtype);
  if (data.api_error_status) return `API error ${data.api_error_status}`;
  return String(data.terminal_reason ?? "error");
}

/** A tool result's content: a string, or blocks of which the text ones are shown. */
function resultText(content) {
  if (typeof content === "string") return content;
  return (content ?? []).map((b) => (b.type === "text" ? b.text : `[${b.type}]`)).join("\n");
}

/** A one-line hint of a tool's input: its command, path or first string. */
function gist(input) {
  const first = Object.values(input ?? {}).find((value) => typeof value === "string");
  const text = String(input?.command ?? input?.file_path ?? first ?? "");
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
