//! A running agent: the CLI process, the one writer of its stdin, the reader that turns its
//! stdout into log frames, the stderr drain, and its supervised end.

use std::{
    collections::HashMap,
    io,
    os::unix::process::ExitStatusExt,
    process::{ExitStatus, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::extract::ws::Utf8Bytes;
use claude_agent_protocol::{
    AgentLine, LineKind, MessageKind, ServerMessage, ToAgent,
    agent::{ControlResponse, ControlToAgent, ServerRequest},
};
use nix::{sys::signal::Signal, unistd::Pid};
use thiserror::Error;
use tokio::{
    io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStderr, ChildStdin, Command},
    sync::{oneshot, watch},
};

use super::{LaunchSpec, stderr_tail::StderrTail};
use crate::event_log::{EventLog, frame};

/// Longest stdout line relayed; a longer one is dropped with a notice rather than exhausting
/// memory.
const MAX_LINE: usize = 256 << 20;
/// The agent's stdout pipe, and what one read of it may take (Linux allows pipes up to
/// `/proc/sys/fs/pipe-max-size`, 1 MiB by default).
const PIPE_BYTES: i32 = 1 << 20;
const READ_BYTES: usize = 1 << 18;
/// Shutdown: how long the agent gets after stdin closes, and again after SIGTERM.
const GRACE: Duration = Duration::from_secs(2);
/// How long a control request may go unanswered.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Error)]
pub(crate) enum AgentError {
    #[error("could not start Claude Code ({program}): {source}")]
    Spawn { program: String, source: io::Error },
    #[error("the agent is not running")]
    Gone,
    #[error("the agent did not answer {0} in time")]
    Timeout(&'static str),
    #[error("the agent refused {subtype}: {error}")]
    Refused {
        subtype: &'static str,
        error: String,
    },
}

/// A handle to one agent process; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct Agent {
    shared: Arc<Shared>,
    exit: watch::Receiver<bool>,
}

#[derive(Debug)]
struct Shared {
    pid: u32,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    /// The server's control requests awaiting the CLI's answer, by request id.
    pending: Mutex<HashMap<String, oneshot::Sender<ControlResponse>>>,
    next_request: AtomicU64,
    /// The CLI's own session id, learned from its messages; what a restart resumes.
    session_id: Mutex<Option<String>>,
    /// Set when the server ends the agent, so its exit is no failure to report.
    stopping: AtomicBool,
}

impl Agent {
    /// Starts the CLI, relaying what it prints into `log`, and sends `initialize`.
    pub(crate) async fn spawn(spec: &LaunchSpec, log: Arc<EventLog>) -> Result<Self, AgentError> {
        let spawn_error = |source| AgentError::Spawn {
            program: spec.program.display().to_string(),
            source,
        };
        tokio::fs::create_dir_all(&spec.cwd)
            .await
            .map_err(spawn_error)?;
        let mut command = Command::new(&spec.program);
        command
            .args(&spec.args)
            .envs(spec.env.iter().map(|(key, value)| (key, value)))
            // Keeps the CLI from believing it runs nested inside another Claude Code.
            .env_remove("CLAUDECODE")
            .current_dir(&spec.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own group, so that shutdown reaches the tools it started too.
            .process_group(0);
        // Dies with the server even when the server is killed outright: never an orphan.
        // SAFETY: the closure runs between fork and exec and makes one async-signal-safe
        // syscall (prctl), touching no memory of the parent. The signal is sent when the
        // forking thread ends: a runtime thread, which lives as long as the server.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(|| Ok(nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?));
        }
        let mut child = command.spawn().map_err(spawn_error)?;
        let pid = child.id().expect("a just-spawned child has a pid");
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let shared = Arc::new(Shared {
            pid,
            stdin: tokio::sync::Mutex::new(stdin),
            pending: Mutex::default(),
            next_request: AtomicU64::new(1),
            // Known before the CLI says it, so that a restart after an early death still resumes.
            session_id: Mutex::new(spec.resume.clone()),
            stopping: AtomicBool::new(false),
        });
        let (exit_tx, exit) = watch::channel(false);
        let tail = Arc::new(StderrTail::default());
        let stderr = tokio::spawn(drain_stderr(
            stderr.expect("piped"),
            tail.clone(),
            log.clone(),
        ));
        let stdout = stdout.expect("piped");
        // A deeper pipe lets the agent write ahead and the relay read in bigger batches.
        if let Err(error) =
            nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES))
        {
            tracing::debug!(%error, "F_SETPIPE_SZ");
        }
        let stdout = tokio::spawn(relay_stdout(
            BufReader::with_capacity(READ_BYTES, stdout),
            shared.clone(),
            log.clone(),
        ));
        tokio::spawn(supervise(
            child,
            [stdout, stderr],
            tail,
            shared.clone(),
            log,
            exit_tx,
        ));
        tracing::info!(pid, program = %spec.program.display(), args = ?spec.args, "agent started");

        let agent = Self { shared, exit };
        let initialize = ServerRequest::Initialize {
            agents: spec.agents.clone(),
        };
        let handle = agent.clone();
        tokio::spawn(async move {
            if let Err(error) = handle.request(initialize).await {
                tracing::warn!(%error, "agent initialize failed");
            }
        });
        Ok(agent)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.shared.pid
    }

    /// Whether both handles are of one process.
    pub(crate) fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    pub(crate) fn is_running(&self) -> bool {
        !*self.exit.borrow()
    }

    /// The CLI's session id, once it has reported one.
    pub(crate) fn session_id(&self) -> Option<String> {
        lock(&self.shared.session_id).clone()
    }

    /// Writes one line to the CLI's stdin.
    pub(crate) async fn send(&self, line: &ToAgent) -> Result<(), AgentError> {
        self.shared.write(line).await
    }

    /// Sends a control request and waits for the CLI's answer.
    pub(crate) async fn request(&self, request: ServerRequest) -> Result<(), AgentError> {
        let subtype = request.subtype();
        let id = format!(
            "req_{}",
            self.shared.next_request.fetch_add(1, Ordering::Relaxed)
        );
        let (answer_tx, answer) = oneshot::channel();
        lock(&self.shared.pending).insert(id.clone(), answer_tx);
        let line = ToAgent::Control(ControlToAgent::ControlRequest {
            request_id: id.clone(),
            request,
        });
        let outcome = async {
            self.shared.write(&line).await?;
            match tokio::time::timeout(REQUEST_TIMEOUT, answer).await {
                Err(_) => Err(AgentError::Timeout(subtype)),
                Ok(Err(_)) => Err(AgentError::Gone),
                Ok(Ok(ControlResponse::Success { .. })) => Ok(()),
                Ok(Ok(ControlResponse::Error { error, .. })) => {
                    Err(AgentError::Refused { subtype, error })
                }
            }
        };
        let outcome = outcome.await;
        lock(&self.shared.pending).remove(&id);
        outcome
    }

    /// Ends the agent: stdin closed (the CLI finishes its turn and exits), then SIGTERM, then
    /// SIGKILL, each after [`GRACE`]; then whatever is left of its process group.
    pub(crate) async fn shutdown(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.stdin.lock().await.take();
        let mut exit = self.exit.clone();
        for signal in [Some(Signal::SIGTERM), Some(Signal::SIGKILL), None] {
            if tokio::time::timeout(GRACE, exit.wait_for(|exited| *exited))
                .await
                .is_ok()
            {
                return;
            }
            if let Some(signal) = signal {
                tracing::warn!(pid = self.pid(), %signal, "agent still running; signalling");
                kill_group(self.shared.pid, signal);
            }
        }
        tracing::error!(pid = self.pid(), "agent survived SIGKILL");
    }
}

impl Shared {
    async fn write(&self, line: &ToAgent) -> Result<(), AgentError> {
        let mut text = line.to_json();
        text.push('\n');
        let mut stdin = self.stdin.lock().await;
        let pipe = stdin.as_mut().ok_or(AgentError::Gone)?;
        let written = async {
            pipe.write_all(text.as_bytes()).await?;
            pipe.flush().await
        };
        written.await.map_err(|error| {
            tracing::debug!(%error, "agent stdin closed");
            stdin.take();
            AgentError::Gone
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn kill_group(pid: u32, signal: Signal) {
    let group = Pid::from_raw(pid.cast_signed());
    if let Err(error) = nix::sys::signal::killpg(group, signal) {
        tracing::debug!(%error, %signal, "killpg");
    }
}

/// Reads stdout to its end: messages go to the log byte for byte, control lines are served.
async fn relay_stdout(
    mut stdout: impl AsyncBufRead + Unpin,
    shared: Arc<Shared>,
    log: Arc<EventLog>,
) {
    let mut lines = Lines::default();
    let mut actions = Vec::new();
    loop {
        let chunk = match stdout.fill_buf().await {
            Ok(chunk) => chunk,
            Err(error) => {
                tracing::warn!(%error, "reading agent stdout");
                return;
            }
        };
        if chunk.is_empty() {
            if let Some(text) = lines.finish() {
                log.append(notice(text)).await;
            }
            return;
        }
        // Every line of this read is decided while borrowed from the read buffer, then acted
        // on in one batch.
        let mut used = 0;
        while used < chunk.len() {
            let (taken, piece) = lines.feed(&chunk[used..]);
            used += taken;
            match piece {
                Piece::Line(line) => actions.extend(shared.act_on(line)),
                Piece::TooLong(len) => actions.push(Action::Append(notice(too_long(len)))),
                Piece::Pending => {}
            }
        }
        stdout.consume(used);
        shared.apply(&mut actions, &log).await;
    }
}

/// What a stdout line asks of the server.
enum Action {
    Append(Utf8Bytes),
    Write(ToAgent),
}

fn notice(text: String) -> Utf8Bytes {
    frame(&ServerMessage::info(text))
}

fn too_long(len: usize) -> String {
    format!("Dropped a line of {len} bytes from the agent: over {MAX_LINE} bytes")
}

impl Shared {
    /// Reads one line (without its `\n`): a message becomes its frame; a control response
    /// reaches its waiter here and now; a control request gets its refusal.
    fn act_on(&self, line: &[u8]) -> Option<Action> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let parsed = std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|text| AgentLine::parse(text).map_err(|e| e.to_string()));
        let line = match parsed {
            Ok(line) => line,
            Err(error) => {
                tracing::warn!(%error, line = %preview(line), "agent printed a line that is no message");
                let text = format!("Ignored a line from the agent ({error}): {}", preview(line));
                return Some(Action::Append(notice(text)));
            }
        };
        match line.kind() {
            LineKind::Message(head) => {
                if let (MessageKind::System | MessageKind::Result, Some(id)) =
                    (&head.kind, &head.session_id)
                {
                    let mut known = lock(&self.session_id);
                    if known.as_deref() != Some(id) {
                        *known = Some(id.as_ref().to_owned());
                    }
                }
                let frame = ServerMessage::sdk_message_json(&line);
                Some(Action::Append(Utf8Bytes::from(frame)))
            }
            LineKind::ControlResponse(response) => {
                // Unknown ids are answers to requests given up on, or echoes: dropped.
                if let Some(waiter) = lock(&self.pending).remove(response.request_id()) {
                    let _ = waiter.send(response.clone());
                }
                None
            }
            LineKind::ControlRequest {
                request_id,
                request,
            } => {
                tracing::debug!(subtype = %request.subtype, "refusing an agent control request");
                let refusal = ControlResponse::unsupported(request_id.clone(), &request.subtype);
                let line = ControlToAgent::ControlResponse { response: refusal };
                Some(Action::Write(ToAgent::Control(line)))
            }
            LineKind::ControlCancelRequest { .. } | LineKind::KeepAlive => None,
        }
    }

    /// Carries out `actions` in order: frames go to the log together.
    async fn apply(&self, actions: &mut Vec<Action>, log: &EventLog) {
        let mut frames = Vec::new();
        for action in actions.drain(..) {
            match action {
                Action::Append(frame) => frames.push(frame),
                Action::Write(line) => {
                    log.append_all(frames.drain(..)).await;
                    if let Err(error) = self.write(&line).await {
                        tracing::debug!(%error, "could not answer the agent");
                    }
                }
            }
        }
        log.append_all(frames).await;
    }
}

/// Splits a byte stream into lines: in place where a line lies whole in one read (the common
/// case), through a buffer where it spans reads; a line over [`MAX_LINE`] is skipped, not
/// buffered.
#[derive(Debug, Default)]
struct Lines {
    partial: Vec<u8>,
    /// Bytes of an overlong line skipped so far.
    skipped: usize,
    /// `partial` holds a finished line, to be cleared by the next feed.
    finished: bool,
}

#[derive(Debug, PartialEq)]
enum Piece<'a> {
    /// A complete line, without its `\n`.
    Line(&'a [u8]),
    /// A line of this many bytes was skipped.
    TooLong(usize),
    /// The line goes on in the next read.
    Pending,
}

impl Lines {
    /// Takes from `chunk` up to the end of one line; returns how many bytes it used.
    fn feed<'a>(&'a mut self, chunk: &'a [u8]) -> (usize, Piece<'a>) {
        if std::mem::take(&mut self.finished) {
            self.partial.clear();
        }
        let Some(at) = memchr::memchr(b'\n', chunk) else {
            if self.skipped > 0 || self.partial.len() + chunk.len() > MAX_LINE {
                self.skipped += std::mem::take(&mut self.partial).len() + chunk.len();
            } else {
                self.partial.extend_from_slice(chunk);
            }
            return (chunk.len(), Piece::Pending);
        };
        let piece = if self.skipped > 0 || self.partial.len() + at > MAX_LINE {
            let len = std::mem::take(&mut self.skipped) + self.partial.len() + at + 1;
            self.partial.clear();
            Piece::TooLong(len)
        } else if self.partial.is_empty() {
            Piece::Line(&chunk[..at])
        } else {
            self.partial.extend_from_slice(&chunk[..at]);
            self.finished = true;
            Piece::Line(&self.partial)
        };
        (at + 1, piece)
    }

    /// At the end of output: a notice for what came after the last newline, if anything.
    fn finish(&mut self) -> Option<String> {
        if self.finished {
            return None;
        }
        if self.skipped > 0 {
            return Some(too_long(self.skipped + self.partial.len()));
        }
        (!self.partial.is_empty()).then(|| {
            format!(
                "The agent's output ended in the middle of a line; dropped {} bytes: {}",
                self.partial.len(),
                preview(&self.partial)
            )
        })
    }
}

/// The start of a line, for notices.
fn preview(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(200)]);
    if line.len() > 200 {
        format!("{text}…")
    } else {
        text.into_owned()
    }
}

/// Logs stderr, keeps its tail for the exit report, and relays it as `info` frames as the
/// original did.
async fn drain_stderr(stderr: ChildStderr, tail: Arc<StderrTail>, log: Arc<EventLog>) {
    let mut lines = BufReader::new(stderr);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match lines.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end();
        tracing::info!(target: "agent_stderr", "{line}");
        tail.push(line);
        log.append_message(&ServerMessage::info(line)).await;
    }
}

/// Waits for the agent to end, reports how unless the server ended it, and clears up.
async fn supervise(
    mut child: Child,
    readers: [tokio::task::JoinHandle<()>; 2],
    tail: Arc<StderrTail>,
    shared: Arc<Shared>,
    log: Arc<EventLog>,
    exit: watch::Sender<bool>,
) {
    let status = child.wait().await;
    // A tool's process may still hold the pipes open: give the readers a moment, no more.
    for reader in readers {
        let abort = reader.abort_handle();
        if tokio::time::timeout(GRACE, reader).await.is_err() {
            abort.abort();
        }
    }
    shared.stdin.lock().await.take();
    kill_group(shared.pid, Signal::SIGKILL);
    lock(&shared.pending).clear();
    let stopping = shared.stopping.load(Ordering::SeqCst);
    let report = describe_exit(&status, &tail.text());
    tracing::info!(pid = shared.pid, %report, stopping, "agent ended");
    if !stopping {
        log.append_message(&ServerMessage::error(report)).await;
    }
    let _ = exit.send(true);
}

fn describe_exit(status: &io::Result<ExitStatus>, stderr: &str) -> String {
    let how = match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(signal)) => match Signal::try_from(signal) {
                Ok(signal) => format!("terminated by signal {signal}"),
                Err(_) => format!("terminated by signal {signal}"),
            },
            (None, None) => "ended".to_owned(),
        },
        Err(error) => format!("could not be waited for: {error}"),
    };
    if stderr.is_empty() {
        format!("Claude Code process {how}")
    } else {
        format!("Claude Code process {how}. Its last stderr output:\n{stderr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every piece `Lines` makes of `input` read in chunks of `size`, then its end notice.
    fn pieces(input: &[u8], size: usize) -> Vec<String> {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for mut chunk in input.chunks(size) {
            while !chunk.is_empty() {
                let (used, piece) = lines.feed(chunk);
                match piece {
                    Piece::Line(line) => out.push(String::from_utf8(line.to_vec()).unwrap()),
                    Piece::TooLong(len) => out.push(format!("too long: {len}")),
                    Piece::Pending => {}
                }
                chunk = &chunk[used..];
            }
        }
        out.extend(lines.finish());
        out
    }

    #[test]
    fn lines_are_split_in_place_and_across_reads() {
        let input = b"{\"a\":1}\n{\"b\":2}\n{\"c\"";
        for size in [1, 3, 64] {
            let got = pieces(input, size);
            assert_eq!(got[..2], ["{\"a\":1}", "{\"b\":2}"], "{size}");
            assert!(
                got[2].starts_with(
                    "The agent's output ended in the middle of a line; dropped 4 bytes"
                )
            );
        }
        assert_eq!(pieces(b"{}\n", 2), ["{}"], "a finished line is no leftover");
    }

    #[test]
    fn an_overlong_line_is_skipped_whole() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(
            pieces(&input, 1 << 16),
            [format!("too long: {}", MAX_LINE + 11), "ok".to_owned()]
        );
    }

    #[test]
    fn exits_read_like_the_originals() {
        let code = Ok(ExitStatus::from_raw(3 << 8));
        assert_eq!(
            describe_exit(&code, ""),
            "Claude Code process exited with code 3"
        );
        let killed = Ok(ExitStatus::from_raw(9));
        assert_eq!(
            describe_exit(&killed, "boom"),
            "Claude Code process terminated by signal SIGKILL. Its last stderr output:\nboom"
        );
    }
}
