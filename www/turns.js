// Whether a turn runs, from the session's frames alone: so every tab agrees, and a reload
// mid-turn (which replays the frames) knows it too.

/**
 * A user message starts a turn and its `result` ends it. The agent may take a message sent
 * during a turn into that turn (one result for both), or run it as a turn of its own after the
 * result; so a turn's own frames after a result mean one runs again. The agent's queue
 * bookkeeping (`command_lifecycle`, which also follows a result) says nothing either way.
 */
export function turns() {
  let running = false;
  return {
    get running() {
      return running;
    },
    /** Takes the next frame; true if `running` changed. */
    frame(frame) {
      const before = running;
      if (frame.type === "user_message") running = true;
      else if (frame.type === "sdk_message") running = runsAfter(frame.data, running);
      // The agent died (an `error` in the log has a seq): its turn ends with no result.
      else if (frame.type === "error" && frame.seq != null) running = false;
      return running !== before;
    },
    /** Another session, or its history again from the start. */
    reset() {
      running = false;
    },
  };
}

/** Whether a turn runs after the agent's message `data`, given whether one ran before. */
function runsAfter(data, running) {
  switch (data?.type) {
    case "result":
      return false;
    case "assistant":
    case "user": // tool results
    case "stream_event":
      return true;
    case "system":
      return running || data.subtype === "init";
    default:
      return running;
  }
}
