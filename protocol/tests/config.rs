//! `QueryConfig`: what `/config` accepts, refuses, ignores and echoes.

use claude_agent_protocol::{QueryConfig, config::Secret};
use serde_json::{Value, json};

const FULL: &str = r#"{"agents":{"r":{"description":"d","prompt":"p","tools":["Read"],"disallowedTools":["Bash"],"model":"haiku"}},
  "allowedTools":["Read"],"disallowedTools":["Bash"],"systemPrompt":{"type":"preset","preset":"claude_code","append":"x"},
  "model":"m","mcpServers":{"s":{"type":"sse","url":"http://127.0.0.1:9/sse","headers":{"a":"b"}}},
  "anthropicApiKey":"sk-secret","permissionMode":"plan","maxTurns":2,"maxThinkingTokens":1024,"permissionTimeoutSeconds":30,"cwd":"/w","includePartialMessages":true,
  "settingSources":["user","project","local"],"additionalDirectories":["/x"],
  "notifyUrl":"https://hooks.example.com/agent"}"#;

#[test]
fn every_field_round_trips_and_is_listed() {
    let parsed = QueryConfig::from_json(FULL).unwrap();
    assert!(parsed.ignored.is_empty());
    let echoed = serde_json::to_value(&parsed.config).unwrap();
    // Everything but the key, which never serializes in clear.
    let mut expected = serde_json::from_str::<Value>(FULL).unwrap();
    expected["anthropicApiKey"] = json!("[redacted]");
    expected["mcpServers"]["s"]["headers"]["a"] = json!("[redacted]");
    expected["notifyUrl"] = json!("[redacted]");
    assert_eq!(echoed, expected);
    let key = parsed.config.anthropic_api_key.as_ref().unwrap();
    assert_eq!(key.expose(), "sk-secret");
    assert_eq!(format!("{key} {key:?}"), "[redacted] [redacted]");
    // And back, for the one place that stores them.
    let secrets = parsed.config.secrets();
    assert_eq!(secrets.mcp_headers["s"]["a"], "b");
    assert_eq!(
        secrets.notify_url.as_deref(),
        Some("https://hooks.example.com/agent")
    );
    let mut stored: QueryConfig = serde_json::from_value(echoed.clone()).unwrap();
    assert_ne!(stored, parsed.config);
    stored.restore_secrets(secrets);
    assert_eq!(stored, parsed.config);
    let keys: Vec<_> = echoed.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        QueryConfig::FIELDS,
        "FIELDS must name every field, in order"
    );
}

#[test]
fn the_original_clients_extra_keys_are_ignored_and_not_kept() {
    let parsed = QueryConfig::from_json(
        r#"{"model":"m","e2bApiKey":"e2b-secret","template":"t","timeoutMs":1,"debug":true}"#,
    )
    .unwrap();
    assert_eq!(
        parsed.ignored,
        ["e2bApiKey", "template", "timeoutMs", "debug"]
    );
    let kept = serde_json::to_string(&parsed.config).unwrap();
    assert_eq!(kept, r#"{"model":"m"}"#);
}

#[test]
fn secrets_are_redacted_and_never_debug_printed() {
    let config = QueryConfig::from_json(FULL).unwrap().config;
    assert_eq!(config.anthropic_api_key, Some(Secret::new("sk-secret")));
    assert!(!format!("{config:?}").contains("sk-secret"));
    let redacted = serde_json::to_value(config.redacted()).unwrap();
    assert_eq!(redacted["anthropicApiKey"], json!("[redacted]"));
    assert_eq!(redacted["model"], json!("m"));
}

#[test]
fn a_wrong_value_names_its_field() {
    let error = |json: &str| QueryConfig::from_json(json).unwrap_err().to_string();
    assert!(error("{nope").starts_with("Invalid JSON: "));
    assert_eq!(
        error("null"),
        "The config must be a JSON object, found null"
    );
    assert_eq!(
        error("[]"),
        "The config must be a JSON object, found an array"
    );
    assert_eq!(
        error(r#"{"maxTurns":"three"}"#),
        r#"Invalid config field `maxTurns`: invalid type: string "three", expected u32"#
    );
    assert_eq!(
        error(r#"{"permissionMode":"yolo"}"#),
        "Invalid config field `permissionMode`: unknown variant `yolo`, expected one of `default`, \
         `acceptEdits`, `bypassPermissions`, `plan`, `dontAsk`, `auto`"
    );
    for nul in [
        r#"{"systemPrompt":"a\u0000b"}"#,
        r#"{"systemPrompt":{"type":"preset","preset":"claude_code","append":"\u0000"}}"#,
    ] {
        assert_eq!(
            error(nul),
            "Invalid config field `systemPrompt`: a string must not contain NUL characters"
        );
    }
    assert_eq!(
        error(r#"{"mcpServers":{"s":{"type":"http","url":"x","headers":{"a\u0000":"v"}}}}"#),
        "Invalid config field `mcpServers`: a string must not contain NUL characters"
    );
    assert_eq!(
        error(r#"{"allowedTools":["Read",3]}"#),
        "Invalid config field `allowedTools`: [1]: invalid type: integer `3`, expected a string"
    );
    assert_eq!(
        error(r#"{"mcpServers":{"s":{"type":"stdio","url":"x"}}}"#),
        "Invalid config field `mcpServers`: s.type: unknown variant `stdio`, expected `http` or `sse`"
    );
    assert!(error(r#"{"systemPrompt":5}"#).starts_with("Invalid config field `systemPrompt`: "));
    assert!(
        error(r#"{"anthropicApiKey":5}"#).starts_with("Invalid config field `anthropicApiKey`: ")
    );
}
