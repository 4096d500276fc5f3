// Approval cards: a permission prompt of the session (the agent asks whether a tool may run),
// what the tool would do, and the buttons that answer it. Every tab of the session shows the
// card; once any client answers, each shows how it ended instead of the buttons.
import { h } from "./dom.js";

/**
 * The card's nodes for `request` (a PermissionRequest), and `resolve(data)`, which shows how it
 * ended (a PermissionResolved) and returns the card's state for it. `answer(decision)` sends a
 * decision; false if it could not (the buttons are then usable again).
 */
export function approvalCard(request, answer) {
  const tool = String(request.display_name ?? request.tool_name);
  const rule = alwaysAllowRule(request);
  const buttons = [];
  const send = (decision) => {
    for (const button of buttons) button.disabled = true; // one answer, not one a click
    if (!answer(decision)) for (const button of buttons) button.disabled = false;
  };
  const button = (label, kind, decide) => {
    const node = h("button", { type: "button", class: kind }, label);
    node.addEventListener("click", () => send(decide()));
    buttons.push(node);
    return node;
  };

  const message = h("input", { class: "deny-message", autocomplete: "off" });
  const deny = () => {
    const why = message.value.trim();
    return why ? { behavior: "deny", message: why } : { behavior: "deny" };
  };
  message.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    send(deny());
  });
  const controls = h(
    "div",
    { class: "permission-controls" },
    h(
      "div",
      { class: "actions" },
      button("Allow", "allow", () => ({ behavior: "allow" })),
      rule &&
        button("Always allow", "always", () => ({
          behavior: "allow",
          updated_permissions: [rule],
        })),
    ),
    rule && h("p", { class: "hint" }, `Always allow: ${describe(rule)}, for this session.`),
    h("label", { class: "deny-why" }, "Message for Claude if you deny (optional)", message),
    h("div", { class: "actions" }, button("Deny", "deny", deny)),
  );
  const outcome = h("p", { class: "outcome", tabindex: "-1" });

  const nodes = [
    h("p", { class: "permission-title" }, String(request.title ?? `Claude wants to use ${tool}`)),
    request.description && h("p", { class: "plain" }, String(request.description)),
    h("p", { class: "label" }, `${tool} input`),
    h("pre", { class: "permission-input" }, inputText(request)),
    request.blocked_path &&
      h(
        "p",
        { class: "blocked-path" },
        "Path it would touch: ",
        h("code", {}, String(request.blocked_path)),
      ),
    request.decision_reason && h("p", { class: "muted" }, String(request.decision_reason)),
    controls,
    outcome,
  ];

  return {
    nodes,
    resolve(data) {
      const [state, text] = ending(data);
      const focused = controls.contains(document.activeElement);
      controls.remove();
      outcome.textContent = text;
      if (focused) outcome.focus(); // not lost with the button that had it
      return state;
    },
  };
}

/** The state a card ends in, and what it says. */
function ending({ reason, behavior, by }) {
  if (reason === "cancelled") return ["cancelled", "Cancelled: the turn ended before an answer"];
  if (reason === "timeout") return ["timeout", "Timed out: nobody answered in time"];
  const [state, verb] = behavior === "allow" ? ["allowed", "Allowed"] : ["denied", "Denied"];
  return [state, by ? `${verb} by ${by}` : verb];
}

/** What "Always allow" answers with: the first rule the CLI suggests, kept for this session. */
function alwaysAllowRule(request) {
  const rule = (request.permission_suggestions ?? []).find((s) => s.type === "addRules");
  return rule && { ...rule, destination: "session" };
}

/** `Bash(touch x *)`: the rules of a suggestion, as permission settings write them. */
function describe(rule) {
  const each = ({ toolName, ruleContent }) =>
    ruleContent ? `${toolName}(${ruleContent})` : toolName;
  return rule.rules.map(each).join(", ");
}

/** A tool's input: its command, if it has one, else all of it as JSON. */
function inputText(request) {
  const command = request.input?.command;
  return typeof command === "string" ? command : JSON.stringify(request.input ?? {}, null, 2);
}
