//! The `fake-agent` binary, spawned the way the server spawns the CLI.

use std::{os::unix::process::ExitStatusExt, process::Stdio, time::Duration};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStderr, ChildStdin, ChildStdout, Command},
    time::timeout,
};

/// Guards every read so a broken agent fails the test instead of hanging it.
const WAIT: Duration = Duration::from_secs(10);

struct Agent {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
}

impl Agent {
    fn spawn() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fake-agent"))
            .args([
                "--output-format",
                "stream-json",
                "--verbose",
                "--input-format",
                "stream-json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn fake-agent");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        Self {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
        }
    }

    async fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write stdin");
    }

    async fn say(&mut self, text: &str) {
        let message = json!({"type": "user", "message": {"role": "user", "content": text}});
        self.send_line(&message.to_string()).await;
    }

    async fn line(&mut self) -> String {
        let line = timeout(WAIT, self.stdout.next_line())
            .await
            .expect("a stdout line in time");
        line.expect("read stdout").expect("stdout still open")
    }

    async fn frame(&mut self) -> Value {
        serde_json::from_str(&self.line().await).expect("a JSON frame")
    }

    async fn stderr_line(&mut self) -> String {
        let line = timeout(WAIT, self.stderr.next_line())
            .await
            .expect("a stderr line in time");
        line.expect("read stderr").expect("stderr still open")
    }

    /// The rest of stdout, up to EOF.
    async fn rest_of_stdout(&mut self) -> String {
        let mut rest = String::new();
        let read = self.stdout.get_mut().read_to_string(&mut rest);
        timeout(WAIT, read)
            .await
            .expect("stdout closes in time")
            .expect("read stdout");
        rest
    }

    async fn exit_status(&mut self) -> std::process::ExitStatus {
        let status = timeout(WAIT, self.child.wait())
            .await
            .expect("exits in time");
        status.expect("wait for fake-agent")
    }

    /// Reads `system/init`, which opens every turn.
    async fn expect_init(&mut self) {
        let init = self.frame().await;
        assert_eq!(
            (init["type"].as_str(), init["subtype"].as_str()),
            (Some("system"), Some("init"))
        );
        assert_eq!(init["session_id"], "fake-session");
        assert_eq!(init["cwd"], env!("CARGO_MANIFEST_DIR"));
    }

    async fn expect_result(&mut self, text: &str) {
        let result = self.frame().await;
        assert_eq!(result["type"], "result");
        assert_eq!(result["subtype"], "success");
        assert_eq!(result["is_error"], false);
        assert_eq!(result["result"], text);
    }
}

fn assistant_text(frame: &Value) -> &str {
    assert_eq!(frame["type"], "assistant");
    frame["message"]["content"][0]["text"]
        .as_str()
        .expect("a text block")
}

#[tokio::test]
async fn answers_control_requests_and_echoes_a_turn() {
    let mut agent = Agent::spawn();
    let initialize = json!({"type": "control_request", "request_id": "req_1", "request": {"subtype": "initialize", "hooks": null}});
    agent.send_line(&initialize.to_string()).await;
    let reply = agent.frame().await;
    assert_eq!(
        reply,
        json!({"type": "control_response", "response": {"subtype": "success", "request_id": "req_1", "response": {}}})
    );
    let interrupt = json!({"type": "control_request", "request_id": "req_2", "request": {"subtype": "interrupt"}});
    agent.send_line(&interrupt.to_string()).await;
    assert_eq!(
        agent.frame().await["response"]["response"],
        json!({"still_queued": []})
    );

    agent.send_line("").await; // Blank lines are skipped, as by the real CLI.
    let blocks = json!([{"type": "text", "text": "hello"}, {"type": "text", "text": "there"}]);
    let message = json!({"type": "user", "message": {"role": "user", "content": blocks}});
    agent.send_line(&message.to_string()).await;
    agent.expect_init().await;
    assert_eq!(assistant_text(&agent.frame().await), "fake: hello\nthere");
    agent.expect_result("fake: hello\nthere").await;

    agent.stdin = None;
    assert_eq!(agent.exit_status().await.code(), Some(0));
}

#[tokio::test]
async fn garbage_comes_before_a_valid_message() {
    let mut agent = Agent::spawn();
    agent.say("[[garbage]]").await;
    agent.expect_init().await;
    assert_eq!(agent.line().await, "this is not json");
    assert_eq!(agent.line().await, r#"{"type":"assistant", broken"#);
    assert_eq!(agent.line().await, "");
    assert_eq!(assistant_text(&agent.frame().await), "after garbage");
    agent.expect_result("after garbage").await;
}

#[tokio::test]
async fn big_message_is_one_line() {
    let mut agent = Agent::spawn();
    agent.say("[[big:1000000]]").await;
    agent.expect_init().await;
    let line = agent.line().await;
    assert!(line.len() > 1_000_000);
    let frame: Value = serde_json::from_str(&line).expect("a JSON frame");
    let text = assistant_text(&frame);
    assert_eq!(text.len(), 1_000_000);
    assert!(text.bytes().all(|b| b == b'x'));
    agent.expect_result("big: 1000000 bytes").await;
}

#[tokio::test]
async fn exit_mid_line_leaves_a_partial_line() {
    let mut agent = Agent::spawn();
    agent.say("[[exit-mid-line]]").await;
    agent.expect_init().await;
    assert_eq!(
        agent.rest_of_stdout().await,
        r#"{"type":"assistant","message":{"id":"msg_"#
    );
    assert_eq!(agent.stderr_line().await, "fake agent: crashing on purpose");
    assert_eq!(agent.exit_status().await.code(), Some(3));
}

#[tokio::test]
async fn stderr_marker_writes_stderr_then_answers() {
    let mut agent = Agent::spawn();
    agent.say("[[stderr:boom]]").await;
    agent.expect_init().await;
    assert_eq!(agent.stderr_line().await, "boom");
    assert_eq!(
        assistant_text(&agent.frame().await),
        "fake: [[stderr:boom]]"
    );
    agent.expect_result("fake: [[stderr:boom]]").await;
}

#[tokio::test]
async fn bench_writes_numbered_stamped_lines() {
    let mut agent = Agent::spawn();
    agent.say("[[bench:1000:1024:0]]").await;
    agent.expect_init().await;
    let mut last_t_ns = 0;
    for seq in 0..1000 {
        let line = agent.line().await;
        assert_eq!(
            line.len() + 1,
            1024,
            "line {seq} with its newline is 1024 bytes"
        );
        let frame: Value = serde_json::from_str(&line).expect("a JSON frame");
        assert_eq!(frame["type"], "stream_event");
        assert_eq!(frame["seq"], seq);
        let t_ns = frame["t_ns"].as_u64().expect("a timestamp");
        assert!(t_ns >= last_t_ns && t_ns > 0);
        last_t_ns = t_ns;
    }
    agent.expect_result("bench: 1000 lines").await;
}

#[tokio::test]
async fn unparseable_stdin_exits_1() {
    let mut agent = Agent::spawn();
    agent.send_line("this is not json").await;
    assert!(
        agent
            .stderr_line()
            .await
            .starts_with("Error parsing streaming input line")
    );
    assert_eq!(agent.exit_status().await.code(), Some(1));
    assert_eq!(agent.rest_of_stdout().await, "");
}

#[tokio::test]
async fn hang_survives_sigterm_until_sigkill() {
    let mut agent = Agent::spawn();
    agent.say("[[hang]]").await;
    agent.expect_init().await;
    assert!(agent.stderr_line().await.contains("SIGTERM blocked"));
    let pid = Pid::from_raw(i32::try_from(agent.child.id().expect("running")).unwrap());
    kill(pid, Signal::SIGTERM).expect("send SIGTERM");
    // A blocked signal is pending as soon as kill returns, so this needs no waiting.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let pending = status
        .lines()
        .find_map(|line| line.strip_prefix("ShdPnd:"))
        .expect("ShdPnd");
    let pending = u64::from_str_radix(pending.trim(), 16).expect("hex mask");
    assert_ne!(
        pending & (1 << (Signal::SIGTERM as i32 - 1)),
        0,
        "SIGTERM is pending"
    );
    assert!(
        agent.child.try_wait().expect("try_wait").is_none(),
        "still running"
    );

    kill(pid, Signal::SIGKILL).expect("send SIGKILL");
    assert_eq!(
        agent.exit_status().await.signal(),
        Some(Signal::SIGKILL as i32)
    );
}
