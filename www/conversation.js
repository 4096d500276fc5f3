// The conversation: one list entry per frame from the server (and per message sent), each
// with its full JSON; tool calls as cards that later receive their results.
import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

/** Renders into the list `list`; returns what the page tells it. */
export function conversation(list) {
  const toolResults = new Map(); // tool_use id → the result slot of its card
  let live = null; // the text streaming in (token streaming), until its whole message comes

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

  function add(kind, label, body, frame) {
    // Follow new entries only if the reader is at the bottom already.
    const page = document.scrollingElement;
    const atBottom = page.scrollTop + page.clientHeight >= page.scrollHeight - 80;
    const entry = h("li", { class: `entry ${kind}` }, h("p", { class: "who" }, label), ...body, frame && json(frame));
    list.append(entry);
    if (atBottom) page.scrollTop = page.scrollHeight;
    return entry;
  }

  function sdkMessage(frame) {
    const data = frame.data;
    switch (data.type) {
      case "assistant":
        endLive();
        return add("assistant", "Claude", (data.message?.content ?? []).map(block), frame);
      case "user": {
        const content = data.message?.content;
        const blocks = typeof content === "string" ? [{ type: "text", text: content }] : (content ?? []);
        const rest = blocks.filter((b) => !(b.type === "tool_result" && toolResult(b, frame)));
        if (rest.length) add("user", "User", rest.map(block), frame);
        return;
      }
      case "result":
        endLive();
        return add(data.is_error ? "result failed" : "result", "Result", [resultStats(data)], frame);
      case "system":
        return add("system", `System: ${data.subtype ?? ""}`, [], frame);
      case "stream_event":
        return streamEvent(data.event);
      default:
        return add("system", String(data.type), [], frame);
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
        return h("details", { class: "thinking" }, h("summary", {}, "Thinking"), h("p", {}, String(b.thinking)));
      default:
        return h("p", { class: "muted" }, `[${b.type} block]`);
    }
  }

  function toolCard(use) {
    const result = h("div", { class: "tool-result" }, h("p", { class: "muted" }, "Waiting for the result…"));
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
    slot.replaceChildren(h("pre", { class: "tool-output" }, resultText(b.content) || "(no output)"), json(frame));
    return true;
  }

  return {
    /** A frame from the server. */
    frame(frame) {
      switch (frame.type) {
        case "sdk_message":
          return sdkMessage(frame);
        case "info":
          return add("info", "Info", [h("p", { class: "plain" }, String(frame.data))], frame);
        case "error":
          return add("error", "Error", [h("p", { class: "plain" }, String(frame.error))], frame);
        case "connected":
          return add("system", "Connected", [h("p", { class: "plain" }, `Session ${frame.session_id}`)], frame);
        default:
          return add("system", String(frame.type), [], frame);
      }
    },
    /** What the person sent. */
    sent(text) {
      add("mine", "You", [h("p", { class: "plain" }, text)]);
    },
    /** A problem on this side (nothing the server said). */
    problem(text) {
      add("error", "Error", [h("p", { class: "plain" }, text)]);
    },
  };
}

/** A collapsed view of `frame`'s JSON, written out only when opened. */
function json(frame) {
  const pre = h("pre");
  const details = h("details", { class: "json" }, h("summary", {}, "JSON"), pre);
  details.addEventListener("toggle", () => (pre.textContent ||= JSON.stringify(frame, null, 2)), { once: true });
  return details;
}

/** Duration, tokens and cost of a turn's `result`. */
function resultStats(data) {
  const usage = data.usage ?? {};
  const stat = (term, value) => h("div", {}, h("dt", {}, term), h("dd", {}, value));
  return h(
    "dl",
    { class: "stats" },
    stat("Outcome", data.subtype === "success" ? "success" : String(data.subtype)),
    stat("Duration", `${((data.duration_ms ?? 0) / 1000).toFixed(2)} s`),
    stat("Tokens", `${usage.input_tokens ?? 0} in · ${usage.output_tokens ?? 0} out`),
    stat("Session cost", dollars(data.total_cost_usd ?? 0)),
  );
}

/** `$0.1234`, or six decimals for amounts under a cent (a short turn costs hundredths of one). */
const dollars = (amount) => `$${amount.toFixed(amount < 0.01 ? 6 : 4)}`;

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
