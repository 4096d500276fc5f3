//! The wire format is the contract: every variant against its literal JSON.

use claude_agent_protocol::{
    AgentLine, ClientMessage, SdkUserMessage, ServerMessage, user_message::UserContent,
};
use serde_json::value::RawValue;

const HELLO: &str = r#"{"type":"user_message","data":{"type":"user","session_id":"s1","parent_tool_use_id":null,"message":{"role":"user","content":"Say hello"}}}"#;

#[test]
fn client_messages_match_the_original_json() {
    let ClientMessage::UserMessage { data } = ClientMessage::from_json(HELLO).unwrap() else {
        panic!("not a user message");
    };
    assert_eq!(data.session_id, "s1");
    assert_eq!(data.message.content, UserContent::Text("Say hello".into()));
    assert_eq!(
        serde_json::to_string(&ClientMessage::UserMessage { data }).unwrap(),
        r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":"Say hello"},"parent_tool_use_id":null,"session_id":"s1"}}"#
    );
    assert_eq!(
        ClientMessage::from_json(r#"{"type":"interrupt"}"#),
        Ok(ClientMessage::Interrupt)
    );
    assert_eq!(
        serde_json::to_string(&ClientMessage::Interrupt).unwrap(),
        r#"{"type":"interrupt"}"#
    );
}

#[test]
fn content_blocks_pass_through() {
    let json = r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},"uuid":"u1","priority":"now"}}"#;
    let message = ClientMessage::from_json(json).unwrap();
    assert_eq!(
        serde_json::to_string(&message).unwrap(),
        r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},"parent_tool_use_id":null,"session_id":"","uuid":"u1","priority":"now"}}"#
    );
}

#[test]
fn a_content_block_reaches_the_agent_on_one_line() {
    let json = "{\"type\":\"user_message\",\"data\":{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\r\n \"type\": \"text\",\n \"text\": \"a\\nb\"\n}]}}}";
    let message = serde_json::to_string(&ClientMessage::from_json(json).unwrap()).unwrap();
    assert!(!message.contains(['\n', '\r']), "{message}");
    assert!(
        message.contains(r#"[{   "type": "text",  "text": "a\nb" }]"#),
        "{message}"
    );
}

#[test]
fn bad_client_frames_name_the_problem() {
    let error = |json: &str| ClientMessage::from_json(json).unwrap_err().to_string();
    assert!(error("{not json").starts_with("Invalid message format: key must be a string"));
    assert_eq!(
        error("null"),
        r#"Invalid message format: expected a JSON object with a string "type", found null"#
    );
    assert_eq!(
        error("123"),
        r#"Invalid message format: expected a JSON object with a string "type", found a number"#
    );
    assert_eq!(
        error("{}"),
        r#"Invalid message format: expected a JSON object with a string "type", found an object without "type""#
    );
    assert_eq!(
        error(r#"{"type":"bogus"}"#),
        r#"Unknown message type "bogus": expected "user_message", "interrupt", "permission_response" or "control""#
    );
    assert_eq!(
        error(r#"{"type":"user_message"}"#),
        "Invalid user_message message: missing field `data`"
    );
    assert_eq!(
        error(r#"{"type":"user_message","data":{"foo":1}}"#),
        "Invalid user_message message: data: missing field `type`"
    );
    // The original client README's example, which killed the original server.
    assert_eq!(
        error(r#"{"type":"user_message","data":{"content":"Hello, Claude!"}}"#),
        "Invalid user_message message: data: missing field `type`"
    );
    assert_eq!(
        error(
            r#"{"type":"user_message","data":{"type":"user","message":{"role":"assistant","content":"x"}}}"#
        ),
        "Invalid user_message message: data.message.role: unknown variant `assistant`, expected `user`"
    );
    assert_eq!(
        error(
            r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":7}}}"#
        ),
        "Invalid user_message message: data.message.content: invalid type: integer `7`, expected a string or an array of content blocks"
    );
    assert_eq!(
        error(
            r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"text":"x"}]}}}"#
        ),
        "Invalid user_message message: data.message.content[0]: a content block needs a string `type`"
    );
    assert_eq!(
        error(
            r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":["x",["text"]]}}}"#
        ),
        "Invalid user_message message: data.message.content[0]: expected a content block object, found a string"
    );
    assert_eq!(
        error(r#"["user_message",{}]"#),
        r#"Invalid message format: expected a JSON object with a string "type", found an array"#
    );
    assert_eq!(
        error(r#"{"type":7}"#),
        r#"Invalid message format: expected a JSON object with a string "type", found a number"#
    );
}

#[test]
fn server_messages_match_the_original_json() {
    let cases = [
        (
            ServerMessage::Connected {
                protocol_version: None,
                session_id: None,
                latest_seq: None,
                oldest_seq: None,
                after: None,
                pending_permissions: Vec::new(),
            },
            r#"{"type":"connected"}"#,
        ),
        (
            ServerMessage::Connected {
                protocol_version: Some(1),
                session_id: Some("abc".into()),
                latest_seq: None,
                oldest_seq: None,
                after: None,
                pending_permissions: Vec::new(),
            },
            r#"{"type":"connected","protocol_version":1,"session_id":"abc"}"#,
        ),
        (
            ServerMessage::Connected {
                protocol_version: Some(2),
                session_id: Some("abc".into()),
                latest_seq: Some(7),
                oldest_seq: Some(3),
                after: Some(5),
                pending_permissions: Vec::new(),
            },
            r#"{"type":"connected","protocol_version":2,"session_id":"abc","latest_seq":7,"oldest_seq":3,"after":5}"#,
        ),
        (
            ServerMessage::SdkMessage {
                seq: None,
                data: RawValue::from_string(r#"{"type":"result","x":1}"#.into()).unwrap(),
            },
            r#"{"type":"sdk_message","data":{"type":"result","x":1}}"#,
        ),
        (
            ServerMessage::SdkMessage {
                seq: Some(12),
                data: RawValue::from_string(r#"{"type":"result","x":1}"#.into()).unwrap(),
            },
            r#"{"type":"sdk_message","seq":12,"data":{"type":"result","x":1}}"#,
        ),
        (
            ServerMessage::UserMessage {
                seq: Some(4),
                data: SdkUserMessage::text("hi"),
            },
            r#"{"type":"user_message","seq":4,"data":{"type":"user","message":{"role":"user","content":"hi"},"parent_tool_use_id":null,"session_id":""}}"#,
        ),
        (
            ServerMessage::ResyncRequired {
                oldest_seq: 5,
                latest_seq: 9,
            },
            r#"{"type":"resync_required","oldest_seq":5,"latest_seq":9}"#,
        ),
        (
            ServerMessage::info("numbered").with_seq(3),
            r#"{"type":"info","seq":3,"data":"numbered"}"#,
        ),
        (
            ServerMessage::error("Server already has an active connection"),
            r#"{"type":"error","error":"Server already has an active connection"}"#,
        ),
        (
            ServerMessage::info("stderr line"),
            r#"{"type":"info","data":"stderr line"}"#,
        ),
    ];
    for (message, json) in cases {
        assert_eq!(message.to_json(), json);
        let read: ServerMessage = serde_json::from_str(json).unwrap();
        assert_eq!(read, message, "{json}");
    }
}

#[test]
fn sdk_message_frames_keep_the_line_byte_for_byte() {
    // Key order and spacing as the CLI wrote them, not as serde would.
    let line = r#"{"duration_ms":3, "type":"result","subtype":"success","é":"\u00e9"}"#;
    let raw = AgentLine::parse(line).unwrap().raw();
    for seq in [None, Some(1), Some(u64::MAX)] {
        let frame = ServerMessage::sdk_message_json(raw, seq);
        let typed = ServerMessage::SdkMessage {
            seq,
            data: RawValue::from_string(line.into()).unwrap(),
        };
        assert_eq!(frame, typed.to_json());
        assert!(frame.ends_with(&format!(r#""data":{line}}}"#)));
    }
}

#[test]
fn text_helper_builds_what_the_cli_accepts() {
    assert_eq!(
        serde_json::to_string(&SdkUserMessage::text("hi")).unwrap(),
        r#"{"type":"user","message":{"role":"user","content":"hi"},"parent_tool_use_id":null,"session_id":""}"#
    );
}
