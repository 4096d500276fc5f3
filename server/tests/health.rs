//! Probes: `/healthz` says the process answers, `/readyz` whether it can run sessions (the CLI
//! runs, the workspace and the state folder are writable, the token is there, not draining),
//! both without the token, and a refusal says why in one word that gives nothing away.

use std::{os::unix::fs::PermissionsExt, path::Path};

use claude_agent_testkit::{PATIENCE, TestServer, built_binary};
use reqwest::{Client, StatusCode, header};

const SERVER: &str = env!("CARGO_BIN_EXE_claude-agent-server");
const TOKEN: &str = "test-token-0123456789abcdef";

async fn server(args: &[&str]) -> TestServer {
    let fake = built_binary(Path::new(SERVER), "fake-agent");
    TestServer::start(Path::new(SERVER), &fake, &[], args).await
}

/// `/readyz`'s status and text, asked with no token.
async fn readiness(server: &TestServer) -> (StatusCode, String) {
    let answer = reqwest::get(server.url("/readyz")).await.unwrap();
    (answer.status(), answer.text().await.unwrap())
}

/// Asks `/readyz` until it answers `status`; readiness changes with no event to wait on.
async fn until_readiness(server: &TestServer, status: StatusCode) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (now, text) = readiness(server).await;
        if now == status {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz is still {now} {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn probes_need_no_token_and_readiness_says_why_not_in_a_word() {
    let server = server(&["--token", TOKEN]).await;
    assert_eq!(
        readiness(&server).await,
        (StatusCode::OK, "ready".to_owned())
    );
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // As `/healthz`, for a page that waits for a new sandbox's server.
    let ready = Client::new()
        .get(server.url("/readyz"))
        .header(header::ORIGIN, "http://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(ready.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");

    std::fs::remove_dir_all(server.home.path().join("workspace")).unwrap();
    assert_eq!(
        readiness(&server).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "workspace_unwritable".to_owned()
        )
    );
    std::fs::create_dir(server.home.path().join("workspace")).unwrap();
    assert_eq!(readiness(&server).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_cli_that_does_not_run_is_not_ready_until_it_does() {
    let home = tempfile::tempdir().unwrap();
    let cli = home.path().join("broken-claude");
    std::fs::write(&cli, "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = TestServer::start_in(home, Path::new(SERVER), &cli, &[], &[]).await;
    let (status, text) = readiness(&server).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "cli_unavailable"),
        "no path, no version: a word"
    );
    // Mended, it is found so by a later probe.
    let mended = server.home.path().join("mended-claude");
    std::fs::write(&mended, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&mended, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&mended, &cli).unwrap();
    assert_eq!(until_readiness(&server, StatusCode::OK).await, "ready");
}

#[tokio::test]
async fn a_server_waiting_for_its_token_file_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let server = server(&["--token-file", file.to_str().unwrap()]).await;
    assert_eq!(
        readiness(&server).await,
        (StatusCode::SERVICE_UNAVAILABLE, "token_pending".to_owned())
    );
    std::fs::write(&file, TOKEN).unwrap();
    assert_eq!(
        readiness(&server).await,
        (StatusCode::OK, "ready".to_owned())
    );
}
