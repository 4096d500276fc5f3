//! `/metrics`, read as a scraper reads it (a Prometheus text parser): a turn with a tool call
//! and a permission prompt moves the counters; agents that die and are restarted are counted;
//! the main port wants the token, `--metrics-addr` does not.

use std::{path::Path, time::Duration};

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    MockApi, PATIENCE, TestServer, built_binary, json_answer, real_claude, sdk_type,
};
use prometheus_parse::{Scrape, Value};
use reqwest::{Method, StatusCode, header};
use serde_json::json;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");
const TOKEN: &str = "test-token-0123456789abcdef";

/// The address `--metrics-addr 127.0.0.1:0` got, from the server's log.
fn metrics_addr(server: &TestServer) -> String {
    let log = server.log();
    let (_, rest) = log
        .split_once("metrics, with no token, at http://")
        .unwrap_or_else(|| panic!("no metrics address in the log:\n{log}"));
    rest.split_once("/metrics").unwrap().0.to_owned()
}

/// `url` scraped and parsed.
async fn scrape(url: &str, token: Option<&str>) -> Scrape {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let media = answer.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(media.starts_with("application/openmetrics-text"), "{media}");
    let text = answer.text().await.unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

/// The value of the sample `name` whose labels include `labels`; 0 if there is none.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name)
        .find(|sample| {
            labels
                .iter()
                .all(|(label, value)| sample.labels.get(label) == Some(value))
        })
        .map_or(0.0, |sample| match sample.value {
            Value::Counter(value) | Value::Gauge(value) | Value::Untyped(value) => value,
            Value::Histogram(_) | Value::Summary(_) => panic!("{name} is not a number"),
        })
}

/// Scrapes `url` until `check` holds: what it counts changes with no event to wait on.
async fn scrape_until(url: &str, token: Option<&str>, check: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let scrape = scrape(url, token).await;
        if check(&scrape) {
            return scrape;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the metrics are still {:?}",
            scrape.samples
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn say(text: &str) -> String {
    json!({"type": "user_message", "data": {"type": "user", "parent_tool_use_id": null,
        "message": {"role": "user", "content": text}}})
    .to_string()
}

#[tokio::test]
async fn a_turn_with_a_prompt_moves_the_counters() {
    let api = MockApi::start().await;
    let env = [
        ("ANTHROPIC_BASE_URL", api.base_url()),
        ("ANTHROPIC_API_KEY", "test-key".to_owned()),
    ];
    let env: Vec<_> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = ["--metrics-addr", "127.0.0.1:0"];
    let server = TestServer::start(Path::new(SERVER), &real_claude(), &env, &args).await;
    let metrics = format!("http://{}/metrics", metrics_addr(&server));

    let session = server
        .create_session(&json!({"config": {"permissionMode": "default"}}))
        .await;
    let id = session["id"].as_str().unwrap();
    let ws = format!("/v1/sessions/{id}/ws");
    let (mut client, _) = server.attach_to(&ws).await;
    // `default` mode asks before a command that writes a file.
    client
        .send(&say("[[tool:bash:touch made-here && echo ok]]"))
        .await;
    let frames = client
        .until(|f| matches!(f, ServerMessage::PermissionRequest { .. }))
        .await;
    let Some(ServerMessage::PermissionRequest { data: prompt, .. }) = frames.last() else {
        unreachable!()
    };
    let asking = scrape(&metrics, None).await;
    assert_eq!(
        value(&asking, "claude_agent_permission_prompts_pending", &[]),
        1.0
    );
    assert_eq!(value(&asking, "claude_agent_clients", &[]), 1.0);
    assert_eq!(
        value(&asking, "claude_agent_sessions", &[("status", "running")]),
        1.0
    );
    let allow = json!({"type": "permission_response",
        "data": {"request_id": prompt.request_id, "behavior": "allow"}});
    client.send(&allow.to_string()).await;
    client
        .until(|f| sdk_type(f).as_deref() == Some("result"))
        .await;
    // A second client replays the session from its start.
    let (mut replaying, _) = server.attach_to(&ws).await;
    replaying
        .until(|f| sdk_type(f).as_deref() == Some("result"))
        .await;

    let after = scrape(&metrics, None).await;
    let count = |name: &str| value(&after, name, &[]);
    assert!(count("claude_agent_frames_relayed_total") > 0.0);
    assert!(count("claude_agent_relayed_bytes_total") > count("claude_agent_frames_relayed_total"));
    assert!(count("claude_agent_frames_replayed_total") > 0.0);
    // The default session's and this one's.
    assert_eq!(count("claude_agent_agents_started_total"), 2.0);
    assert_eq!(count("claude_agent_agents_died_total"), 0.0);
    assert_eq!(count("claude_agent_permission_prompts_pending"), 0.0);
    assert_eq!(count("claude_agent_permission_wait_seconds_count"), 1.0);
    assert_eq!(count("claude_agent_turn_duration_seconds_count"), 1.0);
    assert!(count("claude_agent_turn_duration_seconds_sum") > 0.0);
    let tokens = |kind| value(&after, "claude_agent_tokens_total", &[("kind", kind)]);
    assert!(tokens("input") > 0.0 && tokens("output") > 0.0);
    assert!(count("claude_agent_cost_usd_total") >= 0.0);
    assert_eq!(count("claude_agent_clients"), 2.0);
    let sessions = |status| value(&after, "claude_agent_sessions", &[("status", status)]);
    let statuses = ["starting", "idle", "running", "hibernated", "exited"];
    assert_eq!(statuses.map(sessions).iter().sum::<f64>(), 2.0);
    assert_eq!(sessions("running"), 0.0);
    let responses = |route, status| {
        value(
            &after,
            "claude_agent_http_responses_total",
            &[("route", route), ("status", status)],
        )
    };
    assert_eq!(responses("/v1/sessions", "201"), 1.0);
    assert_eq!(responses("/v1/sessions/:id/ws", "101"), 2.0);

    // The main port has them too (this server needs no token).
    let main = scrape(&server.url("/metrics"), None).await;
    assert!(value(&main, "claude_agent_frames_relayed_total", &[]) > 0.0);
}

#[tokio::test]
async fn dead_agents_and_their_restarts_are_counted_and_the_main_port_wants_the_token() {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    let args = ["--token", TOKEN, "--metrics-addr", "127.0.0.1:0"];
    let server = TestServer::start(Path::new(SERVER), &fake, &[], &args).await;
    let open = format!("http://{}/metrics", metrics_addr(&server));
    let gated = server.url("/metrics");
    let refused = reqwest::get(&gated).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let http = reqwest::Client::new();
    let create = http.post(server.url("/v1/sessions")).json(&json!({}));
    let (_, created) = json_answer(create.bearer_auth(TOKEN)).await;
    let messages = server.url(&format!(
        "/v1/sessions/{}/messages",
        created["id"].as_str().unwrap()
    ));
    let send = |text: &str| {
        let message = json!({"type": "user", "parent_tool_use_id": null,
            "message": {"role": "user", "content": text}});
        http.request(Method::POST, &messages)
            .bearer_auth(TOKEN)
            .json(&message)
            .send()
    };
    assert_eq!(
        send("[[exit-mid-line]]").await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let died = scrape_until(&open, None, |s| {
        value(s, "claude_agent_agents_died_total", &[]) == 1.0
    })
    .await;
    assert_eq!(
        value(&died, "claude_agent_agents_restarted_total", &[]),
        0.0
    );
    assert_eq!(
        value(&died, "claude_agent_sessions", &[("status", "exited")]),
        1.0
    );
    assert_eq!(
        send("are you back?").await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let back = scrape(&gated, Some(TOKEN)).await;
    assert_eq!(
        value(&back, "claude_agent_agents_restarted_total", &[]),
        1.0
    );
    assert_eq!(value(&back, "claude_agent_agents_started_total", &[]), 3.0);
    assert_eq!(
        value(
            &back,
            "claude_agent_http_responses_total",
            &[("route", "/metrics"), ("status", "401")]
        ),
        1.0
    );
}
