//! The CLI's lines: what the server writes, and every line of the real recordings read back.

use std::{fs, path::PathBuf};

use claude_agent_protocol::{
    AgentLine, LineKind, MessageKind, SdkUserMessage, ToAgent,
    agent::{AgentLineError, ControlResponse, ControlToAgent, ServerRequest},
};
use serde_json::Value;

#[test]
fn stdin_lines_match_the_cli_protocol() {
    let cases = [
        (
            ToAgent::User(SdkUserMessage::text("Say hi")),
            r#"{"type":"user","message":{"role":"user","content":"Say hi"},"parent_tool_use_id":null,"session_id":""}"#,
        ),
        (
            ToAgent::Control(ControlToAgent::ControlRequest {
                request_id: "req_1".into(),
                request: ServerRequest::Initialize { agents: None },
            }),
            r#"{"type":"control_request","request_id":"req_1","request":{"subtype":"initialize"}}"#,
        ),
        (
            ToAgent::Control(ControlToAgent::ControlRequest {
                request_id: "req_2".into(),
                request: ServerRequest::Interrupt,
            }),
            r#"{"type":"control_request","request_id":"req_2","request":{"subtype":"interrupt"}}"#,
        ),
        (
            ToAgent::Control(ControlToAgent::ControlResponse {
                response: ControlResponse::unsupported("r-cli".into(), "can_use_tool"),
            }),
            r#"{"type":"control_response","response":{"subtype":"error","request_id":"r-cli","error":"Unsupported control request subtype: can_use_tool","error_code":"unsupported_request"}}"#,
        ),
    ];
    for (line, json) in cases {
        assert_eq!(line.to_json(), json);
        if let ToAgent::Control(ControlToAgent::ControlRequest { request, .. }) = &line {
            assert!(json.contains(&format!(r#""subtype":"{}""#, request.subtype())));
        }
    }
}

#[test]
fn stdout_lines_are_classified() {
    fn kind(line: &str) -> Result<LineKind<'_>, AgentLineError> {
        AgentLine::parse(line).map(AgentLine::into_kind)
    }
    let LineKind::Message(head) = kind(
        r#"{"duration_ms":1,"type":"result","is_error":true,"session_id":"s","subtype":"success"}"#,
    )
    .unwrap() else {
        panic!("a result is a message");
    };
    assert_eq!(head.kind, MessageKind::Result);
    assert_eq!(head.session_id.as_deref(), Some("s"));
    assert_eq!(head.is_error, Some(true));
    assert!(matches!(
        kind(r#"{"type":"brand_new","x":[1,{"type":"y"}]}"#).unwrap(),
        LineKind::Message(h) if h.kind == MessageKind::Other("brand_new".into())
    ));
    assert!(matches!(
        kind(r#"{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool","tool_name":"Bash"}}"#).unwrap(),
        LineKind::ControlRequest { request_id, request } if request_id == "r" && request.subtype == "can_use_tool" && request.fields["tool_name"] == "Bash"
    ));
    assert!(matches!(
        kind(r#"{"type":"control_response","response":{"subtype":"success","request_id":"q","response":{"still_queued":[]}}}"#).unwrap(),
        LineKind::ControlResponse(ControlResponse::Success { request_id, .. }) if request_id == "q"
    ));
    assert_eq!(kind(r#"{"type":"keep_alive"}"#), Ok(LineKind::KeepAlive));
    assert!(matches!(
        kind("this is not json"),
        Err(AgentLineError::Json(_))
    ));
    assert!(matches!(
        kind(r#"{"type":"assistant", broken"#),
        Err(AgentLineError::Json(_))
    ));
    assert_eq!(kind("[1,2]"), Err(AgentLineError::NoType));
    assert_eq!(kind(r#"{"no":"type"}"#), Err(AgentLineError::NoType));
    assert!(matches!(
        kind(r#"{"type":"control_request","request_id":"r"}"#),
        Err(AgentLineError::Control {
            kind: "control_request",
            ..
        })
    ));
}

fn transcripts() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/transcripts");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 50,
        "expected the recorded transcripts in {}",
        dir.display()
    );
    files
}

/// Every stdout line of every real recording parses, and the server's view of it is right.
#[test]
fn every_recorded_cli_line_parses() {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for path in transcripts() {
        let text = fs::read_to_string(&path).unwrap();
        for (number, record) in text.lines().enumerate() {
            let where_ = format!("{}:{}", path.display(), number + 1);
            let record: Value =
                serde_json::from_str(record).unwrap_or_else(|e| panic!("{where_}: {e}"));
            let (dir, msg) = (record["dir"].as_str().unwrap(), &record["msg"]);
            if let Some(raw) = msg["_raw_line"].as_str() {
                // Raw writes are the recordings' malformed inputs: a user line among them must
                // not read as a user message (it killed the CLI).
                if serde_json::from_str::<Value>(raw).is_ok_and(|v| v["type"] == "user") {
                    assert!(
                        serde_json::from_str::<SdkUserMessage>(raw).is_err(),
                        "{where_}"
                    );
                    *counts.entry("in user, malformed".to_owned()).or_default() += 1;
                }
                continue;
            }
            if dir != "out" && dir != "in" {
                continue;
            }
            let line = serde_json::to_string(msg).unwrap();
            if dir == "in" && msg["type"] == "user" {
                // What SDKs wrote to stdin reads as a user message, but for the recording of a
                // malformed one (no `message`), which killed the CLI.
                let read = serde_json::from_value::<SdkUserMessage>(msg.clone());
                let malformed = msg.get("message").is_none();
                assert_eq!(read.is_err(), malformed, "{where_}: {read:?}");
                let name = if malformed {
                    "in user, malformed"
                } else {
                    "in user"
                };
                *counts.entry(name.to_owned()).or_default() += 1;
            }
            let parsed = AgentLine::parse(&line).unwrap_or_else(|e| panic!("{where_}: {e}"));
            let kind = msg["type"].as_str().unwrap();
            let name = match parsed.kind() {
                LineKind::Message(head) => {
                    assert!(
                        !kind.starts_with("control_") && kind != "keep_alive",
                        "{where_}"
                    );
                    assert_eq!(
                        head.session_id.as_deref(),
                        msg["session_id"].as_str(),
                        "{where_}"
                    );
                    format!("{dir} message {kind}")
                }
                LineKind::ControlRequest {
                    request_id,
                    request,
                } => {
                    assert_eq!(request_id, msg["request_id"].as_str().unwrap(), "{where_}");
                    assert!(
                        serde_json::to_value(request).unwrap() == msg["request"],
                        "{where_}"
                    );
                    format!("{dir} control_request {}", request.subtype)
                }
                LineKind::ControlResponse(response) => {
                    assert!(
                        serde_json::to_value(response).unwrap() == msg["response"],
                        "{where_}: {response:.200?}"
                    );
                    format!("{dir} control_response")
                }
                LineKind::ControlCancelRequest { .. } => format!("{dir} control_cancel_request"),
                LineKind::KeepAlive => format!("{dir} keep_alive"),
            };
            *counts.entry(name).or_default() += 1;
        }
    }
    for expected in [
        "out message system",
        "out message assistant",
        "out message user",
        "out message result",
        "out message stream_event",
        "out control_request can_use_tool",
        "out control_response",
        "out control_cancel_request",
        "in control_request initialize",
        "in user",
        "in user, malformed",
    ] {
        assert!(counts.contains_key(expected), "no {expected} in {counts:?}");
    }
}
