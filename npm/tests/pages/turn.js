// The original's example flow in a page: configure (a POST /config from the page's origin),
// connect, send, read the reply. The server is the page's `?server=`; the outcome goes to
// `window.report` (the test's) and onto the page, for its screenshot.
export function reportTurn(ClaudeAgentClient, text) {
  return report(async () => {
    const client = new ClaudeAgentClient({
      connectionUrl: new URLSearchParams(location.search).get("server"),
      systemPrompt: "You are a test agent.",
    });
    const frames = [];
    const result = new Promise((resolve) =>
      client.onMessage((frame) => {
        frames.push(frame);
        if (frame.type === "sdk_message" && frame.data.type === "result") resolve(frame.data);
      }),
    );
    await client.start();
    client.send({
      type: "user_message",
      data: {
        type: "user",
        session_id: "",
        parent_tool_use_id: null,
        message: { role: "user", content: text },
      },
    });
    const { subtype } = await result;
    await client.stop();
    const reply = frames
      .filter((f) => f.type === "sdk_message" && f.data.type === "assistant")
      .flatMap((f) => f.data.message.content)
      .filter((block) => block.type === "text")
      .map((block) => block.text)
      .join("");
    return { reply, subtype };
  });
}

/** Runs `run` and puts what it resolves with, or the error it throws, on the page and to
 * `window.report` (the test's). */
export async function report(run) {
  let outcome;
  try {
    outcome = await run();
  } catch (error) {
    outcome = { error: String(error) };
  }
  document.body.textContent = JSON.stringify(outcome);
  window.report(outcome);
}
