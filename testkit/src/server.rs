//! The real server binary on 127.0.0.1 for tests and benchmarks, and process inspection.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use claude_agent_protocol::ServerMessage;
use serde_json::Value;
use tempfile::TempDir;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use crate::{PATIENCE, client::Client};

/// The server's stderr (its log), in its HOME.
const LOG: &str = "server.log";

/// The pinned CLI, installed by `npm ci --prefix claude-code`.
pub fn real_claude() -> PathBuf {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../claude-code/node_modules/.bin/claude");
    assert!(
        path.exists(),
        "{} is missing: run `npm ci --prefix claude-code`",
        path.display()
    );
    path
}

/// A binary of this workspace built beside `sibling` (another binary of the same build), such
/// as `fake-agent` beside `claude-agent-server`.
pub fn built_binary(sibling: &Path, name: &str) -> PathBuf {
    let path = sibling.with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace first",
        path.display()
    );
    path
}

/// A running `claude-agent-server`, told to shut down (SIGTERM) on drop.
#[derive(Debug)]
pub struct TestServer {
    pub child: Child,
    pub addr: String,
    pub home: TempDir,
}

impl TestServer {
    /// Starts the server binary `server` running `claude`, with a throwaway HOME and workspace;
    /// `env` goes to the server, and through it to the agent.
    pub async fn start(server: &Path, claude: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        Self::start_in(tempfile::tempdir().unwrap(), server, claude, env, args).await
    }

    /// [`TestServer::start`] in the HOME `home`: where another server kept its sessions.
    pub async fn start_in(
        home: TempDir,
        server: &Path,
        claude: &Path,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.path().join(LOG))
            .unwrap();
        // Tests speak no token unless they are about it: one given by flag or environment.
        let decides_auth = args
            .iter()
            .any(|arg| arg.starts_with("--token") || *arg == "--no-auth")
            || env
                .iter()
                .any(|(name, _)| name.starts_with("CLAUDE_AGENT_TOKEN"));
        // A throwaway workspace in HOME, unless the test names its own.
        let workspace = match args.contains(&"--workspace") {
            true => Vec::new(),
            false => vec![
                "--workspace".into(),
                home.path().join("workspace").into_os_string(),
            ],
        };
        // A test's server stopped mid-turn ends it at once, unless the test is about draining.
        let drain = match args.contains(&"--drain-timeout") {
            true => None,
            false => Some(["--drain-timeout", "0s"]),
        };
        let mut child = Command::new(server)
            .args(["--port", "0"])
            .args(workspace)
            .args(drain.into_iter().flatten())
            .arg("--claude-path")
            .arg(claude)
            .args(args)
            .args((!decides_auth).then_some("--no-auth"))
            .env("HOME", home.path())
            .env_remove("CLAUDE_AGENT_TOKEN")
            .env_remove("CLAUDE_AGENT_TOKEN_FILE")
            .env_remove("NO_AUTH")
            // Whatever key or API the environment running the tests has, the agents talk to
            // what each test gives them alone.
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("ANTHROPIC_AUTH_TOKEN")
            .env_remove("ANTHROPIC_BASE_URL")
            // The pinned CLI offline, as agent-protocol.md section 12 sets it up.
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("CLAUDE_CODE_MAX_RETRIES", "0")
            // Tests run as root; bypassPermissions needs this, and the server never sets it.
            .env("IS_SANDBOX", "1")
            .env("RUST_LOG", "claude_agent_server=debug,agent_stderr=info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    return addr.to_owned();
                }
            }
            panic!("the server exited before listening");
        })
        .await
        .expect("the server did not start listening");
        Self { child, addr, home }
    }

    /// The server with the real CLI talking to the mock Messages API at `api`.
    pub async fn with_claude(server: &Path, api: &str) -> Self {
        let env = [
            ("ANTHROPIC_BASE_URL", api),
            ("ANTHROPIC_API_KEY", "test-key"),
        ];
        Self::start(server, &real_claude(), &env, &[]).await
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join(LOG)).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn connect(&self) -> Client {
        self.connect_to("/ws").await
    }

    /// Connects to the WebSocket at `path` (such as `/v1/sessions/ID/ws?after=3`).
    pub async fn connect_to(&self, path: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}{path}", self.addr))
            .await
            .unwrap();
        Client { ws }
    }

    /// Connects to `path` and reads the `connected` frame.
    pub async fn attach_to(&self, path: &str) -> (Client, ServerMessage) {
        let mut client = self.connect_to(path).await;
        let connected = client.next().await;
        assert!(
            matches!(connected, ServerMessage::Connected { .. }),
            "{connected:?}"
        );
        (client, connected)
    }

    /// An HTTP request with a JSON body, if any; the status and the JSON answer (`null` when
    /// there is none).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = reqwest::Client::new().request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        json_answer(request).await
    }

    /// Creates a v1 session from `body`; its description.
    pub async fn create_session(&self, body: &Value) -> Value {
        let (status, session) = self
            .request(reqwest::Method::POST, "/v1/sessions", Some(body))
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{session}");
        session
    }

    /// The v1 session `id` as `GET /v1/sessions/{id}` describes it.
    pub async fn session_info(&self, id: &str) -> Value {
        let (status, info) = self
            .request(reqwest::Method::GET, &format!("/v1/sessions/{id}"), None)
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{info}");
        info
    }

    /// Polls the v1 session `id` until `check` accepts its description, which it returns; a
    /// session's status changes with no event to wait on.
    pub async fn wait_for_session(&self, id: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let info = self.session_info(id).await;
            if check(&info) {
                return info;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "session {id} is still {info}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Connects as a browser on a page of `origin` would; the server may refuse.
    pub async fn connect_from(&self, origin: &str) -> Result<Client, tungstenite::Error> {
        let mut request = format!("ws://{}/ws", self.addr).into_client_request()?;
        let origin = origin.parse().expect("an origin is a header value");
        request.headers_mut().insert("origin", origin);
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Client { ws })
    }

    /// Connects and reads the `connected` frame.
    pub async fn attach(&self) -> Client {
        let mut client = self.connect().await;
        let connected = client.next().await;
        assert!(
            matches!(connected, ServerMessage::Connected { .. }),
            "{connected:?}"
        );
        client
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// Kills the server outright (SIGKILL, as a crash would) and waits for it; returns its HOME,
    /// where its sessions are, for [`TestServer::start_in`].
    pub async fn kill(mut self) -> TempDir {
        signal(self.pid(), nix::sys::signal::Signal::SIGKILL);
        let _ = tokio::time::timeout(PATIENCE, self.child.wait()).await;
        std::mem::replace(&mut self.home, tempfile::tempdir().unwrap())
    }

    /// Sends SIGTERM and waits for the server to exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        signal(self.pid(), nix::sys::signal::Signal::SIGTERM);
        tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("server exit")
            .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Gracefully, so that it ends its agent as in real use; SIGKILL would orphan it.
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid.cast_signed()),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
}

/// Sends `signal` to process `pid`.
pub fn signal(pid: u32, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid.cast_signed()), signal).unwrap();
}

/// Every live process below `pid`, by walking /proc, parents before their children.
pub fn descendants(pid: u32) -> Vec<u32> {
    below(pid, |_| true)
}

/// The agents the server `pid` runs: its descendants but for its own processes (the holder
/// and init around each contained agent) and for what the agents started.
pub fn agents(pid: u32) -> Vec<u32> {
    let server = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let own = |child: u32| std::fs::read_link(format!("/proc/{child}/exe")).ok() == server;
    below(pid, own)
        .into_iter()
        .filter(|&child| !own(child))
        .collect()
}

/// The live processes below `pid` reached through those for which `descend` holds.
fn below(pid: u32, descend: impl Fn(u32) -> bool) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            // Fields after the command name, which is in parentheses and may hold spaces.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            (fields.first() != Some(&"Z")).then(|| Some((child, fields.get(1)?.parse().ok()?)))?
        })
        .collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        if i == 0 || descend(parent) {
            found.extend(
                parents
                    .iter()
                    .filter(|(_, p)| *p == parent)
                    .map(|(child, _)| *child),
            );
        }
        i += 1;
    }
    found.remove(0);
    found
}

/// The command line of `pid`, its arguments joined by spaces; empty once it has ended.
pub fn command_line(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|line| {
            String::from_utf8_lossy(&line)
                .trim_end_matches('\0')
                .replace('\0', " ")
        })
        .unwrap_or_default()
}

/// A `kB` field of /proc/PID/status (such as `VmRSS:`), in MB (10^6 bytes).
pub fn status_mb(pid: u32, field: &str) -> anyhow::Result<f64> {
    use anyhow::Context;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(kb as f64 * 1024.0 / 1e6)
}

/// The CPU time `pid` has used so far, user and system, in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    use anyhow::Context;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces: utime and
    // stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("no command")?
        .1
        .split_whitespace()
        .collect();
    let field = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i).context("a short /proc/PID/stat")?.parse()?)
    };
    // In USER_HZ, which Linux fixes at 100 for user space on the architectures it runs on here.
    Ok((field(11)? + field(12)?) as f64 / 100.0)
}

/// Whether `pid` runs (a zombie does not count).
pub fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// The answer to `request`: its status and JSON (`null` when it has none, a string when it is
/// not JSON).
pub async fn json_answer(request: reqwest::RequestBuilder) -> (reqwest::StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let json = match text.is_empty() {
        true => Value::Null,
        false => serde_json::from_str(&text).unwrap_or(Value::String(text)),
    };
    (status, json)
}
