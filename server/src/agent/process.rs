//! A running agent: the CLI process, the one writer of its stdin, the reader that turns its
//! stdout into events for its session, and its supervised end.

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

use claude_agent_protocol::{
    AgentLine, LineKind, SdkUserMessage,
    agent::{ControlResponse, ControlToAgent, ServerRequest},
};
use nix::{sys::signal::Signal, unistd::Pid};

use crate::{lock::lock, metrics};
use serde_json::Value;
use thiserror::Error;
use tokio::{
    io::{AsyncRead, AsyncReadExt},
    process::Child,
    sync::{oneshot, watch},
};
use tracing::Instrument;

use super::{
    Containment, LaunchSpec,
    events::{AgentEvent, AgentSink, Notice},
    lines::{Lines, MAX_LINE, Piece, preview},
    stderr::{self, StderrTail},
    stdin::{Room, Stdin},
};
/// The agent's stdout pipe, and what one read of it may take (Linux allows pipes up to
/// `/proc/sys/fs/pipe-max-size`, 1 MiB by default).
const PIPE_BYTES: i32 = 1 << 20;
const READ_BYTES: usize = 1 << 18;
/// What the first read may take: the buffer doubles towards [`READ_BYTES`] while reads fill it,
/// so that the many agents that say little (idle, soon hibernated) each hold little.
const FIRST_READ_BYTES: usize = 1 << 13;
/// Shutdown: how long the agent gets after stdin closes, and again after SIGTERM.
const GRACE: Duration = Duration::from_secs(2);
/// Agents started so far, which tells their marks apart.
static AGENTS: AtomicU64 = AtomicU64::new(0);
/// How long a control request may go unanswered.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Error)]
pub(crate) enum AgentError {
    #[error("could not start Claude Code ({program}): {source}")]
    Spawn { program: String, source: io::Error },
    #[error("the agent is not running")]
    Gone,
    #[error(
        "the agent is not reading its input: {messages} messages wait for it; interrupt it, \
         or try again later"
    )]
    Busy { messages: usize },
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
    stdin: Stdin,
    /// The server's control requests awaiting the CLI's answer, by request id.
    pending: Mutex<HashMap<String, oneshot::Sender<ControlResponse>>>,
    next_request: AtomicU64,
    /// The CLI answered `initialize`: it is up.
    initialized: AtomicBool,
    /// Set when the server ends the agent, so its exit is no failure to report.
    stopping: AtomicBool,
    /// Where it was started (its session's): its lines are logged there, whoever ends it.
    span: tracing::Span,
}

impl Agent {
    /// Starts the CLI, telling `sink` what it prints, and sends `initialize`.
    pub(crate) async fn spawn(
        spec: &LaunchSpec,
        containment: Containment,
        sink: Arc<dyn AgentSink>,
    ) -> Result<Self, AgentError> {
        let spawn_error = |source| AgentError::Spawn {
            program: spec.program.display().to_string(),
            source,
        };
        tokio::fs::create_dir_all(&spec.cwd)
            .await
            .map_err(spawn_error)?;
        for (path, text) in &spec.files {
            write_private(path, text).map_err(spawn_error)?;
        }
        let mark = format!(
            "{}-{}",
            std::process::id(),
            AGENTS.fetch_add(1, Ordering::Relaxed)
        );
        let mut command = containment.command(&spec.program, &spec.args, &mark);
        command
            .envs(spec.env.iter().map(|(key, value)| (key, value)))
            // Keeps the CLI from believing it runs nested inside another Claude Code.
            .env_remove("CLAUDECODE")
            .current_dir(&spec.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own group, which shutdown signals: the CLI (and its holder and init, if any),
            // not its tools, which the CLI puts in groups of their own: see `contain.rs`.
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
        containment.started(pid, &mark);
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let shared = Arc::new(Shared {
            pid,
            stdin: Stdin::new(stdin.expect("piped")),
            pending: Mutex::default(),
            next_request: AtomicU64::new(1),
            initialized: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            span: tracing::Span::current(),
        });
        let (exit_tx, exit) = watch::channel(false);
        let tail = Arc::new(StderrTail::default());
        let stderr = stderr.expect("piped");
        let stderr = tokio::spawn(
            {
                let (tail, sink) = (tail.clone(), sink.clone());
                async move { stderr::drain(stderr, &tail, &*sink).await }
            }
            .in_current_span(),
        );
        let stdout = stdout.expect("piped");
        // A deeper pipe lets the agent write ahead and the relay read in bigger batches.
        if let Err(error) =
            nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES))
        {
            tracing::debug!(%error, "F_SETPIPE_SZ");
        }
        let stdout =
            tokio::spawn(relay_stdout(stdout, shared.clone(), sink.clone()).in_current_span());
        tokio::spawn(
            supervise(
                child,
                (containment, mark),
                [stdout, stderr],
                tail,
                shared.clone(),
                sink,
                exit_tx,
            )
            .in_current_span(),
        );
        tracing::info!(pid, program = %spec.program.display(), args = ?spec.args, "agent started");
        metrics::agent_started();

        let agent = Self { shared, exit };
        let initialize = ServerRequest::Initialize {
            agents: spec.agents.clone(),
        };
        let handle = agent.clone();
        tokio::spawn(
            async move {
                match handle.request(initialize).await {
                    Ok(()) => handle.shared.initialized.store(true, Ordering::SeqCst),
                    Err(error) => tracing::warn!(%error, "agent initialize failed"),
                }
            }
            .in_current_span(),
        );
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

    /// Whether the CLI has answered `initialize`.
    pub(crate) fn is_initialized(&self) -> bool {
        self.shared.initialized.load(Ordering::SeqCst)
    }

    /// Room for a user message in the queue to the CLI's stdin; refused while too many wait
    /// (a CLI that stopped reading), never waiting for it.
    pub(crate) fn reserve(&self, message: &SdkUserMessage) -> Result<Room, AgentError> {
        self.shared.stdin.reserve(message)
    }

    /// Sends a control request and waits for the CLI's answer.
    pub(crate) async fn request(&self, request: ServerRequest) -> Result<(), AgentError> {
        self.request_within(request, REQUEST_TIMEOUT).await
    }

    /// Sends a control request and waits for the CLI's answer, for `within` at most, its write
    /// included (a hung CLI reads no more of its stdin).
    pub(crate) async fn request_within(
        &self,
        request: ServerRequest,
        within: Duration,
    ) -> Result<(), AgentError> {
        self.ask_within(request, within).await.map(drop)
    }

    /// Sends a control request; the CLI's answer (`response`), if it gave one.
    pub(crate) async fn ask(&self, request: ServerRequest) -> Result<Option<Value>, AgentError> {
        self.ask_within(request, REQUEST_TIMEOUT).await
    }

    async fn ask_within(
        &self,
        request: ServerRequest,
        within: Duration,
    ) -> Result<Option<Value>, AgentError> {
        let subtype = request.subtype();
        let id = format!(
            "req_{}",
            self.shared.next_request.fetch_add(1, Ordering::Relaxed)
        );
        let (answer_tx, answer) = oneshot::channel();
        lock(&self.shared.pending).insert(id.clone(), answer_tx);
        let line = ControlToAgent::ControlRequest {
            request_id: id.clone(),
            request,
        };
        let outcome = async {
            self.shared.stdin.send_control(line)?;
            match answer.await {
                Err(_) => Err(AgentError::Gone),
                Ok(ControlResponse::Success { response, .. }) => Ok(response),
                Ok(ControlResponse::Error { error, .. }) => {
                    Err(AgentError::Refused { subtype, error })
                }
            }
        };
        let outcome = tokio::time::timeout(within, outcome)
            .await
            .unwrap_or(Err(AgentError::Timeout(subtype)));
        lock(&self.shared.pending).remove(&id);
        outcome
    }

    /// Ends the agent: stdin closed (the CLI finishes its turn and exits), then SIGTERM, then
    /// SIGKILL, each after [`GRACE`]; then whatever is left of its process group. Returns once
    /// its end is told to its session.
    pub(crate) async fn shutdown(&self) {
        let span = self.shared.span.clone();
        async {
            self.shared.stopping.store(true, Ordering::SeqCst);
            self.shared.stdin.close();
            let mut exit = self.exit.clone();
            for signal in [Some(Signal::SIGTERM), Some(Signal::SIGKILL), None] {
                if tokio::time::timeout(GRACE, exit.wait_for(|exited| *exited))
                    .await
                    .is_ok()
                {
                    // `supervise` lets go of the sender once the session has the exit.
                    while exit.changed().await.is_ok() {}
                    return;
                }
                if let Some(signal) = signal {
                    tracing::warn!(pid = self.pid(), %signal, "agent still running; signalling");
                    kill_group(self.shared.pid, signal);
                }
            }
            tracing::error!(pid = self.pid(), "agent survived SIGKILL");
        }
        .instrument(span)
        .await;
    }
}

fn kill_group(pid: u32, signal: Signal) {
    let group = Pid::from_raw(pid.cast_signed());
    if let Err(error) = nix::sys::signal::killpg(group, signal) {
        tracing::debug!(%error, %signal, "killpg");
    }
}

/// Reads stdout to its end: messages go to the sink byte for byte, control lines are served.
async fn relay_stdout(
    mut stdout: impl AsyncRead + Unpin,
    shared: Arc<Shared>,
    sink: Arc<dyn AgentSink>,
) {
    let mut lines = Lines::new(MAX_LINE);
    let mut buffer = vec![0; FIRST_READ_BYTES];
    loop {
        let chunk = match stdout.read(&mut buffer).await {
            Ok(read) => &buffer[..read],
            Err(error) => {
                tracing::warn!(%error, "reading agent stdout");
                return;
            }
        };
        if chunk.is_empty() {
            if let Some(notice) = lines.finish() {
                sink.accept(&mut vec![AgentEvent::Notice(notice)]);
            }
            return;
        }
        // Every line of this read is decided while borrowed from the read buffer, then handed
        // over in one batch; `lines` keeps what goes on in the next read.
        let full = chunk.len() == buffer.len();
        let mut events = Vec::new();
        let mut used = 0;
        while used < chunk.len() {
            let (taken, piece) = lines.feed(&chunk[used..]);
            used += taken;
            match piece {
                Piece::Line(line) => act_on(&shared, line, &mut events),
                // Only ever the first line of a read, so it goes first, on its own.
                Piece::Spanned => {
                    let mut spanned = Vec::with_capacity(1);
                    act_on(&shared, lines.spanned(), &mut spanned);
                    sink.accept(&mut spanned);
                }
                Piece::TooLong(len) => {
                    let notice = Notice::TooLong { len, max: MAX_LINE };
                    events.push(AgentEvent::Notice(notice));
                }
                Piece::Pending => {}
            }
        }
        sink.accept(&mut events);
        drop(events);
        if full && buffer.len() < READ_BYTES {
            buffer.resize(buffer.len() * 2, 0);
        }
        sink.ready().await;
    }
}

/// Reads one line (without its `\n`): a message or a control request becomes an event; a
/// control response reaches its waiter here and now.
fn act_on<'a>(shared: &Arc<Shared>, line: &'a [u8], events: &mut Vec<AgentEvent<'a>>) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    let parsed = std::str::from_utf8(line)
        .map_err(|e| e.to_string())
        .and_then(|text| AgentLine::parse(text).map_err(|e| e.to_string()));
    let line = match parsed {
        Ok(line) => line,
        Err(error) => {
            tracing::warn!(%error, line = %preview(line), "agent printed a line that is no message");
            let preview = preview(line);
            events.push(AgentEvent::Notice(Notice::NotAMessage { error, preview }));
            return;
        }
    };
    let raw = line.raw();
    match line.into_kind() {
        LineKind::Message(head) => events.push(AgentEvent::Message { raw, head }),
        LineKind::ControlResponse(response) => {
            // Unknown ids are answers to requests given up on, or echoes: dropped.
            if let Some(waiter) = lock(&shared.pending).remove(response.request_id()) {
                let _ = waiter.send(response);
            }
        }
        LineKind::ControlRequest {
            request_id,
            request,
        } => events.push(AgentEvent::Request {
            request,
            answer: Answer {
                shared: shared.clone(),
                request_id,
            },
        }),
        LineKind::ControlCancelRequest { request_id } => {
            events.push(AgentEvent::Cancelled { request_id });
        }
        LineKind::KeepAlive => {}
    }
}

/// How the session answers a control request of the CLI's; the CLI waits for exactly one
/// answer.
#[derive(Debug)]
#[must_use = "the CLI waits for an answer to its request"]
pub(crate) struct Answer {
    shared: Arc<Shared>,
    request_id: String,
}

impl Answer {
    pub(crate) fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Writes `response` to the CLI (without waiting for the write).
    pub(crate) fn send(self, response: ControlResponse) {
        let line = ControlToAgent::ControlResponse { response };
        if let Err(error) = self.shared.stdin.send_control(line) {
            tracing::debug!(%error, "could not answer the agent");
        }
    }
}

/// Writes `text` to `path`, readable and writable by the server's user alone.
fn write_private(path: &std::path::Path, text: &str) -> io::Result<()> {
    use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// Waits for the agent to end, reports how unless the server ended it, and clears up.
async fn supervise(
    mut child: Child,
    (containment, mark): (Containment, String),
    readers: [tokio::task::JoinHandle<()>; 2],
    tail: Arc<StderrTail>,
    shared: Arc<Shared>,
    sink: Arc<dyn AgentSink>,
    exit: watch::Sender<bool>,
) {
    let status = child.wait().await;
    // What the agent left goes first: a tool holding the pipes open would hold up the readers.
    containment.ended(shared.pid, &mark).await;
    // A process not contained may still hold the pipes open: the readers get a moment, no more.
    for reader in readers {
        let abort = reader.abort_handle();
        if tokio::time::timeout(GRACE, reader).await.is_err() {
            abort.abort();
        }
    }
    let undelivered = shared.stdin.finish().await;
    kill_group(shared.pid, Signal::SIGKILL);
    lock(&shared.pending).clear();
    let stopping = shared.stopping.load(Ordering::SeqCst);
    let report = describe_exit(&status, &tail.text());
    tracing::info!(pid = shared.pid, %report, stopping, "agent ended");
    if !stopping {
        metrics::agent_died();
    }
    let _ = exit.send(true);
    sink.accept(&mut vec![AgentEvent::Exited {
        report,
        expected: stopping,
        undelivered,
    }]);
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
    let report = if stderr.is_empty() {
        format!("Claude Code process {how}")
    } else {
        format!("Claude Code process {how}. Its last stderr output:\n{stderr}")
    };
    match remedy(stderr) {
        Some(remedy) => format!("{report}\n{remedy}"),
        None => report,
    }
}

/// What to do about a fatal error the CLI is known to report on stderr.
fn remedy(stderr: &str) -> Option<&'static str> {
    stderr
        .contains("cannot be used with root/sudo privileges")
        .then_some(
            "The server runs as root, and the CLI refuses to skip permission prompts as root: \
             run the server as a normal user or, on a machine that is a sandbox (a container, a \
             VM), start it with IS_SANDBOX=1.",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_fatal_error_says_what_to_do() {
        let stderr = "--dangerously-skip-permissions cannot be used with root/sudo privileges for \
                      security reasons";
        let report = describe_exit(&Ok(ExitStatus::from_raw(1 << 8)), stderr);
        assert!(report.ends_with("start it with IS_SANDBOX=1."), "{report}");
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
