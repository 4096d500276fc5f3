//! The E2B mock: its control plane against E2B's spec, its sandboxes (the real server, waiting
//! for the token their creator writes through envd) through its host-routing proxy, their
//! timeouts, and the `e2b-mock` binary.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
};

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{
    Client, E2bMock, PATIENCE, assistant_text, built_binary, command_line, descendants,
    e2b::{
        Config, ENVD_PORT, KilledBy, SERVER_PORT, SandboxRecord, SandboxState, Spec, TOKEN_FILE,
    },
    is_alive, json_answer, real_claude, result_of,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::{MaybeTlsStream, tungstenite::client::IntoClientRequest};

const KEY: &str = "e2b_test_key";
/// The server's token, as a client generates it and writes it through envd.
const TOKEN: &str = "token-the-client-generated";
/// A token in the create's `envVars`: it would let requests in, were they the server's.
const ENV_TOKEN: &str = "token-in-the-create-envvars";

fn server_bin() -> PathBuf {
    built_binary(
        Path::new(env!("CARGO_BIN_EXE_e2b-mock")),
        "claude-agent-server",
    )
}

/// The mock with the default key and template, its servers running the fake agent.
async fn mock() -> E2bMock {
    let config = Config::new(server_bin(), env!("CARGO_BIN_EXE_fake-agent").into());
    E2bMock::start(config).await.unwrap()
}

/// A control-plane request with `key` as `X-API-Key`; the status, the answer's `X-` headers
/// and its JSON (`null` when it has none).
async fn call(
    mock: &E2bMock,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", mock.api_url()));
    if let Some(key) = key {
        request = request.header("X-API-Key", key);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.unwrap();
    let json = match text.is_empty() {
        true => Value::Null,
        false => serde_json::from_str(&text).unwrap_or(Value::String(text)),
    };
    (status, headers, json)
}

/// Creates a sandbox of `template` with a token and a key in its `envVars`; the answer.
async fn create(mock: &E2bMock, template: &str, timeout: u64) -> Value {
    let body = json!({
        "templateID": template,
        "timeout": timeout,
        "envVars": {"CLAUDE_AGENT_TOKEN": ENV_TOKEN, "ANTHROPIC_API_KEY": "sk-ant-from-client"},
        "metadata": {"purpose": "test"},
        "secure": true,
        "allow_internet_access": true,
        "autoPause": false,
    });
    let (status, _, sandbox) = call(
        mock,
        Method::POST,
        "/sandboxes",
        Some(KEY),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sandbox}");
    sandbox
}

/// An HTTP client that finds `<port>-<sandboxID>.localhost` at the mock, as a browser does.
fn sandbox_client(mock: &E2bMock, host: &str) -> reqwest::Client {
    let addr: SocketAddr = mock.api_url()["http://".len()..].parse().unwrap();
    let name = host.split(':').next().unwrap();
    reqwest::Client::builder()
        .resolve(name, addr)
        .build()
        .unwrap()
}

/// The host of the sandbox's `port`: `<port>-<sandboxID>.<domain>`.
fn port_host(mock: &E2bMock, sandbox: &Value, port: u16) -> String {
    let id = sandbox["sandboxID"].as_str().unwrap();
    format!("{port}-{id}.{}", mock.domain())
}

/// The host of the sandbox's server.
fn host(mock: &E2bMock, sandbox: &Value) -> String {
    port_host(mock, sandbox, SERVER_PORT)
}

/// `GET path` of the sandbox's server, with `token` as bearer if any.
async fn server_get(
    mock: &E2bMock,
    sandbox: &Value,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let host = host(mock, sandbox);
    let mut request = sandbox_client(mock, &host).get(format!("http://{host}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    json_answer(request).await
}

/// `POST /files` of the sandbox's envd with `access_token` as `X-Access-Token`, if any, and
/// `query` (`path`, `username`); the body `content` of `content_type`.
async fn envd_post(
    mock: &E2bMock,
    sandbox: &Value,
    access_token: Option<&str>,
    query: &[(&str, &str)],
    content_type: &str,
    content: String,
) -> (StatusCode, Value) {
    let host = port_host(mock, sandbox, ENVD_PORT);
    let mut request = sandbox_client(mock, &host)
        .post(format!("http://{host}/files"))
        .query(query)
        .header("content-type", content_type)
        .body(content);
    if let Some(token) = access_token {
        request = request.header("X-Access-Token", token);
    }
    json_answer(request).await
}

/// Writes `content` to `path` in the sandbox through envd, as the client writes the token.
async fn envd_write(
    mock: &E2bMock,
    sandbox: &Value,
    access_token: Option<&str>,
    path: &str,
    content: &str,
) -> (StatusCode, Value) {
    let query = [("path", path), ("username", "user")];
    let octets = "application/octet-stream";
    envd_post(
        mock,
        sandbox,
        access_token,
        &query,
        octets,
        content.to_owned(),
    )
    .await
}

fn access_token(sandbox: &Value) -> &str {
    sandbox["envdAccessToken"].as_str().unwrap()
}

/// A sandbox whose server has [`TOKEN`]: created, and the token written through envd, as the
/// client does.
async fn ready(mock: &E2bMock, timeout: u64) -> Value {
    let sandbox = create(mock, "claude-agent-server", timeout).await;
    let token = Some(access_token(&sandbox));
    let (status, written) = envd_write(mock, &sandbox, token, TOKEN_FILE, TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{written}");
    sandbox
}

fn record<'a>(records: &'a [SandboxRecord], sandbox: &Value) -> &'a SandboxRecord {
    records
        .iter()
        .find(|record| record.sandbox_id == sandbox["sandboxID"])
        .unwrap_or_else(|| panic!("no record of {sandbox}"))
}

#[tokio::test]
async fn create_answers_a_spec_valid_sandbox_and_records_the_request() {
    let mock = mock().await;
    let sandbox = create(&mock, "claude-agent-server", 300).await;
    let spec = Spec::load().unwrap();
    let operation = spec.operation("post", "/sandboxes").unwrap();
    operation.check_response(201, Some(&sandbox)).unwrap();
    assert_eq!(sandbox["templateID"], "claude-agent-server");
    assert_eq!(sandbox["domain"], mock.domain());
    assert!(
        sandbox["envdVersion"].as_str().unwrap() >= "0.1.0",
        "{sandbox}"
    );
    let id = sandbox["sandboxID"].as_str().unwrap();

    let (status, _, detail) = call(
        &mock,
        Method::GET,
        &format!("/sandboxes/{id}"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let get = spec.operation("get", "/sandboxes/{sandboxID}").unwrap();
    get.check_response(200, Some(&detail)).unwrap();
    assert_eq!(
        (&detail["state"], &detail["metadata"]),
        (&json!("running"), &json!({"purpose": "test"}))
    );

    let (status, headers, listed) = call(
        &mock,
        Method::GET,
        "/v2/sandboxes?metadata=purpose%3Dtest",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["sandboxID"], id);
    assert_eq!(headers["x-total-running"], "1");
    let (_, _, other) = call(
        &mock,
        Method::GET,
        "/v2/sandboxes?metadata=purpose%3Dother",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(other, json!([]));

    // What tests of clients check: the exact body, its envVars too.
    let (status, _, records) = call(&mock, Method::GET, "/_mock/sandboxes", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(records[0]["sandboxID"], id);
    assert_eq!(records[0]["state"], "running");
    assert_eq!(records[0]["requests"][0]["method"], "POST");
    assert_eq!(records[0]["requests"][0]["path"], "/sandboxes");
    assert_eq!(
        records[0]["requests"][0]["body"]["envVars"]["CLAUDE_AGENT_TOKEN"],
        ENV_TOKEN
    );
    assert_eq!(records[0]["requests"][1]["method"], "GET");
    assert_eq!(records[0]["envd"], json!([]));

    // Each sandbox's envd has an access token of its own, which only its creator learns.
    let other = create(&mock, "claude-agent-server", 300).await;
    assert_eq!(access_token(&sandbox).len(), 32, "{sandbox}");
    assert_ne!(access_token(&sandbox), access_token(&other));
    assert_eq!(detail["envdAccessToken"], sandbox["envdAccessToken"]);
}

#[tokio::test]
async fn the_server_waits_for_its_token_until_it_is_written_through_envd() {
    let mock = mock().await;
    let sandbox = create(&mock, "claude-agent-server", 300).await;
    let (status, body) = server_get(&mock, &sandbox, "/healthz", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!("ok")));
    // The token in envVars is not the server's: E2B resumed it with none.
    for token in [None, Some(ENV_TOKEN)] {
        let (status, error) = server_get(&mock, &sandbox, "/v1/sessions", token).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
        assert_eq!(error["code"], "token_pending");
    }

    let envd = port_host(&mock, &sandbox, ENVD_PORT);
    let health = sandbox_client(&mock, &envd)
        .get(format!("http://{envd}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::NO_CONTENT);
    for wrong in [None, Some("0123456789abcdef0123456789abcdef")] {
        let (status, error) = envd_write(&mock, &sandbox, wrong, TOKEN_FILE, TOKEN).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
        assert_eq!(error["code"], 401);
        assert!(error["message"].is_string(), "{error}");
    }
    // Nothing was written: the server still waits.
    let (status, _) = server_get(&mock, &sandbox, "/v1/sessions", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let right = Some(access_token(&sandbox));
    let (status, written) = envd_write(&mock, &sandbox, right, TOKEN_FILE, TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{written}");
    assert_eq!(
        written,
        json!([{"path": TOKEN_FILE, "name": "token", "type": "file"}])
    );
    for (token, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(ENV_TOKEN), StatusCode::UNAUTHORIZED),
        (Some(TOKEN), StatusCode::OK),
    ] {
        let (status, body) = server_get(&mock, &sandbox, "/v1/sessions", token).await;
        assert_eq!(status, expected, "{token:?}: {body}");
    }

    // What tests of clients check: how the token was written, and not the token itself.
    let (_, _, records) = call(&mock, Method::GET, "/_mock/sandboxes", None, None).await;
    let envd = records[0]["envd"].as_array().unwrap();
    let statuses: Vec<&Value> = envd.iter().map(|call| &call["status"]).collect();
    assert_eq!(statuses, [204, 401, 401, 200], "{envd:?}");
    let write = &envd[3];
    assert_eq!(
        (&write["method"], &write["path"]),
        (&json!("POST"), &json!("/files"))
    );
    assert_eq!(
        write["query"],
        json!({"path": TOKEN_FILE, "username": "user"})
    );
    let sent_access_token = |call: &Value| {
        let headers = call["headers"].as_array().unwrap();
        headers.contains(&json!("x-access-token"))
    };
    assert!(sent_access_token(write), "{write}");
    assert!(!sent_access_token(&envd[1]), "{}", envd[1]);
    assert!(!records.to_string().contains(TOKEN), "{records}");
}

#[tokio::test]
async fn envd_takes_multipart_files_named_by_their_path_and_refuses_bad_paths() {
    let mock = mock().await;
    let sandbox = create(&mock, "claude-agent-server", 300).await;
    let token = Some(access_token(&sandbox));
    for (path, says) in [
        ("home/user/.claude-agent-server/token", "not absolute"),
        ("/home/user/../../etc/token", ".."),
        ("/", "no file"),
    ] {
        let (status, error) = envd_write(&mock, &sandbox, token, path, TOKEN).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {error}");
        assert_eq!(error["code"], 400);
        assert!(error["message"].as_str().unwrap().contains(says), "{error}");
    }
    let query = [("path", TOKEN_FILE), ("username", "nobody")];
    let octets = "application/octet-stream";
    let (status, error) = envd_post(&mock, &sandbox, token, &query, octets, TOKEN.into()).await;
    assert_eq!(
        (status, &error["code"]),
        (StatusCode::UNAUTHORIZED, &json!(401))
    );

    // As E2B's SDK uploads: a multipart `file` whose file name is its path.
    let form = format!(
        "--b0und\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{TOKEN_FILE}\"\r\n\
         content-type: application/octet-stream\r\n\r\n{TOKEN}\r\n--b0und--\r\n"
    );
    let multipart = "multipart/form-data; boundary=b0und";
    let query = [("username", "user")];
    let (status, written) = envd_post(&mock, &sandbox, token, &query, multipart, form).await;
    assert_eq!(status, StatusCode::OK, "{written}");
    assert_eq!(written[0]["path"], TOKEN_FILE);
    let (status, body) = server_get(&mock, &sandbox, "/v1/sessions", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_wrong_or_missing_api_key_is_401() {
    let mock = mock().await;
    let body = r#"{"templateID": "claude-agent-server"}"#;
    for key in [None, Some("e2b_wrong")] {
        let (status, _, error) = call(&mock, Method::POST, "/sandboxes", key, Some(body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
        assert_eq!(error["code"], 401);
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("Invalid API key"),
            "{error}"
        );
        let (status, _, _) = call(&mock, Method::GET, "/v2/sandboxes", key, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(mock.sandboxes().is_empty());
}

#[tokio::test]
async fn a_body_that_breaks_the_spec_is_400() {
    let mock = mock().await;
    for (body, says) in [
        (r#"{"timeout": 300}"#, "templateID"),
        (
            r#"{"templateID": "claude-agent-server", "timeout": "300"}"#,
            "timeout",
        ),
        (
            r#"{"templateID": "claude-agent-server", "envVars": {"A": 1}}"#,
            "envVars",
        ),
        (
            r#"{"templateID": "claude-agent-server", "timeout": 3000000000}"#,
            "int32",
        ),
        (r#"{"templateID": "#, "parsing"),
        (r#"["claude-agent-server"]"#, "object"),
    ] {
        let (status, _, error) =
            call(&mock, Method::POST, "/sandboxes", Some(KEY), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert_eq!(error["code"], 400);
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{body}: {error}"
        );
    }
    let sandbox = create(&mock, "claude-agent-server", 300).await;
    let id = sandbox["sandboxID"].as_str().unwrap();
    let path = format!("/sandboxes/{id}/timeout");
    let (status, _, error) = call(
        &mock,
        Method::POST,
        &path,
        Some(KEY),
        Some(r#"{"timeout": -5}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(mock.sandboxes().len(), 1);
}

#[tokio::test]
async fn an_unknown_template_is_refused_with_an_error() {
    let mock = mock().await;
    let body = r#"{"templateID": "no-such-template"}"#;
    let (status, _, error) = call(&mock, Method::POST, "/sandboxes", Some(KEY), Some(body)).await;
    // E2B's spec declares 400 for a create, not the 404 its server sends.
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["message"], "template 'no-such-template' not found");
    assert!(mock.sandboxes().is_empty());
}

#[tokio::test]
async fn the_proxy_reaches_the_sandbox_server_over_http_and_websocket() {
    let mock = mock().await;
    let sandbox = ready(&mock, 300).await;
    let host = host(&mock, &sandbox);
    let http = sandbox_client(&mock, &host);

    let health = http
        .get(format!("http://{host}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");
    // The token written through envd is the server's: nothing else gets in.
    let sessions = format!("http://{host}/v1/sessions");
    let refused = http.get(&sessions).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let allowed = http.get(&sessions).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);

    let mut client = connect(&mock, &host, &format!("/ws?token={TOKEN}")).await;
    let connected = client.next().await;
    assert!(
        matches!(connected, ServerMessage::Connected { .. }),
        "{connected:?}"
    );
}

/// A WebSocket to `path` on the sandbox host `host`, through the mock's listener.
async fn connect(mock: &E2bMock, host: &str, path: &str) -> Client {
    let tcp = tokio::net::TcpStream::connect(&mock.api_url()["http://".len()..])
        .await
        .unwrap();
    let request = format!("ws://{host}{path}").into_client_request().unwrap();
    let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp))
        .await
        .unwrap();
    Client { ws }
}

/// Says hello through the sandbox's legacy session, with `config` posted first if any; the
/// turn's frames.
async fn hello(mock: &E2bMock, sandbox: &Value, config: Option<Value>) -> Vec<ServerMessage> {
    let host = host(mock, sandbox);
    if let Some(config) = config {
        let posted = sandbox_client(mock, &host)
            .post(format!("http://{host}/config"))
            .bearer_auth(TOKEN)
            .json(&config);
        let (status, body) = json_answer(posted).await;
        assert!(status.is_success(), "{status}: {body}");
    }
    let mut client = connect(mock, &host, &format!("/ws?token={TOKEN}")).await;
    client.next().await;
    client.say("hello from the sandbox").await;
    client.turn().await
}

#[tokio::test]
async fn the_agent_gets_the_anthropic_key_from_the_config_not_from_env_vars() {
    let config = Config::new(server_bin(), real_claude());
    let mock = E2bMock::start(config).await.unwrap();
    // The key in envVars never reaches the server: with no config, its agent has none.
    let keyless = ready(&mock, 300).await;
    let turn = hello(&mock, &keyless, None).await;
    assert_eq!(
        result_of(&turn)["result"],
        "Not logged in · Please run /login"
    );
    // The client posts it in the config, over the authenticated server.
    let configured = ready(&mock, 300).await;
    let config = json!({"anthropicApiKey": "sk-ant-from-config"});
    let turn = hello(&mock, &configured, Some(config)).await;
    assert!(
        assistant_text(&turn).contains("hello from the sandbox"),
        "{turn:?}"
    );
    let keys: Vec<Option<String>> = mock
        .messages_api()
        .requests()
        .iter()
        .map(|r| r.api_key().map(str::to_owned))
        .collect();
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|key| key.as_deref() == Some("sk-ant-from-config")),
        "{keys:?}"
    );
}

#[tokio::test]
async fn delete_kills_the_sandbox_then_it_is_404_and_the_proxy_502() {
    let mock = mock().await;
    let sandbox = ready(&mock, 300).await;
    let id = sandbox["sandboxID"].as_str().unwrap();
    let host = host(&mock, &sandbox);
    let mut open = connect(&mock, &host, &format!("/ws?token={TOKEN}")).await;
    open.next().await;

    let path = format!("/sandboxes/{id}");
    let (status, _, body) = call(&mock, Method::DELETE, &path, Some(KEY), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let records = mock.sandboxes();
    assert_eq!(record(&records, &sandbox).state, SandboxState::Killed);
    assert_eq!(
        record(&records, &sandbox).killed_by,
        Some(KilledBy::Request)
    );
    // Its connections died with it.
    open.closed().await;

    for method in [Method::DELETE, Method::GET] {
        let (status, _, error) = call(&mock, method, &path, Some(KEY), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
        assert_eq!(error["code"], 404);
    }
    let timeout = format!("{path}/timeout");
    let (status, _, _) = call(
        &mock,
        Method::POST,
        &timeout,
        Some(KEY),
        Some(r#"{"timeout": 5}"#),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Its server and its envd alike.
    let (status, gone) = server_get(&mock, &sandbox, "/healthz", None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let not_found = json!({"sandboxId": id, "message": "The sandbox was not found", "code": 502});
    assert_eq!(gone, not_found);
    let (status, gone) = envd_write(&mock, &sandbox, Some(access_token(&sandbox)), "/a", "a").await;
    assert_eq!((status, gone), (StatusCode::BAD_GATEWAY, not_found));
}

#[tokio::test]
async fn a_sandbox_is_killed_when_its_timeout_passes() {
    let mock = mock().await;
    let short = create(&mock, "claude-agent-server", 1).await;
    let extended = create(&mock, "claude-agent-server", 600).await;
    let path = format!(
        "/sandboxes/{}/timeout",
        extended["sandboxID"].as_str().unwrap()
    );
    let (status, _, _) = call(
        &mock,
        Method::POST,
        &path,
        Some(KEY),
        Some(r#"{"timeout": 1}"#),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let records = mock
        .wait_for(|records| records.iter().all(|r| r.state == SandboxState::Killed))
        .await;
    for sandbox in [&short, &extended] {
        assert_eq!(record(&records, sandbox).killed_by, Some(KilledBy::Timeout));
    }
    let body = &record(&records, &extended).requests[1];
    assert_eq!(
        (body.method.as_str(), &body.body),
        ("POST", &json!({"timeout": 1}))
    );
    let (_, headers, listed) = call(&mock, Method::GET, "/v2/sandboxes", Some(KEY), None).await;
    assert_eq!(
        (listed, &headers["x-total-running"]),
        (json!([]), &"0".parse().unwrap())
    );
}

#[tokio::test]
async fn a_never_ready_sandbox_has_a_closed_port() {
    let mock = mock().await;
    let sandbox = create(&mock, "never-ready", 300).await;
    let host = host(&mock, &sandbox);
    let answer = sandbox_client(&mock, &host)
        .get(format!("http://{host}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The sandbox is running but port is not open"
    );
    assert_eq!((&body["port"], &body["code"]), (&json!(3000), &json!(502)));
    // Its envd runs, as in any sandbox.
    let token = Some(access_token(&sandbox));
    let (status, written) = envd_write(&mock, &sandbox, token, "/home/user/a.txt", "a").await;
    assert_eq!(status, StatusCode::OK, "{written}");
    // It is killed like any other.
    let path = format!("/sandboxes/{}", sandbox["sandboxID"].as_str().unwrap());
    let (status, _, _) = call(&mock, Method::DELETE, &path, Some(KEY), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_binary_prints_its_addresses_and_kills_its_sandboxes_when_stdin_closes() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_e2b-mock"))
        .env("E2B_MOCK_AGENT", "fake")
        .env("E2B_MOCK_API_KEY", "e2b_other_key")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let api = lines.next_line().await.unwrap().unwrap();
    let domain = lines.next_line().await.unwrap().unwrap();
    let api = api.strip_prefix("e2b api ").unwrap().to_owned();
    let port = api.rsplit(':').next().unwrap();
    assert!(api.starts_with("http://127.0.0.1:"), "{api}");
    assert_eq!(domain, format!("e2b domain localhost:{port}"));

    let http = reqwest::Client::new();
    let create = http
        .post(format!("{api}/sandboxes"))
        .header("X-API-Key", "e2b_other_key");
    let (_, created) =
        json_answer(create.json(&json!({"templateID": "claude-agent-server"}))).await;
    let (_, records) = json_answer(http.get(format!("{api}/_mock/sandboxes"))).await;
    assert_eq!(records[0]["sandboxID"], created["sandboxID"], "{created}");
    let server = server_pid(child.id().unwrap());

    drop(child.stdin.take());
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        !is_alive(server),
        "the sandbox's server {server} outlived the mock"
    );
}

/// The pid of the `claude-agent-server` below the process `mock`.
fn server_pid(mock: u32) -> u32 {
    descendants(mock)
        .into_iter()
        .find(|pid| command_line(*pid).contains("claude-agent-server"))
        .expect("the sandbox's server runs")
}
