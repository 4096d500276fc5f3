//! The client's schema check agrees with the server's serde check, message for message.

use claude_agent_protocol::{
    ClientMessage, ClientMessageError,
    schema::{CLIENT_MESSAGE_SCHEMA, KEYWORDS, check, client_message_schema},
};
use serde_json::{Value, json};

#[test]
fn the_committed_schema_is_generated_from_the_types() {
    let generated = client_message_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/client-message.json");
        std::fs::write(path, &generated).unwrap();
    }
    assert!(
        generated == CLIENT_MESSAGE_SCHEMA,
        "protocol/schema/client-message.json is stale: run \
         UPDATE_SCHEMA=1 cargo test -p claude-agent-protocol --test schema"
    );
}

#[test]
fn the_schema_uses_only_keywords_the_checker_reads() {
    fn walk(schema: &Value) {
        let Value::Object(map) = schema else { return };
        for (key, value) in map {
            assert!(KEYWORDS.contains(&key.as_str()), "unchecked keyword {key}");
            if key == "additionalProperties" {
                assert_eq!(value, &Value::Bool(false), "the checker reads it as false");
            }
            match key.as_str() {
                "$defs" | "properties" => value.as_object().unwrap().values().for_each(walk),
                "anyOf" | "oneOf" => value.as_array().unwrap().iter().for_each(walk),
                "items" => walk(value),
                _ => {}
            }
        }
    }
    walk(&serde_json::from_str(CLIENT_MESSAGE_SCHEMA).unwrap());
}

/// Valid and invalid client messages: each accepted by both checks or refused by both.
const CORPUS: &[&str] = &[
    r#"{"type":"interrupt"}"#,
    r#"{"type":"interrupt","extra":1}"#,
    r#"{"type":"user_message","data":{"type":"user","session_id":"s1","parent_tool_use_id":null,"message":{"role":"user","content":"Say hello"}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},"uuid":"u1","priority":"now","isSynthetic":true}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[]},"uuid":null,"priority":null}}"#,
    // Every content block shape and source, for the mutations below.
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"text","text":"t","citations":[{"type":"char_location","cited_text":"c","document_index":0}]},{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="},"title":"t","context":"c","citations":{"enabled":true}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"d"}}]}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","is_error":false,"content":[{"type":"text","text":"t"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"document","source":{"type":"content","content":[{"type":"text","text":"t"}]}},{"type":"search_result","source":"s","title":"t","content":[{"type":"text","text":"t"}],"citations":{}}]},{"type":"tool_result","tool_use_id":"t","content":"c"}]}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"text","text":"t","cache_control":{"type":"ephemeral"}}]}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":"video"}]}}}"#,
    // Answers to permission prompts.
    r#"{"type":"permission_response","data":{"request_id":"r1","behavior":"allow","updated_input":{"command":"ls"},"updated_permissions":[{"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"ls"}],"behavior":"allow","destination":"session"},{"type":"setMode","mode":"acceptEdits","destination":"session"},{"type":"addDirectories","directories":["/w"],"destination":"localSettings"}]}}"#,
    r#"{"type":"permission_response","data":{"request_id":"r2","behavior":"deny","message":"no","interrupt":true}}"#,
    // Live control.
    r#"{"type":"control","data":{"request_id":"c1","subtype":"set_model","model":"claude-x"}}"#,
    r#"{"type":"control","data":{"subtype":"set_model","model":null}}"#,
    r#"{"type":"control","data":{"subtype":"set_permission_mode","mode":"plan"}}"#,
    r#"{"type":"control","data":{"subtype":"set_max_thinking_tokens","max_thinking_tokens":1024}}"#,
    r#"{"type":"control","data":{"subtype":"interrupt"}}"#,
    r#"{"type":"control","data":{"request_id":"c2","subtype":"cancel_message","uuid":"m-3"}}"#,
    "null",
    "7",
    r#""interrupt""#,
    r#"["user_message",{}]"#,
    "{}",
    r#"{"type":7}"#,
    r#"{"type":"bogus"}"#,
    r#"{"type":"user_message"}"#,
    r#"{"type":"user_message","data":null}"#,
    r#"{"type":"user_message","data":{"foo":1}}"#,
    r#"{"type":"user_message","data":{"content":"Hello, Claude!"}}"#,
    r#"{"type":"user_message","data":{"type":"assistant","message":{"role":"user","content":"x"}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"assistant","content":"x"}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":7}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":null}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user"}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"text":"x"}]}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":["x"]}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":[{"type":5}]}}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":"x"},"session_id":5}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":"x"},"parent_tool_use_id":5}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":"x"},"priority":"soon"}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":"x"},"isSynthetic":"yes"}}"#,
    r#"{"type":"user_message","data":{"type":"user","message":"x"}}"#,
];

fn checked(json: &str) -> Result<(), String> {
    let schema: Value = serde_json::from_str(CLIENT_MESSAGE_SCHEMA).unwrap();
    let value: Value = serde_json::from_str(json).unwrap();
    check(&&schema, &&value).map_err(|e| e.to_string())
}

#[test]
fn the_schema_check_agrees_with_serde() {
    for json in CORPUS {
        let serde = ClientMessage::from_json(json);
        let schema = checked(json);
        assert_eq!(
            serde.is_ok(),
            schema.is_ok(),
            "{json}: {serde:?} vs {schema:?}"
        );
    }
}

/// Every variant of `value` with one member removed, or one value (at any depth) replaced by
/// one of each JSON kind.
fn mutations(value: &Value) -> Vec<Value> {
    let replacements = [
        Value::Null,
        json!(true),
        json!(7),
        json!(1.5),
        json!("user"),
        json!("text"),
        json!([]),
        json!([{"type": "text"}]),
        json!({}),
        json!({"type": "user"}),
    ];
    let mut out: Vec<Value> = replacements.to_vec();
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                let mut without = map.clone();
                without.remove(key);
                out.push(Value::Object(without));
                for mutated in mutations(member) {
                    let mut with = map.clone();
                    with.insert(key.clone(), mutated);
                    out.push(Value::Object(with));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                for mutated in mutations(item) {
                    let mut with = items.clone();
                    with[i] = mutated;
                    out.push(Value::Array(with));
                }
            }
        }
        _ => {}
    }
    out
}

#[test]
fn the_schema_check_agrees_with_serde_on_every_mutation_of_valid_messages() {
    let schema: Value = serde_json::from_str(CLIENT_MESSAGE_SCHEMA).unwrap();
    let mut checked_count = 0;
    for json in CORPUS
        .iter()
        .filter(|json| ClientMessage::from_json(json).is_ok())
    {
        for mutated in mutations(&serde_json::from_str(json).unwrap()) {
            let text = mutated.to_string();
            let serde = ClientMessage::from_json(&text);
            let schema = check(&&schema, &&mutated);
            // What base64 data holds is the server's to check, as the nesting depth is, and
            // whether a number is a whole one that fits.
            let data = |error: &ClientMessageError| {
                let error = error.to_string();
                error.contains(": data: not ") || error.ends_with("expected u32")
            };
            if schema.is_ok() && serde.as_ref().is_err_and(data) {
                continue;
            }
            assert_eq!(
                serde.is_ok(),
                schema.is_ok(),
                "{text}: {serde:?} vs {schema:?}"
            );
            checked_count += 1;
        }
    }
    assert!(checked_count > 400, "only {checked_count} mutations");
}

#[test]
fn the_schema_check_names_the_problem() {
    let user = |message: &str| {
        format!(r#"{{"type":"user_message","data":{{"type":"user","message":{message}}}}}"#)
    };
    let cases = [
        ("null".to_owned(), "expected an object, found null"),
        ("{}".to_owned(), "missing field `type`"),
        (
            r#"{"type":"bogus"}"#.to_owned(),
            "type: unknown variant `bogus`, expected `user_message` or `interrupt` or `permission_response` or `control`",
        ),
        (
            r#"{"type":"user_message"}"#.to_owned(),
            "missing field `data`",
        ),
        (
            r#"{"type":"user_message","data":{"content":"Hello, Claude!"}}"#.to_owned(),
            "data: missing field `type`",
        ),
        (
            user(r#"{"role":"assistant","content":"x"}"#),
            "data.message.role: unknown variant `assistant`, expected `user`",
        ),
        (
            user(r#"{"role":"user","content":7}"#),
            "data.message.content: expected a string or an array, found a number",
        ),
        (
            user(r#"{"role":"user","content":[{"text":"x"}]}"#),
            "data.message.content[0]: missing field `type`",
        ),
        (
            user(r#"{"role":"user","content":[{"type":"text","text":"x","cache_control":{}}]}"#),
            "data.message.content[0]: unknown field `cache_control`, expected one of `type`, \
             `text`, `citations`",
        ),
        (
            user(r#"{"role":"user","content":[{"type":"image","source":{"type":"file"}}]}"#),
            "data.message.content[0].source.type: unknown variant `file`, expected `base64`",
        ),
        (
            user(r#"{"role":"user","content":[{"type":"text"}]}"#),
            "data.message.content[0]: missing field `text`",
        ),
    ];
    for (json, problem) in cases {
        assert_eq!(checked(&json).unwrap_err(), problem, "{json}");
    }
    let orphan = r#"{"type":"user_message","data":{"type":"user","message":{"role":"user","content":"x"},"parent_tool_use_id":5}}"#;
    assert_eq!(
        checked(orphan).unwrap_err(),
        "data.parent_tool_use_id: expected a string or null, found a number"
    );
}
