// Approval cards: a permission prompt of the session (the agent asks whether a tool may run),
// what the tool would do, and the buttons that answer it. Every tab of the session shows the
// card; once any client answers, each shows how it ended instead of the buttons. The CLI's
// questions (`AskUserQuestion`) and plans (`ExitPlanMode`) come the same way, as question cards
// (options and a free-text answer) and plan cards (the plan, to approve or send back).
import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

/** The card for `request`: a question card, a plan card, or an approval card. */
export function promptCard(request, answer) {
  if (request.tool_name === "AskUserQuestion") return questionCard(request, answer);
  if (request.tool_name === "ExitPlanMode") return planCard(request, answer);
  return approvalCard(request, answer);
}

/**
 * Sends one decision per card: `send(decision)` disables `buttons` while it is sent (again
 * usable if it could not be).
 */
function sender(answer, buttons) {
  return (decision) => {
    for (const button of buttons) button.disabled = true;
    if (!answer(decision)) for (const button of buttons) button.disabled = false;
  };
}

/**
 * A card's decision buttons: `button(label, kind, decide)` makes one that sends `decide()`; one
 * answer a card, not one a click.
 */
function decisions(answer) {
  const buttons = [];
  const send = sender(answer, buttons);
  const button = (label, kind, decide) => {
    const node = h("button", { type: "button", class: kind }, label);
    node.addEventListener("click", () => send(decide()));
    buttons.push(node);
    return node;
  };
  return { send, button };
}

/** The optional message of a denial: `deny()` reads it; Enter in it sends the denial. */
function denial(send) {
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
  return { message, deny };
}

/** The card's ending: `controls` give way to the outcome, saying `verbs` [allowed, denied]. */
function resolver(controls, outcome, verbs) {
  return (data) => {
    const [state, text] = ending(data, verbs);
    const focused = controls.contains(document.activeElement);
    controls.remove();
    outcome.textContent = text;
    if (focused) outcome.focus(); // not lost with the button that had it
    return state;
  };
}

/**
 * A question card: each of `input.questions` with its options as buttons (several may be
 * picked where `multiSelect` says so) and a free-text answer; Submit allows with the input plus
 * `answers` (question → the label picked, or the text written), Decline denies.
 */
export function questionCard(request, answer) {
  const questions = Array.isArray(request.input?.questions) ? request.input.questions : [];
  const buttons = [];
  const send = sender(answer, buttons);
  const submit = h("button", { type: "button", class: "allow" }, "Submit answers");
  const picks = questions.map((question, index) => {
    const chosen = new Set();
    const own = h("input", { class: "own-answer", autocomplete: "off" });
    const options = (question.options ?? []).map((option) => {
      const label = String(option.label);
      const node = h(
        "button",
        { type: "button", class: "option", "aria-pressed": "false" },
        label,
        option.description && h("small", {}, String(option.description)),
      );
      node.addEventListener("click", () => {
        if (!question.multiSelect) {
          chosen.clear();
          for (const other of options) other.setAttribute("aria-pressed", "false");
        }
        if (chosen.has(label)) chosen.delete(label);
        else chosen.add(label);
        node.setAttribute("aria-pressed", String(chosen.has(label)));
        own.value = "";
        ready();
      });
      buttons.push(node);
      return node;
    });
    own.addEventListener("input", () => {
      chosen.clear();
      for (const option of options) option.setAttribute("aria-pressed", "false");
      ready();
    });
    own.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing || submit.disabled) return;
      event.preventDefault();
      submit.click();
    });
    const text = String(question.question ?? `Question ${index + 1}`);
    const node = h(
      "fieldset",
      { class: "question" },
      h(
        "legend",
        {},
        question.header && h("span", { class: "chip" }, String(question.header)),
        " ",
        text,
      ),
      h("div", { class: "options" }, ...options),
      h("label", { class: "own" }, "Or your own answer", own),
    );
    const value = () => own.value.trim() || [...chosen].join(", ");
    return { text, node, value };
  });
  const ready = () => {
    submit.disabled = picks.some((pick) => !pick.value());
  };
  submit.addEventListener("click", () => {
    const answers = Object.fromEntries(picks.map((pick) => [pick.text, pick.value()]));
    send({ behavior: "allow", updated_input: { ...request.input, answers } });
  });
  const decline = h("button", { type: "button", class: "deny" }, "Decline");
  decline.addEventListener("click", () =>
    send({ behavior: "deny", message: "The user declined to answer." }),
  );
  buttons.push(submit, decline);
  ready();
  const controls = h(
    "div",
    { class: "permission-controls" },
    ...picks.map((pick) => pick.node),
    h("div", { class: "actions" }, submit, decline),
  );
  const outcome = h("p", { class: "outcome", tabindex: "-1" });
  const title = questions.length === 1 ? "Claude asks you" : "Claude asks you some questions";
  return {
    nodes: [h("p", { class: "permission-title" }, title), controls, outcome],
    resolve: resolver(controls, outcome, ["Answered", "Declined"]),
  };
}

/**
 * A plan card: `input.plan` as rendered markdown, approved (and edits accepted from then on, or
 * back to the mode before plan mode), or sent back with a message to keep planning.
 */
export function planCard(request, answer) {
  const { send, button } = decisions(answer);
  const { message, deny: keepPlanning } = denial(send);
  const acceptEdits = { type: "setMode", mode: "acceptEdits", destination: "session" };
  const controls = h(
    "div",
    { class: "permission-controls" },
    h(
      "div",
      { class: "actions" },
      button("Approve and accept edits", "allow", () => ({
        behavior: "allow",
        updated_permissions: [acceptEdits],
      })),
      button("Approve", "always", () => ({ behavior: "allow" })),
    ),
    h("label", { class: "deny-why" }, "What to change (for Claude, if you keep planning)", message),
    h("div", { class: "actions" }, button("Keep planning", "deny", keepPlanning)),
  );
  const outcome = h("p", { class: "outcome", tabindex: "-1" });
  const plan = request.input?.plan;
  return {
    nodes: [
      h("p", { class: "permission-title" }, "Claude has a plan for your approval"),
      typeof plan === "string"
        ? h("div", { class: "markdown plan" }, renderMarkdown(plan))
        : h("p", { class: "muted" }, "(the plan is not in the prompt)"),
      request.input?.planFilePath &&
        h(
          "p",
          { class: "muted" },
          "Plan file: ",
          h("code", {}, String(request.input.planFilePath)),
        ),
      controls,
      outcome,
    ],
    resolve: resolver(controls, outcome, ["Approved", "Sent back"]),
  };
}

/**
 * The card's nodes for `request` (a PermissionRequest), and `resolve(data)`, which shows how it
 * ended (a PermissionResolved) and returns the card's state for it. `answer(decision)` sends a
 * decision; false if it could not (the buttons are then usable again).
 */
export function approvalCard(request, answer) {
  const tool = String(request.display_name ?? request.tool_name);
  const rule = alwaysAllowRule(request);
  const { send, button } = decisions(answer);
  const { message, deny } = denial(send);
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

  return { nodes, resolve: resolver(controls, outcome, ["Allowed", "Denied"]) };
}

/** The state a card ends in, and what it says (`verbs`: [allowed, denied]). */
function ending({ reason, behavior, by }, [allowed, denied]) {
  if (reason === "cancelled") return ["cancelled", "Cancelled: the turn ended before an answer"];
  if (reason === "timeout") return ["timeout", "Timed out: nobody answered in time"];
  const [state, verb] = behavior === "allow" ? ["allowed", allowed] : ["denied", denied];
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
