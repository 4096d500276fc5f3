//! `/config` and routing, as the original answers them (section 8 of original-server.md), with
//! its defects fixed: values checked, secrets redacted, CORS on request.

use std::path::Path;

use claude_agent_protocol::ServerMessage;
use claude_agent_testkit::{TestServer, built_binary};
use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");

async fn server(args: &[&str]) -> TestServer {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    TestServer::start(Path::new(SERVER), &fake, &[], args).await
}

async fn post(server: &TestServer, body: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .post(server.url("/config"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn get_config(server: &TestServer) -> Value {
    reqwest::get(server.url("/config"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn config_is_replaced_echoed_and_redacted() {
    let server = server(&[]).await;
    assert_eq!(get_config(&server).await, json!({"config": {}}));

    // What the original TypeScript client posts: its own options ride along.
    let (status, body) = post(
        &server,
        r#"{"anthropicApiKey":"sk-ant-secret","model":"claude-x","systemPrompt":"Be brief.",
            "e2bApiKey":"e2b-secret","template":"claude-agent-server","timeoutMs":300000,"debug":true}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let expected =
        json!({"anthropicApiKey": "[redacted]", "model": "claude-x", "systemPrompt": "Be brief."});
    assert_eq!(
        body,
        json!({"success": true, "config": expected, "ignored": ["e2bApiKey", "template", "timeoutMs", "debug"]})
    );
    let stored = get_config(&server).await;
    assert_eq!(stored, json!({"config": expected}));
    assert!(
        !stored.to_string().contains("secret"),
        "no secret is ever echoed: {stored}"
    );

    // Replaced wholesale, not merged.
    let (status, body) = post(&server, r#"{"maxTurns":2}"#).await;
    assert_eq!(
        (status, &body["config"]),
        (StatusCode::OK, &json!({"maxTurns": 2}))
    );
}

#[tokio::test]
async fn a_bad_config_is_refused_and_the_old_one_kept() {
    let server = server(&[]).await;
    post(&server, r#"{"model":"kept"}"#).await;
    for (body, error) in [
        (
            "{not json",
            "Invalid JSON: key must be a string at line 1 column 2",
        ),
        ("null", "The config must be a JSON object, found null"),
        (
            r#"{"maxTurns":"x"}"#,
            r#"Invalid config field `maxTurns`: invalid type: string "x", expected u32"#,
        ),
    ] {
        let (status, answer) = post(&server, body).await;
        assert_eq!(
            (status, answer),
            (StatusCode::BAD_REQUEST, json!({"error": error})),
            "{body}"
        );
    }
    assert_eq!(
        get_config(&server).await,
        json!({"config": {"model": "kept"}})
    );

    // A cross-site form posts text/plain without a preflight: refused.
    let response = Client::new()
        .post(server.url("/config"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(r#"{"model":"csrf"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        get_config(&server).await,
        json!({"config": {"model": "kept"}})
    );
}

/// A `--www` folder and a `--client` package, each with one file.
fn www_dirs() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let (www, client) = (dir.path().join("www"), dir.path().join("client"));
    std::fs::create_dir_all(client.join("pkg")).unwrap();
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>demo</title>").unwrap();
    std::fs::write(client.join("web.js"), "export {};").unwrap();
    std::fs::write(client.join("package.json"), "{}").unwrap();
    std::fs::write(client.join("pkg/client_bg.wasm"), b"\0asm").unwrap();
    let args = [
        "--www",
        www.to_str().unwrap(),
        "--client",
        client.to_str().unwrap(),
    ];
    (dir, args.map(str::to_owned).to_vec())
}

#[tokio::test]
async fn the_demo_page_and_its_client_are_served() {
    let (_dir, args) = www_dirs();
    let server = server(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    for (path, kind, body) in [
        ("/", "text/html", "<!doctype html><title>demo</title>"),
        ("/client/web.js", "text/javascript", "export {};"),
        ("/client/pkg/client_bg.wasm", "application/wasm", "\0asm"),
    ] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let content_type = &response.headers()[header::CONTENT_TYPE];
        assert!(
            content_type.to_str().unwrap().starts_with(kind),
            "{path}: {content_type:?}"
        );
        assert_eq!(response.text().await.unwrap(), body, "{path}");
    }
}

#[tokio::test]
async fn other_paths_are_404_as_in_the_original() {
    let (_dir, args) = www_dirs();
    let server = server(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    // The client package's folder is not served, only its browser entry and `pkg/`.
    for path in [
        "/config/",
        "/nope",
        "/ws",
        "/client/package.json",
        "/client/pkg/nope",
    ] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.text().await.unwrap(), "Not Found");
    }
    let post = Client::new()
        .post(server.url("/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    let put = Client::new()
        .put(server.url("/config"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn cors_lets_configured_origins_configure() {
    let server = server(&["--cors-origin", "http://app.example"]).await;
    let preflight = |origin: &'static str| {
        Client::new()
            .request(reqwest::Method::OPTIONS, server.url("/config"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .send()
    };
    let allowed = preflight("http://app.example").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://app.example"
    );
    let other = preflight("http://evil.example").await.unwrap();
    assert!(
        other
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );

    // Without --cors-origin no cross-origin page gets an answer it may read.
    let plain = self::server(&[]).await;
    let response = reqwest::Client::new()
        .get(plain.url("/config"))
        .header(header::ORIGIN, "http://app.example")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

#[tokio::test]
async fn a_missing_cli_is_a_clear_startup_error() {
    let output = tokio::process::Command::new(SERVER)
        .args(["--port", "0", "--claude-path", "/nonexistent/claude"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--claude-path /nonexistent/claude: no executable file there"),
        "{stderr}"
    );
}

#[tokio::test]
async fn help_documents_every_flag() {
    let output = tokio::process::Command::new(SERVER)
        .arg("--help")
        .output()
        .await
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--host",
        "--port",
        "--claude-path",
        "--demo",
        "--workspace",
        "--cors-origin",
        "--allowed-host",
        "--www",
        "--client",
        "--log-bytes",
        "--state-dir",
        "--history-bytes",
        "--idle-timeout",
        "--ping-interval",
        "--interrupt-timeout",
        "--token",
        "--token-file",
        "--no-auth",
        "--header-timeout",
        "--keepalive-timeout",
        "--max-connections",
        "--containment",
        "--worker-threads",
        "--notify-url",
        "--notify-secret",
        "--metrics-addr",
        "--drain-timeout",
        "--log-format",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    for env in [
        "HOST",
        "PORT",
        "CLAUDE_PATH",
        "DEMO",
        "AGENT_WORKSPACE",
        "ALLOWED_HOSTS",
        "STATE_DIR",
        "HISTORY_BYTES",
        "IDLE_TIMEOUT",
        "PING_INTERVAL",
        "INTERRUPT_TIMEOUT",
        "CLAUDE_AGENT_TOKEN",
        "CLAUDE_AGENT_TOKEN_FILE",
        "NO_AUTH",
        "CORS_ORIGINS",
        "WWW_DIR",
        "CLIENT_DIR",
        "HEADER_TIMEOUT",
        "KEEPALIVE_TIMEOUT",
        "MAX_CONNECTIONS",
        "CONTAINMENT",
        "WORKER_THREADS",
        "NOTIFY_URL",
        "NOTIFY_SECRET",
        "METRICS_ADDR",
        "DRAIN_TIMEOUT",
        "LOG_FORMAT",
    ] {
        assert!(
            help.contains(&format!("[env: {env}")),
            "--help lacks {env}:\n{help}"
        );
    }
    // And none is left out: every flag the parser takes, with its variable.
    let command = <claude_agent_server::Args as clap::CommandFactory>::command();
    for arg in command.get_arguments() {
        let Some(long) = arg
            .get_long()
            .filter(|long| !["help", "version"].contains(long))
        else {
            continue;
        };
        assert!(
            help.contains(&format!("--{long}")),
            "--help lacks --{long}:\n{help}"
        );
        let env = arg
            .get_env()
            .unwrap_or_else(|| panic!("--{long} has no environment variable"));
        let env = format!("[env: {}", env.to_string_lossy());
        assert!(help.contains(&env), "--help lacks {env}:\n{help}");
    }
}

#[tokio::test]
async fn the_workspace_is_created_on_start() {
    // The original never created it, and its first message then crashed it.
    let server = server(&[]).await;
    assert!(server.home.path().join("workspace").is_dir());
}

#[tokio::test]
async fn browsers_connect_only_from_the_servers_own_or_allowed_origins() {
    let server = server(&["--cors-origin", "http://app.example"]).await;
    match server.connect_from("http://evil.example").await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        other => panic!("not refused: {other:?}"),
    }
    for origin in [server.url(""), "http://app.example".to_owned()] {
        let mut client = server.connect_from(&origin).await.unwrap();
        assert!(
            matches!(
                client.next().await,
                ServerMessage::Connected { .. } | ServerMessage::Error { .. }
            ),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn requests_that_name_another_host_are_refused() {
    let server = server(&["--allowed-host", "agent.example"]).await;
    let status = |host: &'static str| {
        let request = Client::new()
            .get(server.url("/config"))
            .header(header::HOST, host);
        async move { request.send().await.unwrap().status() }
    };
    // A rebinding page's own name: refused, though the request reached 127.0.0.1.
    assert_eq!(status("evil.example:3000").await, StatusCode::FORBIDDEN);
    for host in ["localhost:3000", "127.0.0.1", "agent.example"] {
        assert_eq!(status(host).await, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn a_request_without_host_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = server(&[]).await;
    let mut tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    tcp.write_all(b"GET /config HTTP/1.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[tokio::test]
async fn only_the_json_media_type_is_json() {
    let server = server(&[]).await;
    let post = |content_type: &'static str| {
        let request = Client::new()
            .post(server.url("/config"))
            .header(header::CONTENT_TYPE, content_type)
            .body("{}");
        async move { request.send().await.unwrap().status() }
    };
    for json in [
        "application/json",
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
    ] {
        assert_eq!(post(json).await, StatusCode::OK, "{json}");
    }
    for other in ["application/jsonp", "text/plain", "application/json-seq"] {
        assert_eq!(
            post(other).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{other}"
        );
    }
}

#[tokio::test]
async fn mcp_headers_reach_the_agent_in_a_private_file_not_its_command_line() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = server(&[]).await;
    let config = r#"{"mcpServers":{"docs":{"type":"http","url":"http://127.0.0.1:9/mcp",
        "headers":{"authorization":"Bearer mcp-secret-1"}}}}"#;
    let (status, answer) = post(&server, config).await;
    assert_eq!(status, StatusCode::OK);
    let headers = &answer["config"]["mcpServers"]["docs"]["headers"];
    assert_eq!(headers["authorization"], "[redacted]");
    // The pre-warmed agent is restarted with the new config: its command line names a file.
    let mut command_line = String::new();
    claude_agent_testkit::eventually("an agent with the MCP config", || {
        command_line = claude_agent_testkit::descendants(server.pid())
            .iter()
            .filter_map(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).ok())
            .map(|line| String::from_utf8_lossy(&line).replace('\0', " "))
            .find(|line| line.contains("--mcp-config="))
            .unwrap_or_default();
        !command_line.is_empty()
    })
    .await;
    assert!(!command_line.contains("mcp-secret-1"), "{command_line}");
    let path = command_line
        .split(' ')
        .find_map(|arg| arg.strip_prefix("--mcp-config="))
        .unwrap();
    let file = std::fs::read_to_string(path).unwrap();
    assert!(file.contains("Bearer mcp-secret-1"), "{file}");
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        !server.log().contains("mcp-secret-1"),
        "a secret was logged"
    );
}

#[tokio::test]
async fn a_config_no_agent_can_start_with_is_refused_naming_its_field() {
    let server = server(&[]).await;
    let file = server.home.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let cwd = serde_json::json!({ "cwd": file }).to_string();
    let (status, answer) = post(&server, &cwd).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let expected = format!(
        "Invalid config field `cwd`: {} is not a folder",
        file.display()
    );
    assert_eq!(answer, json!({ "error": expected }));
    let (status, answer) = post(&server, r#"{"model":"a\u0000b"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer["error"],
        "Invalid config field `model`: a string must not contain NUL characters"
    );
    // The same for a new session.
    let (status, answer) = server
        .request(
            reqwest::Method::POST,
            "/v1/sessions",
            Some(&serde_json::json!({ "config": { "cwd": file } })),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]),
        (StatusCode::BAD_REQUEST, &json!(expected))
    );
}

#[tokio::test]
async fn only_the_pages_own_files_are_served_and_no_link_leads_out() {
    let (dir, args) = www_dirs();
    let www = dir.path().join("www");
    std::fs::create_dir_all(www.join("tests")).unwrap();
    std::fs::write(www.join("tests/page.test.mjs"), "// a test").unwrap();
    std::fs::write(dir.path().join("outside.txt"), "not the page's").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside.txt"), www.join("leak.txt")).unwrap();
    let pkg = dir.path().join("client/pkg/snippets/x");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("inline0.js"), "export {};").unwrap();
    let server = server(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let status = |path: &'static str| {
        let url = server.url(path);
        async move { reqwest::get(url).await.unwrap().status() }
    };
    assert_eq!(status("/index.html").await, StatusCode::OK);
    assert_eq!(
        status("/client/pkg/snippets/x/inline0.js").await,
        StatusCode::OK
    );
    for path in ["/tests/page.test.mjs", "/leak.txt", "/../outside.txt"] {
        assert_eq!(status(path).await, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn an_http_message_may_be_as_large_as_a_websocket_frame_and_no_larger() {
    let server = server(&[]).await;
    let session = server.create_session(&json!({})).await;
    let path = format!("/v1/sessions/{}/messages", session["id"].as_str().unwrap());
    let message = |bytes: usize| {
        json!({"type": "user", "parent_tool_use_id": null,
            "message": {"role": "user", "content": "x".repeat(bytes)}})
    };
    // Over axum's default of 2 MB, within the WebSocket's 16 MiB.
    let (status, answer) = server
        .request(reqwest::Method::POST, &path, Some(&message(4 << 20)))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let (status, answer) = server
        .request(reqwest::Method::POST, &path, Some(&message(17 << 20)))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["code"], "too_large", "{answer}");
}
