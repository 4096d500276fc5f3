//! Authentication: every route but `/healthz` and the page's files needs the token, by header,
//! cookie, WebSocket subprotocol or query; wrong tokens are rate-limited and never logged;
//! `--no-auth` only on loopback, where the original's clients (which send no token) work.

use std::{path::Path, process::Stdio};

use claude_agent_testkit::{Client as WsClient, TestServer, built_binary, json_answer};
use reqwest::{Client, Method, StatusCode, header, redirect};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");
const TOKEN: &str = "test-token-0123456789abcdef";

async fn server(args: &[&str]) -> TestServer {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    TestServer::start(Path::new(SERVER), &fake, &[], args).await
}

async fn with_token() -> TestServer {
    server(&["--token", TOKEN]).await
}

/// The routes the OpenAPI document lists, each with a method, plus the WebSockets'.
async fn every_route(server: &TestServer) -> Vec<(Method, String)> {
    let openapi = Client::new().get(server.url("/v1/openapi.json"));
    let (_, document) = json_answer(openapi.bearer_auth(TOKEN)).await;
    let mut routes = vec![
        (Method::GET, "/ws".to_owned()),
        (Method::GET, "/v1/sessions/x/ws".to_owned()),
        (Method::GET, "/config".to_owned()),
        (Method::POST, "/config".to_owned()),
        (Method::GET, "/metrics".to_owned()),
    ];
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let path = path
                .replace("{id}", "x")
                .replace("{request_id}", "y")
                .replace("{sessionID}", "x");
            routes.push((method.to_uppercase().parse().unwrap(), path));
        }
    }
    assert!(routes.len() > 12, "{routes:?}");
    routes
}

async fn status(request: reqwest::RequestBuilder) -> StatusCode {
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn every_route_but_health_and_the_page_needs_the_right_token() {
    let server = with_token().await;
    let client = Client::new();
    for (method, path) in every_route(&server).await {
        let request = || client.request(method.clone(), server.url(&path));
        let none = request().send().await.unwrap();
        assert_eq!(none.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(none.headers().contains_key(header::WWW_AUTHENTICATE));
        let answer: Value = none.json().await.unwrap();
        assert_eq!(answer["code"], "unauthorized", "{method} {path}");
        for right in [
            request().bearer_auth(TOKEN),
            request().query(&[("token", TOKEN)]),
        ] {
            let status = status(right).await;
            assert!(
                status != StatusCode::UNAUTHORIZED && status != StatusCode::TOO_MANY_REQUESTS,
                "{method} {path}: {status}"
            );
        }
    }
    // A page of any origin may see a sandbox's server come up.
    let health = client
        .get(server.url("/healthz"))
        .header(header::ORIGIN, "http://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let page = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<html"));
}

#[tokio::test]
async fn the_page_url_trades_its_token_for_a_cookie_that_works_from_its_own_origin() {
    let server = with_token().await;
    let client = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .get(server.url(&format!("/?token={TOKEN}&session=s%201")))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert_eq!(login.headers()[header::LOCATION], "./?session=s+1");
    let cookie = login.headers()[header::SET_COOKIE].to_str().unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let cookie = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(cookie, format!("claude_agent_token={TOKEN}"));

    let own = format!("http://{}", server.addr);
    let get = |origin: Option<&str>| {
        let request = client
            .get(server.url("/v1/sessions"))
            .header(header::COOKIE, &cookie);
        match origin {
            Some(origin) => request.header(header::ORIGIN, origin),
            None => request,
        }
    };
    assert_eq!(status(get(None)).await, StatusCode::OK);
    assert_eq!(status(get(Some(&own))).await, StatusCode::OK);
    // Another site's page cannot use the browser's cookie; with the token itself it can.
    let foreign = get(Some("http://evil.example")).send().await.unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        foreign.json::<Value>().await.unwrap()["code"],
        "origin_refused"
    );
    let bearer = client
        .get(server.url("/v1/sessions"))
        .header(header::ORIGIN, "http://app.example")
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    assert_eq!(bearer.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let preflight = client
        .request(Method::OPTIONS, server.url("/files"))
        .header(header::ORIGIN, "http://app.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    let allowed = preflight.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap();
    assert!(allowed.contains("authorization"), "{allowed}");

    // A wrong token in the page's URL sets nothing.
    let wrong = client
        .get(server.url("/?token=wrong-token-0123456789"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(!wrong.headers().contains_key(header::SET_COOKIE));
}

/// Opens `/ws` with `headers` added; the answered subprotocol, if any.
async fn open_ws(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(WsClient, Option<String>), tungstenite::Error> {
    let mut request = format!("ws://{}{path}", server.addr)
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let (ws, response) = tokio_tungstenite::connect_async(request).await?;
    let protocol = response
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .map(|value| value.to_str().unwrap().to_owned());
    Ok((WsClient { ws }, protocol))
}

fn refused_with(result: Result<(WsClient, Option<String>), tungstenite::Error>) -> StatusCode {
    match result {
        Err(tungstenite::Error::Http(response)) => response.status(),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("the socket was let in"),
    }
}

#[tokio::test]
async fn websockets_take_the_token_as_a_subprotocol_the_query_or_the_cookie() {
    let server = with_token().await;
    let offered = format!("claude-agent, claude-agent.token.{TOKEN}");
    let (mut ws, protocol) = open_ws(&server, "/ws", &[("sec-websocket-protocol", &offered)])
        .await
        .unwrap();
    assert_eq!(protocol.as_deref(), Some("claude-agent"));
    assert!(matches!(
        ws.next().await,
        claude_agent_protocol::ServerMessage::Connected { .. }
    ));
    drop(ws);

    let session = Client::new()
        .post(server.url("/v1/sessions"))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let id = session["id"].as_str().unwrap();
    let path = format!("/v1/sessions/{id}/ws?after=0&token={TOKEN}");
    let (mut ws, _) = open_ws(&server, &path, &[]).await.unwrap();
    assert!(matches!(
        ws.next().await,
        claude_agent_protocol::ServerMessage::Connected { .. }
    ));

    let cookie = format!("claude_agent_token={TOKEN}");
    let own = format!("http://{}", server.addr);
    let path = format!("/v1/sessions/{id}/ws");
    open_ws(&server, &path, &[("cookie", &cookie), ("origin", &own)])
        .await
        .unwrap();
    let foreign = open_ws(
        &server,
        &path,
        &[("cookie", &cookie), ("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(refused_with(foreign), StatusCode::FORBIDDEN);
    // The token offered by a page of any origin is its own to give.
    open_ws(
        &server,
        &path,
        &[
            ("sec-websocket-protocol", &offered),
            ("origin", "http://app.example"),
        ],
    )
    .await
    .unwrap();

    for headers in [
        vec![],
        vec![(
            "sec-websocket-protocol",
            "claude-agent, claude-agent.token.wrong-token-012345",
        )],
    ] {
        assert_eq!(
            refused_with(open_ws(&server, "/ws", &headers).await),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn wrong_tokens_are_rate_limited_per_address_even_before_the_right_one() {
    let server = with_token().await;
    let client = Client::new();
    let sessions = || client.get(server.url("/v1/sessions"));
    let mut tries = 0;
    let limited = loop {
        let response = sessions()
            .bearer_auth("wrong-token-0123456789")
            .send()
            .await
            .unwrap();
        tries += 1;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(tries <= 10, "still not limited after {tries} wrong tokens");
    };
    assert_eq!(tries, 11);
    let wait: u64 = limited.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        limited.json::<Value>().await.unwrap()["code"],
        "rate_limited"
    );
    // Guessing right now would not tell: the address waits whatever it sends.
    assert_eq!(
        status(sessions().bearer_auth(TOKEN)).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other addresses are not held up.
    let other = Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let answer = other
        .get(server.url("/v1/sessions"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    // Nor are health checks.
    assert_eq!(
        status(client.get(server.url("/healthz"))).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_never_reach_the_log() {
    let server = with_token().await;
    let client = Client::new();
    let wrong = "wrong-token-that-must-not-be-logged";
    for token in [TOKEN, wrong] {
        client
            .get(server.url(&format!("/v1/sessions?token={token}")))
            .send()
            .await
            .unwrap();
        client
            .get(server.url("/v1/sessions"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let _ = open_ws(&server, &format!("/ws?after=0&token={token}"), &[]).await;
    }
    let log = server.log();
    assert!(log.contains("refused a wrong token"), "{log}");
    assert!(!log.contains(TOKEN) && !log.contains(wrong), "{log}");
}

#[tokio::test]
async fn a_generated_token_is_printed_with_the_page_url_and_kept_for_this_user_alone() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let start = || {
        let mut child = tokio::process::Command::new(SERVER)
            .args(["--port", "0", "--state-dir"])
            .arg(&state)
            .arg("--workspace")
            .arg(home.path().join("workspace"))
            .arg("--claude-path")
            .arg(built_binary(Path::new(SERVER), "fake-agent"))
            .env_remove("CLAUDE_AGENT_TOKEN")
            .env("HOME", home.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        async move {
            let mut lines = BufReader::new(stdout).lines();
            let listening = lines.next_line().await.unwrap().unwrap();
            let open = lines.next_line().await.unwrap().unwrap();
            (child, listening, open)
        }
    };
    let (child, listening, open) = start().await;
    let addr = listening.strip_prefix("listening on http://").unwrap();
    let token = open
        .strip_prefix(&format!("open http://{addr}/?token="))
        .unwrap_or_else(|| panic!("{open}"))
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 43, "{open}");
    let kept = state.join("token");
    assert_eq!(std::fs::read_to_string(&kept).unwrap().trim(), token);
    let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let answer = Client::new()
        .get(format!("http://{addr}/v1/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    drop(child);
    // A restart keeps it, so that clients holding it reconnect.
    let (_child, _, again) = start().await;
    assert!(again.contains(&format!("?token={token} ")), "{again}");
}

#[tokio::test]
async fn a_token_file_written_after_the_start_lets_its_token_in_from_then_on() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets/token");
    let server = server(&["--token-file", file.to_str().unwrap()]).await;
    let sessions = || Client::new().get(server.url("/v1/sessions"));
    let pending = sessions().bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(pending.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        pending.json::<Value>().await.unwrap()["code"],
        "token_pending"
    );
    assert_eq!(
        status(Client::new().get(server.url("/healthz"))).await,
        StatusCode::OK
    );
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    assert_eq!(status(sessions().bearer_auth(TOKEN)).await, StatusCode::OK);
    assert_eq!(
        status(sessions().bearer_auth("wrong-token-0123456789")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status(sessions()).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn no_auth_is_refused_off_loopback() {
    let output = tokio::process::Command::new(SERVER)
        .args([
            "--no-auth",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--claude-path",
        ])
        .arg(built_binary(Path::new(SERVER), "fake-agent"))
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--no-auth") && stderr.contains("loopback"),
        "{stderr}"
    );
}

/// The original client's `start()`: its config (with the key) posted to `/config`, then `/ws`,
/// neither with a token.
async fn original_client_flow(server: &TestServer) -> Result<WsClient, StatusCode> {
    let config = json!({"anthropicApiKey": "sk-original", "model": "claude-original",
                        "template": "claude-agent-server", "timeoutMs": 300000});
    let posted = Client::new()
        .post(server.url("/config"))
        .json(&config)
        .send()
        .await
        .unwrap();
    if !posted.status().is_success() {
        return Err(posted.status());
    }
    let (mut ws, _) = open_ws(server, "/ws", &[])
        .await
        .map_err(|e| refused_with(Err(e)))?;
    assert!(matches!(
        ws.next().await,
        claude_agent_protocol::ServerMessage::Connected { .. }
    ));
    Ok(ws)
}

#[tokio::test]
async fn the_originals_client_works_with_no_auth_and_its_key_is_refused_without_the_token() {
    let open = server(&["--no-auth"]).await;
    original_client_flow(&open).await.unwrap();

    let guarded = with_token().await;
    assert_eq!(
        original_client_flow(&guarded).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    // The config, key and all, was not taken.
    let (status, config) = {
        let response = Client::new()
            .get(guarded.url("/config"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert!(config["config"].get("model").is_none(), "{config}");
    assert!(
        config["config"].get("anthropicApiKey").is_none(),
        "{config}"
    );
}
