// The session list: each session's status, last activity and cost, a button to open it and one
// to delete it; the page's own session is marked.
import { h } from "./dom.js";
import { dollars, moment } from "./format.js";

/** Renders into the list `list`; `open(id)` and `remove(id)` are the buttons' actions. */
export function sessionList(list, { open, remove }) {
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-id]");
    if (!button) return;
    (button.dataset.action === "open" ? open : remove)(button.dataset.id);
  });

  return {
    /** Shows `sessions` (SessionInfo[]), `current` (an id or null) marked. */
    render(sessions, current) {
      // Rendered anew each time: keep a keyboard user's place.
      const focused = list.contains(document.activeElement) ? document.activeElement : null;
      list.replaceChildren(...sessions.map((session) => item(session, session.id === current)));
      if (sessions.length === 0) list.append(h("li", { class: "muted" }, "No sessions yet."));
      if (focused) {
        const { id, action } = focused.dataset;
        const same = `button[data-id="${CSS.escape(id)}"][data-action="${action}"]`;
        list.querySelector(same)?.focus();
      }
    },
  };
}

function item(session, current) {
  // The server's default session (the original's /config and /ws) cannot be deleted.
  const name = session.default ? "Default session" : `Session ${session.id.slice(0, 8)}`;
  const button = (action, attrs, ...children) => {
    const data = { "data-id": session.id, "data-action": action };
    return h("button", { type: "button", ...data, ...attrs }, ...children);
  };
  return h(
    "li",
    { class: "session", "data-status": session.status },
    button(
      "open",
      { class: "open", "aria-current": current ? "true" : null },
      h("span", { class: "name" }, name, current && h("span", { class: "current" }, " (open)")),
      h(
        "span",
        { class: "meta" },
        h("span", { class: "session-status" }, session.status),
        session.model && ` · ${session.model}`,
        " · ",
        h("time", { datetime: session.last_activity_at }, moment(session.last_activity_at)),
        " · ",
        dollars(session.total_cost_usd ?? 0),
      ),
    ),
    !session.default &&
      button("delete", { class: "delete", "aria-label": `Delete ${name}` }, "Delete"),
  );
}
