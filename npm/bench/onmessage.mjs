// How fast frames reach `onMessage`, against a plain-JS client (WebSocket + JSON.parse) in the
// same process, on the same server: the relay with the fake agent streaming N frames of S bytes.
// Run: `scripts/bench-client [N] [S]`.
import { ClaudeAgentClient } from "@claude-agent/client";

import { startServer } from "../tests/harness.mjs";

const [messages = 200_000, size = 1024] = process.argv.slice(2).map(Number);
const ROUNDS = 9;
const ask = {
  type: "user_message",
  data: {
    type: "user",
    session_id: "",
    parent_tool_use_id: null,
    message: { role: "user", content: `[[bench:${messages}:${size}:0]]` },
  },
};
const isResult = (frame) => frame.type === "sdk_message" && frame.data.type === "result";

/** Frames per second until the turn's result, through the plain WebSocket API. */
async function plain(url) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws`);
  let count = 0;
  let start = 0;
  const done = new Promise((resolve) => {
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "connected") {
        start = performance.now();
        ws.send(JSON.stringify(ask));
      } else if (frame.type === "sdk_message") {
        count++;
        if (isResult(frame)) resolve(performance.now());
      }
    };
  });
  const end = await done;
  ws.close();
  await new Promise((resolve) => (ws.onclose = resolve));
  return count / ((end - start) / 1000);
}

/** The same through ClaudeAgentClient's onMessage. */
async function client(url) {
  const client = new ClaudeAgentClient({ connectionUrl: url });
  let count = 0;
  const done = new Promise((resolve) =>
    client.onMessage((frame) => {
      if (frame.type !== "sdk_message") return;
      count++;
      if (isResult(frame)) resolve(performance.now());
    }),
  );
  await client.start();
  const start = performance.now();
  client.send(ask);
  const end = await done;
  await client.stop();
  return count / ((end - start) / 1000);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

process.env.TEST_SERVER_AGENT = "fake";
const closing = [];
const url = await startServer({ after: (close) => closing.push(close) });
const rates = { plain: [], client: [] };
// The two take turns going first, so neither gains from the order.
for (let round = 0; round < ROUNDS; round++) {
  if (round % 2) {
    rates.client.push(await client(url));
    rates.plain.push(await plain(url));
  } else {
    rates.plain.push(await plain(url));
    rates.client.push(await client(url));
  }
}
for (const close of closing) await close();
const ratios = rates.client.map((rate, i) => rate / rates.plain[i]);
console.log(`## onMessage benchmark (Node ${process.version})\n`);
console.log(`${ROUNDS} rounds of ${messages} frames of ${size} bytes; medians.\n`);
console.log("| client | frames/s | vs plain |\n|---|---:|---:|");
console.log(`| plain WebSocket + JSON.parse | ${median(rates.plain).toFixed(0)} | 1.00 |`);
console.log(
  `| ClaudeAgentClient.onMessage | ${median(rates.client).toFixed(0)} | ${median(ratios).toFixed(2)} |`,
);
console.log(`\nRound by round: ${ratios.map((r) => r.toFixed(2)).join(", ")}. Target: ≥ 0.9.`);
