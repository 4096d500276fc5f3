//! A session: a conversation with one agent process at a time (started ahead of the first
//! message, restarted and resumed as needed, stopped while idle) and the numbered log of every
//! frame its clients see. Clients come and go; the session stays, on disk too.
//!
//! The data path: the agent's output arrives as [`AgentEvent`]s in [`Core::accept`], which is
//! the one place that turns them into client frames and appends them to the [`EventLog`]
//! (and so to disk). Each connection reads the log through its own [`Cursor`].

mod core;
mod log;
mod meta;
mod prompts;
mod registry;
mod store;

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use claude_agent_protocol::{
    QueryConfig, SdkUserMessage, Seq, SessionInfo, SessionStatus,
    agent::ServerRequest,
    control::{Control, ControlChange, ControlResult},
    permissions::{PermissionAnswer, PermissionRequest},
};
use thiserror::Error;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub(crate) use self::log::{Cursor, Resync};
pub(crate) use registry::{NewSession, Sessions};

use self::core::Core;
use crate::lock::lock;
use crate::{
    agent::{Agent, AgentError, Containment, LaunchSpec, unstartable},
    metrics,
    notify::{self, Notifier},
};
pub(crate) use prompts::PromptError;

/// What every session of the server is started with.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) program: PathBuf,
    pub(crate) workspace: PathBuf,
    /// Sessions live in its `sessions/` folder.
    pub(crate) state_dir: PathBuf,
    /// How much of its log a session keeps.
    pub(crate) history_bytes: usize,
    /// How long the agent has to answer an interrupt before it is restarted.
    pub(crate) interrupt_timeout: Duration,
    /// What ends an agent's tools with it.
    pub(crate) containment: Containment,
    /// Set in every agent's environment over the config's (`--demo`: its scripted API).
    pub(crate) agent_env: Vec<(&'static str, String)>,
    /// Where sessions' webhook notifications go.
    pub(crate) notifier: Notifier,
}

/// Why no session can have `config`, if none can.
fn refused(config: &QueryConfig) -> Option<String> {
    unstartable(config).or_else(|| notify::unusable(config))
}

/// Who may attach to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// The original's `/config` and `/ws`: one client at a time, and the original's frames.
    Legacy,
    /// `/v1/sessions`: any number of clients, each seeing the others' messages.
    V1,
}

#[derive(Debug, Error)]
pub(crate) enum SessionError {
    /// The original's wording, which its clients may match.
    #[error("Server already has an active connection")]
    Busy,
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("could not store the session: {0}")]
    Store(#[from] std::io::Error),
    #[error("the session has no conversation to fork yet: send it a message first")]
    NothingToFork,
    /// A config no agent can start with.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error("No message {0:?} is queued: it has started, ended, or was never sent")]
    NotQueued(String),
}

/// What sending a user message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    pub(crate) uuid: Option<String>,
    /// The `seq` of its `user_message` frame, when the session logs them.
    pub(crate) seq: Option<Seq>,
    /// Its `uuid` was sent before: this one was not sent again.
    pub(crate) duplicate: bool,
}

#[derive(Debug)]
pub(crate) struct Session {
    id: String,
    surface: Surface,
    settings: Arc<Settings>,
    core: Arc<Core>,
    /// The current agent, if one runs; held across a start so only one starts.
    agent: tokio::sync::Mutex<Option<Agent>>,
    /// Set by drain and by shutdown (under the `agent` lock): no agent starts after it.
    closed: AtomicBool,
    /// Cancelled by shutdown: its clients are let go.
    ended: CancellationToken,
    /// An interrupt waits for the agent's answer: another adds nothing.
    interrupting: AtomicBool,
    clients: AtomicU32,
    /// When the last client left (or the session began): prompts time out from then.
    alone_since: std::sync::Mutex<Instant>,
    /// What the session's work logs in, so that each line says which session it is of.
    span: tracing::Span,
}

impl Session {
    fn new(settings: Arc<Settings>, core: Core) -> Self {
        let meta = core.meta();
        // At error level, so that it is there whatever level the lines in it have.
        let span = tracing::error_span!(parent: None, "session", session_id = %meta.id);
        Self {
            id: meta.id.clone(),
            surface: meta.surface(),
            settings,
            core: Arc::new(core),
            agent: tokio::sync::Mutex::default(),
            closed: AtomicBool::new(false),
            ended: CancellationToken::new(),
            interrupting: AtomicBool::new(false),
            clients: AtomicU32::new(0),
            alone_since: std::sync::Mutex::new(Instant::now()),
            span,
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn surface(&self) -> Surface {
        self.surface
    }

    /// The span its work logs in.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The config the next agent starts with (kept with what is stored of the session).
    pub(crate) fn config(&self) -> QueryConfig {
        self.core.config()
    }

    /// The agent's working directory: its config's `cwd`, else the server's workspace.
    pub(crate) fn cwd(&self) -> PathBuf {
        self.config()
            .cwd
            .map_or_else(|| self.settings.workspace.clone(), PathBuf::from)
    }

    /// Replaces the config, as the original's `/config` does. An agent that has had no
    /// message yet is replaced by one with the new config; a conversation keeps its agent.
    pub(crate) async fn replace_config(&self, config: QueryConfig) -> Result<(), SessionError> {
        if let Some(reason) = refused(&config) {
            return Err(SessionError::Config(reason));
        }
        self.core.set_config(config);
        if self.core.messages() > 0 {
            return Ok(());
        }
        let old = {
            let mut slot = self.agent.lock().await;
            let Some(old) = slot.take() else {
                return Ok(());
            };
            match self.spawn().await {
                Ok(agent) => *slot = Some(agent),
                Err(error) => self.core.error(&error),
            }
            old
        };
        tokio::spawn(async move { old.shutdown().await });
        Ok(())
    }

    /// Starts the agent ahead of the first message, so that the first turn does not wait for
    /// it; a failure is logged for the clients.
    pub(crate) async fn prewarm(&self) {
        if let Err(error) = self.running_agent(None).await {
            self.core.error(&error);
        }
    }

    /// Attaches a client, if the session's policy lets it; it detaches when the returned
    /// guard drops.
    pub(crate) fn attach(self: &Arc<Self>) -> Result<Attached, SessionError> {
        let exclusive = self.surface == Surface::Legacy;
        let attached = self
            .clients
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |clients| {
                (!exclusive || clients == 0).then_some(clients + 1)
            });
        match attached {
            Ok(_) => Ok(Attached(self.clone())),
            Err(_) => Err(SessionError::Busy),
        }
    }

    /// A cursor after `after`; without it, a legacy client gets what no client has had and a
    /// v1 client the whole history.
    pub(crate) fn cursor(&self, after: Option<Seq>) -> Cursor<'_> {
        let after = after.unwrap_or_else(|| match self.surface {
            Surface::Legacy => self.core.delivered(),
            Surface::V1 => 0,
        });
        self.core.log.cursor(after)
    }

    /// The oldest kept `seq` and the latest.
    pub(crate) fn bounds(&self) -> (Seq, Seq) {
        self.core.log.bounds()
    }

    /// Notes that a client has had every frame up to `seq`.
    pub(crate) fn delivered(&self, seq: Seq) {
        self.core.set_delivered(seq);
    }

    /// Sends a user turn, starting an agent that resumes the conversation if none runs. On
    /// the v1 surface every client sees it (a `user_message` frame), and a `uuid` sent before
    /// is not sent again.
    pub(crate) async fn send_user(
        &self,
        mut message: SdkUserMessage,
    ) -> Result<Sent, SessionError> {
        let agent = self.running_agent(None).await?;
        if self.surface == Surface::V1 {
            message
                .uuid
                .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
        }
        // Before the message is logged: one the agent cannot take is refused unseen.
        let room = agent.reserve(&message)?;
        let sent = match self.surface {
            Surface::Legacy => {
                self.core.count_message();
                Sent {
                    uuid: message.uuid.clone(),
                    seq: None,
                    duplicate: false,
                }
            }
            Surface::V1 => {
                let uuid = message.uuid.clone().unwrap_or_default();
                let (seq, duplicate) = self.core.log_user_message(&uuid, &message);
                Sent {
                    uuid: Some(uuid),
                    seq: Some(seq),
                    duplicate,
                }
            }
        };
        if sent.duplicate {
            return Ok(sent);
        }
        match room.send() {
            // It died just now: once more with its successor.
            Err(AgentError::Gone) => self
                .running_agent(Some(&agent))
                .await?
                .reserve(&message)?
                .send()?,
            sent => sent?,
        }
        Ok(sent)
    }

    /// The running agent, started (resuming the conversation, if any) if there is none or if
    /// it is `dead`. The lock is held only to choose or start it, never while writing to it.
    async fn running_agent(&self, dead: Option<&Agent>) -> Result<Agent, AgentError> {
        let mut slot = self.agent.lock().await;
        match slot.as_ref() {
            Some(agent) if agent.is_running() && dead.is_none_or(|dead| !dead.same(agent)) => {
                Ok(agent.clone())
            }
            _ if self.closed.load(Ordering::SeqCst) => Err(AgentError::Gone),
            replaced => {
                // One there is dead (or `dead`): hibernated agents leave the slot empty.
                let restart = replaced.is_some();
                let agent = self.spawn().await?;
                if restart {
                    metrics::agent_restarted();
                }
                Ok(slot.insert(agent).clone())
            }
        }
    }

    async fn spawn(&self) -> Result<Agent, AgentError> {
        let (resume, fork) = self.core.resume();
        let config = self.config();
        let settings = &self.settings;
        let mut spec = LaunchSpec::new(
            &settings.program,
            &config,
            &settings.workspace,
            self.core.dir(),
            resume.as_deref(),
            fork,
        );
        spec.env.extend(settings.agent_env.iter().cloned());
        if self.surface == Surface::V1 {
            spec = spec.asking_people();
        }
        let agent = Agent::spawn(&spec, settings.containment, self.core.clone())
            .instrument(self.span.clone())
            .await?;
        self.core.started(agent.pid(), resume.as_deref());
        Ok(agent)
    }

    /// Answers a permission prompt for `by` (a client's id): the first answer reaches the CLI.
    pub(crate) fn answer_permission(
        &self,
        answer: &PermissionAnswer,
        by: &str,
    ) -> Result<(), SessionError> {
        Ok(self.core.answer_permission(answer, by)?)
    }

    /// The permission prompts waiting for an answer, oldest first.
    pub(crate) fn prompts(&self) -> Vec<PermissionRequest> {
        self.core.prompts()
    }

    /// How many permission prompts wait for an answer.
    pub(crate) fn prompts_pending(&self) -> usize {
        self.core.prompts_pending()
    }

    /// Denies the prompts left unanswered with no client attached for the config's
    /// `permissionTimeoutSeconds`, if it sets one.
    pub(crate) fn expire_prompts(&self) {
        if self.clients() > 0 || !self.core.has_prompts() {
            return;
        }
        if let Some(seconds) = self.config().permission_timeout_seconds {
            let alone = *lock(&self.alone_since);
            let timeout = Duration::from_secs(seconds.into());
            self.core.expire_prompts(alone, timeout);
        }
    }

    /// Applies a live change and says how it went: the running agent's answer, and the config
    /// keeps the change, so an agent started later (a restart, `--resume`) has it too.
    pub(crate) async fn control(&self, control: Control) -> ControlResult {
        let request_id = control
            .request_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let subtype = control.change.subtype().to_owned();
        let applied = self.apply(control.change).await;
        ControlResult {
            request_id,
            subtype,
            ok: applied.is_ok(),
            error: applied.err().map(|error| error.to_string()),
        }
    }

    async fn apply(&self, change: ControlChange) -> Result<(), SessionError> {
        let request = match &change {
            ControlChange::Interrupt => return self.interrupt().await,
            ControlChange::SetModel { model } => ServerRequest::SetModel {
                model: model.clone(),
            },
            ControlChange::SetPermissionMode { mode } => {
                ServerRequest::SetPermissionMode { mode: *mode }
            }
            ControlChange::SetMaxThinkingTokens {
                max_thinking_tokens,
            } => ServerRequest::SetMaxThinkingTokens {
                max_thinking_tokens: *max_thinking_tokens,
            },
            ControlChange::CancelMessage { uuid } => return self.cancel_message(uuid).await,
        };
        let running = self.agent.lock().await.clone().filter(Agent::is_running);
        if let Some(agent) = running {
            agent.request(request).await?;
        }
        let mut config = self.config();
        match change {
            ControlChange::SetModel { model } => {
                config.model = model.filter(|model| model != "default");
            }
            ControlChange::SetPermissionMode { mode } => config.permission_mode = Some(mode),
            ControlChange::SetMaxThinkingTokens {
                max_thinking_tokens,
            } => config.max_thinking_tokens = max_thinking_tokens,
            ControlChange::Interrupt | ControlChange::CancelMessage { .. } => {}
        }
        self.core.set_config(config);
        Ok(())
    }

    /// Withdraws a user message still queued behind the running turn.
    async fn cancel_message(&self, uuid: &str) -> Result<(), SessionError> {
        let running = self.agent.lock().await.clone().filter(Agent::is_running);
        let request = ServerRequest::CancelAsyncMessage {
            message_uuid: uuid.to_owned(),
        };
        let cancelled = match running {
            Some(agent) => agent.ask(request).await?,
            None => None,
        };
        match cancelled.and_then(|answer| answer["cancelled"].as_bool()) {
            Some(true) => Ok(()),
            _ => Err(SessionError::NotQueued(uuid.to_owned())),
        }
    }

    /// Interrupts the running turn; without a running agent there is nothing to interrupt. An
    /// agent that does not answer in time is hung: it is restarted, resuming the conversation.
    pub(crate) async fn interrupt(&self) -> Result<(), SessionError> {
        if self.interrupting.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let interrupted = self.interrupt_once().await;
        self.interrupting.store(false, Ordering::SeqCst);
        interrupted
    }

    async fn interrupt_once(&self) -> Result<(), SessionError> {
        let Some(agent) = self.agent.lock().await.clone().filter(Agent::is_running) else {
            return Ok(());
        };
        let within = self.settings.interrupt_timeout;
        let hung = match agent.request_within(ServerRequest::Interrupt, within).await {
            Err(AgentError::Timeout(_)) => format!(
                "did not answer the interrupt within {}",
                humantime::format_duration(within)
            ),
            Err(AgentError::Busy { .. }) => "is not reading its input".to_owned(),
            answered => return Ok(answered?),
        };
        self.core.info(format!(
            "Claude Code (pid {}) {hung}: restarting it; the conversation resumes",
            agent.pid()
        ));
        if let Some(hung) = self.take_agent(|current| current.same(&agent)).await {
            hung.shutdown().await;
        }
        // A draining server ends its agents: it replaces none.
        if !self.closed.load(Ordering::SeqCst) {
            metrics::agent_restarted();
            self.prewarm().await;
        }
        Ok(())
    }

    /// Stops the agent if it has been idle (no turn, no client) for `idle`: the session stays
    /// and the next message resumes the conversation.
    pub(crate) async fn hibernate_if_idle(&self, idle: Duration) {
        if self.clients.load(Ordering::SeqCst) > 0 || !self.core.idle_for(idle) {
            return;
        }
        if let Some(agent) = self.take_agent(Agent::is_running).await {
            self.span
                .in_scope(|| tracing::info!(pid = agent.pid(), "hibernating"));
            self.core.hibernated(agent.pid(), idle);
            agent.shutdown().await;
        }
    }

    /// Cancelled once the session has ended (deleted, or the server stopping).
    pub(crate) fn ended(&self) -> &CancellationToken {
        &self.ended
    }

    /// Takes the agent out of its slot if `which` says so; the next message starts another.
    async fn take_agent(&self, which: impl FnOnce(&Agent) -> bool) -> Option<Agent> {
        let mut slot = self.agent.lock().await;
        slot.take_if(|agent| which(agent))
    }

    /// Lets the running turn (and those queued behind it) end by themselves until `hurry`,
    /// then interrupts what still runs and gives it the interrupt timeout to end. No agent
    /// starts meanwhile, so one that dies or hangs is not replaced.
    pub(crate) async fn drain(&self, hurry: &CancellationToken) {
        self.closed.store(true, Ordering::SeqCst);
        tokio::select! {
            () = self.core.turns_ended() => return,
            () = hurry.cancelled() => {}
        }
        self.span
            .in_scope(|| tracing::info!("interrupting the turn still running"));
        if let Err(error) = self.interrupt().await {
            self.span
                .in_scope(|| tracing::warn!(%error, "could not interrupt the turn"));
        }
        let within = self.settings.interrupt_timeout;
        let _ = tokio::time::timeout(within, self.core.turns_ended()).await;
    }

    /// Ends the agent, if any, gracefully, and lets the clients go; no agent starts after it.
    pub(crate) async fn shutdown(&self) {
        let agent = {
            let mut slot = self.agent.lock().await;
            self.closed.store(true, Ordering::SeqCst);
            slot.take()
        };
        self.ended.cancel();
        if let Some(agent) = agent {
            agent.shutdown().await;
        }
    }

    /// Where its agent is.
    pub(crate) async fn status(&self) -> SessionStatus {
        let agent = self.agent.lock().await.clone();
        match agent {
            Some(agent) if agent.is_running() => match agent.is_initialized() {
                false => SessionStatus::Starting,
                true if self.core.turn_running() => SessionStatus::Running,
                true => SessionStatus::Idle,
            },
            _ if self.core.exited() => SessionStatus::Exited,
            _ => SessionStatus::Hibernated,
        }
    }

    /// Clients attached now.
    pub(crate) fn clients(&self) -> u32 {
        self.clients.load(Ordering::SeqCst)
    }

    /// The session as the API shows it.
    pub(crate) async fn info(&self) -> SessionInfo {
        let status = self.status().await;
        let (oldest_seq, latest_seq) = self.bounds();
        let config = self.config();
        let stats = self.core.stats();
        SessionInfo {
            id: self.id.clone(),
            default: self.surface == Surface::Legacy,
            status,
            created_at: rfc3339(stats.created_at),
            last_activity_at: rfc3339(stats.last_activity),
            clients: self.clients(),
            latest_seq,
            oldest_seq,
            cwd: self.cwd().display().to_string(),
            model: config.model,
            cli_session_id: stats.cli_session,
            usage: stats.usage,
            total_cost_usd: stats.total_cost_usd,
            queued: stats.queued,
        }
    }
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// An attached client; detaches on drop.
#[derive(Debug)]
pub(crate) struct Attached(Arc<Session>);

impl Attached {
    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.0
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        if self.0.clients.fetch_sub(1, Ordering::SeqCst) == 1 {
            *lock(&self.0.alone_since) = Instant::now();
        }
        self.0.core.touch();
    }
}
