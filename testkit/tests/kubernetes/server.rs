//! The manifests against the server itself: every flag and environment variable they give it is
//! one it reads (its own `--help` says so, so a flag renamed in the server fails here); the
//! server started with their flags and environment (paths moved under a temporary folder)
//! answers their probes without a token while requiring one elsewhere, and answers to the name
//! the sandbox-router reaches it by; what it writes is on their volumes; the grace period
//! outlasts its drain; and it refuses the Secret's placeholder token.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use claude_agent_testkit::{PATIENCE, TestServer, built_binary, real_claude};
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    help::Help,
    manifests::{self, container, items, only, pods, strings},
};

/// What the Secret holds, in these tests.
const TOKEN: &str = "kubernetes-manifest-test-token";
const SECRET_VALUES: [(&str, &str); 2] = [("token", TOKEN), ("anthropic-api-key", "test-key")];

/// Environment variables the manifests set that no server flag reads: the agents (the CLI) get
/// the server's environment.
const AGENT_ENV: [&str; 2] = [
    // where the CLI keeps ~/.claude (transcripts for --resume)
    "HOME",
    // the CLI's key for the Messages API
    "ANTHROPIC_API_KEY",
];

/// What the server may take after its drain: each agent 2 s after its stdin closes and 2 after
/// SIGTERM (`GRACE` in server/src/agent/process.rs), then 2 s for connections to finish.
const AFTER_DRAIN: Duration = Duration::from_secs(6);

fn server_bin() -> PathBuf {
    built_binary(
        Path::new(env!("CARGO_BIN_EXE_fake-agent")),
        "claude-agent-server",
    )
}

/// The flags in `args` that the server does not document.
fn unknown_flags(help: &Help, args: &[String]) -> Vec<String> {
    args.iter()
        .filter(|arg| arg.starts_with("--"))
        .map(|arg| arg.split('=').next().unwrap().to_owned())
        .filter(|flag| help.flag(flag).is_none())
        .collect()
}

/// The environment variables in `names` that neither the server nor its agents read.
fn unknown_env(help: &Help, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|name| !help.reads_env(name) && !AGENT_ENV.contains(&name.as_str()))
        .cloned()
        .collect()
}

/// The value of `--flag` in `args` (`--flag value` or `--flag=value`).
fn flag_value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.strip_prefix(flag) {
            Some("") => args.get(i + 1).cloned(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        })
}

#[test]
fn the_server_reads_every_flag_and_variable_the_manifests_give_it() {
    let help = Help::of(&server_bin());
    for manifest in pods(&manifests::all()) {
        let container = container(manifest);
        let args = strings(&container["args"]);
        let names: Vec<String> = items(&container["env"])
            .iter()
            .map(|env| env["name"].as_str().unwrap().to_owned())
            .collect();
        let file = manifest.file.display();
        assert_eq!(unknown_flags(&help, &args), Vec::<String>::new(), "{file}");
        assert_eq!(unknown_env(&help, &names), Vec::<String>::new(), "{file}");

        let setting = |flag: &str| {
            let value = flag_value(&args, flag)
                .or_else(|| help.flag(flag)?.default.clone())
                .unwrap_or_else(|| panic!("the server documents no {flag} default"));
            humantime::parse_duration(&value).unwrap()
        };
        // The listener stays for the delay, but the drain runs meanwhile: it takes the longer.
        let drain = setting("--drain-timeout").max(setting("--drain-delay"));
        let grace = manifest.pod().unwrap()["spec"]["terminationGracePeriodSeconds"]
            .as_u64()
            .map_or(Duration::from_secs(30), Duration::from_secs);
        assert!(
            grace >= drain + AFTER_DRAIN,
            "{file}: a grace period of {grace:?} cuts a drain of {drain:?} short"
        );
    }
    // What those checks refuse.
    let renamed = ["--workspaces".to_owned(), "/workspace".to_owned()];
    assert_eq!(unknown_flags(&help, &renamed), ["--workspaces"]);
    assert_eq!(
        unknown_env(&help, &["CLAUDE_TOKEN".to_owned()]),
        ["CLAUDE_TOKEN"]
    );
}

/// The container's flags and environment for a server on this machine: every path in them moved
/// under `root` (and required to be on one of the container's volumes), `--host` and `--port`
/// left to the test (required to be every interface and the container's port), the Secret's
/// values the tests'.
fn local_command(container: &Value, root: &Path) -> (Vec<String>, Vec<(String, String)>) {
    let mounts: Vec<&str> = items(&container["volumeMounts"])
        .iter()
        .map(|mount| mount["mountPath"].as_str().unwrap())
        .collect();
    let local = |value: &str| match value.starts_with('/') {
        true => {
            assert!(
                mounts
                    .iter()
                    .any(|mount| Path::new(value).starts_with(mount)),
                "{value} is on no volume: what the server writes there is lost with the pod"
            );
            root.join(&value[1..]).to_str().unwrap().to_owned()
        }
        false => value.to_owned(),
    };
    let args = strings(&container["args"]);
    assert_eq!(flag_value(&args, "--host").as_deref(), Some("0.0.0.0"));
    let port = flag_value(&args, "--port").expect("no --port");
    let ports = items(&container["ports"]);
    let port: u16 = port.parse().expect("--port takes a number");
    assert!(ports.iter().any(|p| p["containerPort"] == port));
    for probe in ["livenessProbe", "readinessProbe"] {
        let probe_port = &container[probe]["httpGet"]["port"];
        assert!(
            ports
                .iter()
                .any(|p| &p["name"] == probe_port || &p["containerPort"] == probe_port),
            "{probe} is on {probe_port}, not the server's port {port}"
        );
    }
    let mut local_args = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--host" || arg == "--port" {
            rest.next();
        } else {
            local_args.push(local(arg));
        }
    }
    let secrets = BTreeMap::from(SECRET_VALUES);
    let env = items(&container["env"])
        .iter()
        .map(|env| {
            let value = match env.pointer("/valueFrom/secretKeyRef/key") {
                Some(key) => secrets[key.as_str().unwrap()].to_owned(),
                None => local(env["value"].as_str().unwrap()),
            };
            (env["name"].as_str().unwrap().to_owned(), value)
        })
        .collect();
    (local_args, env)
}

async fn get(server: &TestServer, path: &str, token: Option<&str>) -> StatusCode {
    get_as(server, path, token, None).await
}

/// `GET path`, with `Host: host` if given (the address otherwise).
async fn get_as(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    host: Option<&str>,
) -> StatusCode {
    let mut request = reqwest::Client::new().get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(host) = host {
        request = request.header("host", host);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn the_server_runs_with_the_manifests_flags_and_answers_their_probes_without_a_token() {
    for manifest in pods(&manifests::all()) {
        let container = container(manifest);
        let root = tempfile::tempdir().unwrap();
        let (args, env) = local_command(container, root.path());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let server = TestServer::start_in(root, &server_bin(), &real_claude(), &env, &args).await;

        let file = manifest.file.display();
        let liveness = container["livenessProbe"]["httpGet"]["path"]
            .as_str()
            .unwrap();
        let readiness = container["readinessProbe"]["httpGet"]["path"]
            .as_str()
            .unwrap();
        assert_eq!(
            get(&server, liveness, None).await,
            StatusCode::OK,
            "{file}: {liveness}"
        );
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let status = get(&server, readiness, None).await;
            if status == StatusCode::OK {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline && status != StatusCode::NOT_FOUND,
                "{file}: {readiness} answers {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Authentication is on, with the Secret's token: the probes answered without it.
        assert_eq!(
            get(&server, "/config", None).await,
            StatusCode::UNAUTHORIZED,
            "{file}"
        );
        assert_eq!(
            get(&server, "/config", Some(TOKEN)).await,
            StatusCode::OK,
            "{file}"
        );
        // The name the sandbox-router (and a Service's clients) reach the server by.
        let service = Some("sandbox-1.default.svc.cluster.local:3000");
        let elsewhere = Some("sandbox-1.example.com:3000");
        assert_eq!(
            get_as(&server, "/config", Some(TOKEN), service).await,
            StatusCode::OK,
            "{file}"
        );
        assert_eq!(
            get_as(&server, "/config", Some(TOKEN), elsewhere).await,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_server_refuses_the_secrets_placeholder_token() {
    let secret = only(&manifests::all(), "Secret");
    let placeholder = secret.value["stringData"]["token"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::new(server_bin())
        .args(["--port", "0", "--claude-path", "/nonexistent"])
        .arg("--state-dir")
        .arg(dir.path())
        .arg("--workspace")
        .arg(dir.path())
        .env("CLAUDE_AGENT_TOKEN", placeholder)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PATIENCE, run)
        .await
        .expect("the server took the placeholder token and ran")
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("token"), "{stderr}");
}
