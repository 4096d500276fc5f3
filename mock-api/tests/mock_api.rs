//! The mock Messages API, driven over real HTTP.

use std::time::{Duration, Instant};

use claude_agent_mock_api::{MockApi, Script, demo};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

const MODEL: &str = "claude-test";
const WAIT: Duration = Duration::from_secs(5);

/// A request as the CLI's main loop sends it: with tools.
fn main_loop(messages: &Value, stream: bool) -> Value {
    json!({
        "model": MODEL,
        "max_tokens": 1024,
        "stream": stream,
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
        "messages": messages,
    })
}

fn user_says(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

async fn post(mock: &MockApi, path: &str, body: &Value) -> Response {
    let url = format!("{}{path}?beta=true", mock.base_url());
    let response = reqwest::Client::new().post(url).json(body).send().await;
    response.expect("mock api answers")
}

/// `(event name, data)` of every server-sent event in `body`.
fn parse_sse(body: &str) -> Vec<(String, Value)> {
    body.split_terminator("\n\n")
        .map(|event| {
            let (name, data) = event.split_once('\n').expect("an event and a data line");
            let name = name.strip_prefix("event: ").expect("event line");
            let data = data.strip_prefix("data: ").expect("data line");
            (
                name.to_owned(),
                serde_json::from_str(data).expect("data is JSON"),
            )
        })
        .collect()
}

async fn streamed_events(response: Response) -> Vec<(String, Value)> {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = parse_sse(&response.text().await.expect("body"));
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str(), "data type names the event");
    }
    events
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(name, _)| name.as_str()).collect()
}

/// The concatenated `field` of every delta of type `delta_type`.
fn concat_deltas(events: &[(String, Value)], delta_type: &str, field: &str) -> String {
    let deltas = events.iter().map(|(_, data)| &data["delta"]);
    let matching = deltas.filter(|delta| delta["type"] == delta_type);
    matching
        .map(|delta| delta[field].as_str().expect("delta text"))
        .collect()
}

fn event<'a>(events: &'a [(String, Value)], name: &str) -> &'a Value {
    let found = events.iter().find(|(event, _)| event == name);
    &found.unwrap_or_else(|| panic!("no {name} event")).1
}

#[tokio::test]
async fn streamed_plain_reply_echoes_the_user() {
    let mock = MockApi::start().await;
    let response = post(
        &mock,
        "/v1/messages",
        &main_loop(&user_says("hello there"), true),
    )
    .await;
    assert!(
        response.headers()["request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_mock_")
    );
    let events = streamed_events(response).await;

    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let message = &event(&events, "message_start")["message"];
    assert!(message["id"].as_str().unwrap().starts_with("msg_mock_"));
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["model"], MODEL);
    assert_eq!(message["content"], json!([]));
    assert_eq!(message["stop_reason"], Value::Null);
    assert_eq!(
        event(&events, "content_block_start")["content_block"]["type"],
        "text"
    );
    assert_eq!(
        concat_deltas(&events, "text_delta", "text"),
        "You said: hello there"
    );
    assert_eq!(
        event(&events, "message_delta")["delta"]["stop_reason"],
        "end_turn"
    );
}

#[tokio::test]
async fn tool_use_then_tool_result() {
    let mock = MockApi::start().await;
    let ask = user_says("please [[tool:bash:echo hi]]");
    let events = streamed_events(post(&mock, "/v1/messages", &main_loop(&ask, true)).await).await;

    let block = &event(&events, "content_block_start")["content_block"];
    assert_eq!(block["type"], "tool_use");
    assert_eq!(block["name"], "Bash");
    assert!(block["id"].as_str().unwrap().starts_with("toolu_mock_"));
    let input = concat_deltas(&events, "input_json_delta", "partial_json");
    let input: Value = serde_json::from_str(&input).expect("pieces make the input JSON");
    assert_eq!(
        input,
        json!({"command": "echo hi", "description": "Run a command"})
    );
    assert_eq!(
        event(&events, "message_delta")["delta"]["stop_reason"],
        "tool_use"
    );

    let follow_up = json!([
        {"role": "user", "content": "please [[tool:bash:echo hi]]"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": block["id"], "name": "Bash", "input": input}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": block["id"], "content": [{"type": "text", "text": "hi"}]},
            {"type": "text", "text": "<system-reminder>[[error:500]]</system-reminder>"},
        ]},
    ]);
    let response = post(&mock, "/v1/messages", &main_loop(&follow_up, false)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let message: Value = response.json().await.expect("a JSON message");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "Tool result: hi"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(message["model"], MODEL);
}

#[tokio::test]
async fn error_markers_answer_with_status_and_no_retry() {
    let mock = MockApi::start().await;
    let cases = [
        (500, "api_error"),
        (401, "authentication_error"),
        (429, "rate_limit_error"),
        (529, "overloaded_error"),
        (400, "invalid_request_error"),
    ];
    for (status, kind) in cases {
        let ask = user_says(&format!("fail [[error:{status}]]"));
        let response = post(&mock, "/v1/messages", &main_loop(&ask, true)).await;
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["x-should-retry"], "false");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], kind);
        assert_eq!(body["error"]["message"], format!("mock error {status}"));
    }
}

#[tokio::test]
async fn side_requests_ignore_markers() {
    let mock = MockApi::start().await;
    let body = json!({"model": MODEL, "messages": user_says("[[error:500]] [[slow:40:1000]]")});
    let response = post(&mock, "/v1/messages", &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let message: Value = response.json().await.expect("a JSON message");
    assert_eq!(message["content"][0]["text"], "Mock title");
}

#[tokio::test]
async fn slow_replies_trickle() {
    let mock = MockApi::start().await;
    let ask = user_says("[[slow:3:200]]");
    let mut response = post(&mock, "/v1/messages", &main_loop(&ask, true)).await;
    let (mut body, mut first_seen, mut last_seen) = (String::new(), None, None);
    while let Some(chunk) = response.chunk().await.expect("body chunk") {
        body.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        if body.contains("w0 ") {
            first_seen.get_or_insert_with(Instant::now);
        }
        if body.contains("w2 ") {
            last_seen.get_or_insert_with(Instant::now);
        }
    }
    let events = parse_sse(&body);
    assert_eq!(concat_deltas(&events, "text_delta", "text"), "w0 w1 w2 ");
    // Two 200 ms pauses lie between the first and the last delta, unless the body was buffered.
    let spread = last_seen.unwrap() - first_seen.unwrap();
    assert!(
        spread >= Duration::from_millis(390),
        "deltas arrived {spread:?} apart"
    );
}

#[tokio::test]
async fn count_tokens_and_unknown_routes() {
    let mock = MockApi::start().await;
    let body = main_loop(&user_says("x"), false);
    let response = post(&mock, "/v1/messages/count_tokens", &body).await;
    let count: Value = response.json().await.expect("a JSON count");
    assert_eq!(count, json!({"input_tokens": 10}));
    let response = post(&mock, "/v1/models", &json!({})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(mock.requests().is_empty(), "only /v1/messages is recorded");
}

#[tokio::test]
async fn requests_are_recorded_and_awaitable() {
    let mock = MockApi::start().await;
    let mut first = main_loop(&user_says("one [[say:x]]"), false);
    first["system"] =
        json!([{"type": "text", "text": "You are"}, {"type": "text", "text": "a mock"}]);
    let client = reqwest::Client::new();
    let send = client
        .post(format!("{}/v1/messages", mock.base_url()))
        .header("x-api-key", "sk-test")
        .json(&first)
        .send();
    // The wait starts before the request exists, so it must be woken by its arrival.
    let (waited, sent) = tokio::join!(
        mock.wait_for_request(|r| r.api_key() == Some("sk-test"), WAIT),
        send
    );
    assert_eq!(sent.expect("sent").status(), StatusCode::OK);
    let waited = waited.expect("the request arrived");
    assert_eq!(waited.system_text(), "You are\na mock");
    assert_eq!(waited.last_user_text().as_deref(), Some("one [[say:x]]"));
    assert!(waited.is_main_loop());

    let second = json!({"model": MODEL, "system": "plain", "messages": user_says("two")});
    let response = client
        .post(format!("{}/v1/messages", mock.base_url()))
        .bearer_auth("oauth-token")
        .json(&second)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);

    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0], waited);
    assert_eq!(requests[1].api_key(), Some("oauth-token"));
    assert_eq!(requests[1].system_text(), "plain");
    assert!(!requests[1].is_main_loop());
    let never = mock.wait_for_request(|r| r.api_key() == Some("nobody"), Duration::from_millis(50));
    assert_eq!(never.await, None);
}

#[tokio::test]
async fn the_demo_streams_its_text_and_calls_a_tool_for_an_example() {
    let mock = MockApi::serve(Script::Demo).await.expect("a port");
    let hello = main_loop(&user_says("hello"), true);
    let events = streamed_events(post(&mock, "/v1/messages", &hello).await).await;
    let deltas = names(&events)
        .iter()
        .filter(|name| **name == "content_block_delta")
        .count();
    assert!(deltas > 50, "a word a delta, {deltas} deltas");
    assert_eq!(
        concat_deltas(&events, "text_delta", "text"),
        demo::text_reply("hello")
    );

    let list = main_loop(&user_says("list files please"), true);
    let events = streamed_events(post(&mock, "/v1/messages", &list).await).await;
    let input = concat_deltas(&events, "input_json_delta", "partial_json");
    let input: Value = serde_json::from_str(&input).expect("the input JSON");
    assert_eq!(input["command"], "ls -la");
    // Markers still work.
    let marked = main_loop(&user_says("[[say:marked]]"), false);
    let message: Value = post(&mock, "/v1/messages", &marked)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(message["content"][0]["text"], "marked");
    assert!(mock.requests().is_empty(), "the demo keeps no requests");
}
