//! The stdout frames, shaped like the real CLI's (trimmed to the fields relays read).

use serde_json::{Value, json};

const SESSION_ID: &str = "fake-session";

pub(crate) fn init(cwd: &str) -> Value {
    json!({
        "type": "system",
        "subtype": "init",
        "session_id": SESSION_ID,
        "cwd": cwd,
        "tools": [],
        "model": "fake",
    })
}

pub(crate) fn control_request(request_id: &str, subtype: &str) -> Value {
    json!({"type": "control_request", "request_id": request_id, "request": {"subtype": subtype}})
}

pub(crate) fn assistant_text(text: &str) -> Value {
    json!({
        "type": "assistant",
        "message": {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": "fake",
            "content": [{"type": "text", "text": text}],
            "stop_reason": null,
        },
        "parent_tool_use_id": null,
        "session_id": SESSION_ID,
    })
}

pub(crate) fn result(text: &str) -> Value {
    json!({
        "type": "result",
        "subtype": "success",
        "is_error": false,
        "result": text,
        "session_id": SESSION_ID,
        "num_turns": 1,
        "duration_ms": 1,
        "total_cost_usd": 0,
    })
}

pub(crate) fn control_success(request_id: &str, subtype: &str) -> Value {
    // The real CLI reports queued messages an interrupt did not cancel; we never queue.
    let response = if subtype == "interrupt" {
        json!({"still_queued": []})
    } else {
        json!({})
    };
    json!({
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request_id, "response": response},
    })
}
