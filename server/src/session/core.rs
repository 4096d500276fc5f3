//! The part of a session its agent reports to: the log, and the figures read from what goes
//! into it. The one author of the session's client frames.

use std::{
    collections::{HashMap, VecDeque},
    path::PathBuf,
    sync::{Mutex, MutexGuard},
    time::{Duration, Instant, SystemTime},
};

use claude_agent_protocol::{
    MessageKind, QueryConfig, SdkUserMessage, Seq, ServerMessage,
    agent::ControlResponse,
    config::Secret,
    permissions::{
        PermissionAnswer, PermissionBehavior, PermissionRequest, PermissionResolved,
        ResolvedReason, denied,
    },
    sessions::Usage,
};
use serde::Deserialize;
use tokio::sync::Notify;

use super::{
    log::{EventLog, Retention},
    meta::Meta,
    prompts::{PromptError, Prompts},
};
use crate::{
    agent::{AgentEvent, AgentSink, Ready, no_key_hint},
    metrics,
    notify::{Letter, Notifier, Recipient},
};

/// How many user message `uuid`s a session remembers to refuse a repeat.
const REMEMBERED_UUIDS: usize = 10_000;

#[derive(Debug)]
pub(super) struct Core {
    pub(super) log: EventLog,
    /// The session's folder.
    dir: PathBuf,
    state: Mutex<State>,
    notifier: Notifier,
    /// Woken when the agent's output leaves no turn running.
    turns_ended: Notify,
}

#[derive(Debug)]
struct State {
    meta: Meta,
    /// Written to disk since it changed? (`false`: it must be.)
    saved: bool,
    last_activity: SystemTime,
    /// Turns sent and not yet ended by a `result`.
    turns: u32,
    /// User messages sent, ever.
    messages: u64,
    /// The running agent's cost so far (the CLI's `total_cost_usd` counts from its start).
    agent_cost: f64,
    /// The last agent died on its own.
    exited: bool,
    /// Every frame up to this `seq` went to a client (where the legacy `/ws` goes on).
    delivered: Seq,
    /// User message `uuid`s sent, with the `seq` of their frame.
    uuids: HashMap<String, Seq>,
    uuid_order: VecDeque<String>,
    /// Permission prompts waiting for a person.
    prompts: Prompts,
    /// User messages the CLI queued behind the running turn, by `uuid`, oldest first.
    queued: Vec<String>,
}

/// A session's figures, as the API shows them.
#[derive(Debug, Clone)]
pub(super) struct Figures {
    pub(super) created_at: SystemTime,
    pub(super) last_activity: SystemTime,
    pub(super) cli_session: Option<String>,
    pub(super) usage: Usage,
    pub(super) total_cost_usd: f64,
    pub(super) queued: Vec<String>,
}

/// What the server reads of a `command_lifecycle` line: a user message queued, started,
/// completed or cancelled.
#[derive(Deserialize)]
struct Lifecycle {
    command_uuid: String,
    state: String,
}

/// What the server reads of a `result`.
#[derive(Deserialize)]
struct ResultFigures {
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    total_cost_usd: Option<f64>,
    #[serde(default)]
    duration_ms: Option<u64>,
}

impl Core {
    /// The core of a session with `log`, which holds the user messages `sent` (their `uuid`
    /// and `seq`, oldest first).
    pub(super) fn new(
        log: EventLog,
        dir: PathBuf,
        meta: Meta,
        sent: Vec<(String, Seq)>,
        notifier: Notifier,
    ) -> Self {
        let (_, latest) = log.bounds();
        let core = Self {
            log,
            dir,
            notifier,
            turns_ended: Notify::new(),
            state: Mutex::new(State {
                meta,
                saved: false,
                last_activity: SystemTime::now(),
                turns: 0,
                messages: 0,
                agent_cost: 0.0,
                exited: false,
                // What a server before a restart sent is taken as delivered.
                delivered: latest,
                uuids: HashMap::new(),
                uuid_order: VecDeque::new(),
                prompts: Prompts::default(),
                queued: Vec::new(),
            }),
        };
        let mut state = core.lock();
        state.messages = sent.len() as u64;
        for (uuid, seq) in sent {
            state.remember(uuid, seq);
        }
        drop(state);
        core
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The session's folder (its files, and the agent's private ones).
    pub(super) fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// What is stored of the session.
    pub(super) fn meta(&self) -> Meta {
        self.lock().meta.clone()
    }

    /// Writes `session.json` if it changed.
    pub(super) fn save(&self) {
        let meta = {
            let mut state = self.lock();
            if std::mem::replace(&mut state.saved, true) {
                return;
            }
            let mut meta = state.meta.clone();
            meta.cost_usd += state.agent_cost;
            meta
        };
        if let Err(error) = meta.save(&self.dir) {
            tracing::error!(%error, dir = %self.dir.display(), "could not save the session");
        }
    }

    fn changed(&self, change: impl FnOnce(&mut State)) {
        {
            let mut state = self.lock();
            change(&mut state);
            state.saved = false;
        }
        self.save();
    }

    pub(super) fn config(&self) -> QueryConfig {
        self.lock().meta.config.clone()
    }

    pub(super) fn set_config(&self, config: QueryConfig) {
        self.changed(|state| state.meta.set_config(config));
    }

    /// The CLI session to resume, and whether to fork it.
    pub(super) fn resume(&self) -> (Option<String>, bool) {
        let state = self.lock();
        match (&state.meta.cli_session, &state.meta.fork_of) {
            (Some(session), _) => (Some(session.clone()), false),
            (None, Some(fork_of)) => (Some(fork_of.clone()), true),
            (None, None) => (None, false),
        }
    }

    /// An agent started: says so to the clients.
    pub(super) fn started(&self, pid: u32, resume: Option<&str>) {
        self.changed(|state| {
            state.meta.cost_usd += std::mem::take(&mut state.agent_cost);
            state.exited = false;
        });
        let notice = match resume {
            Some(id) => format!("Claude Code started (pid {pid}), resuming session {id}"),
            None => format!("Claude Code started (pid {pid})"),
        };
        self.message(ServerMessage::info(notice));
    }

    pub(super) fn hibernated(&self, pid: u32, idle: Duration) {
        let idle = humantime::format_duration(idle);
        self.message(ServerMessage::info(format!(
            "Claude Code (pid {pid}) stopped after {idle} idle; the next message resumes the session"
        )));
    }

    /// Logs a notice for the clients.
    pub(super) fn info(&self, notice: String) {
        self.message(ServerMessage::info(notice));
    }

    /// Logs an error for the clients.
    pub(super) fn error(&self, error: &dyn std::fmt::Display) {
        self.message(ServerMessage::error(error));
    }

    fn message(&self, message: ServerMessage) {
        self.log.append(|batch| {
            batch.push(Retention::Durable, |seq| message.with_seq(seq).to_json());
        });
        self.touch();
    }

    pub(super) fn count_message(&self) {
        let mut state = self.lock();
        state.messages += 1;
        state.turns += 1;
        state.last_activity = SystemTime::now();
    }

    /// Logs a v1 user message for every client, unless its `uuid` was sent before: returns
    /// the `seq` of its frame, and whether it was.
    pub(super) fn log_user_message(&self, uuid: &str, message: &SdkUserMessage) -> (Seq, bool) {
        self.log.append(|batch| {
            let mut state = self.lock();
            if let Some(&seq) = state.uuids.get(uuid) {
                return (seq, true);
            }
            let frame = ServerMessage::UserMessage {
                seq: None,
                data: message.clone(),
            };
            let seq = batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
            state.remember(uuid.to_owned(), seq);
            state.messages += 1;
            state.turns += 1;
            state.last_activity = SystemTime::now();
            (seq, false)
        })
    }

    /// Gives `answer` to the CLI if its prompt is pending, and tells every client who (`by`)
    /// answered.
    pub(super) fn answer_permission(
        &self,
        answer: &PermissionAnswer,
        by: &str,
    ) -> Result<(), PromptError> {
        self.log.append(|batch| {
            let mut state = self.lock();
            let (prompt, cli) = state.prompts.answer(answer)?;
            let id = cli.request_id().to_owned();
            cli.send(ControlResponse::success(id, answer.to_cli(&prompt)));
            let frame = ServerMessage::PermissionResolved {
                seq: None,
                data: PermissionResolved {
                    request_id: prompt.request_id,
                    behavior: answer.behavior,
                    by: Some(by.to_owned()),
                    reason: ResolvedReason::Answered,
                },
            };
            batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
            state.last_activity = SystemTime::now();
            Ok(())
        })
    }

    /// Denies the prompts nobody answered within `timeout` of being asked or of `alone`, when
    /// the last client left.
    pub(super) fn expire_prompts(&self, alone: Instant, timeout: Duration) {
        self.log.append(|batch| {
            let mut state = self.lock();
            for (prompt, cli) in state.prompts.expired(alone, timeout) {
                let why = format!(
                    "No one answered within {} with no client attached.",
                    humantime::format_duration(timeout)
                );
                let id = cli.request_id().to_owned();
                cli.send(ControlResponse::success(id, denied(&why)));
                let frame = resolved(prompt, None, ResolvedReason::Timeout);
                batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
            }
        });
    }

    pub(super) fn has_prompts(&self) -> bool {
        !self.lock().prompts.is_empty()
    }

    pub(super) fn prompts_pending(&self) -> usize {
        self.lock().prompts.len()
    }

    /// The permission prompts waiting for an answer, oldest first.
    pub(super) fn prompts(&self) -> Vec<PermissionRequest> {
        self.lock().prompts.list()
    }

    pub(super) fn messages(&self) -> u64 {
        self.lock().messages
    }

    pub(super) fn turn_running(&self) -> bool {
        self.lock().turns > 0
    }

    /// Resolves once no turn runs (none sent waits for its `result`).
    pub(super) async fn turns_ended(&self) {
        loop {
            let ended = self.turns_ended.notified();
            if !self.turn_running() {
                return;
            }
            ended.await;
        }
    }

    pub(super) fn exited(&self) -> bool {
        self.lock().exited
    }

    /// No turn runs, and nothing happened for `idle`.
    pub(super) fn idle_for(&self, idle: Duration) -> bool {
        let state = self.lock();
        state.turns == 0
            && state
                .last_activity
                .elapsed()
                .is_ok_and(|since| since >= idle)
    }

    pub(super) fn touch(&self) {
        self.lock().last_activity = SystemTime::now();
    }

    pub(super) fn delivered(&self) -> Seq {
        self.lock().delivered
    }

    pub(super) fn set_delivered(&self, seq: Seq) {
        let mut state = self.lock();
        state.delivered = state.delivered.max(seq);
    }

    /// Where this session's notifications go, if anywhere.
    fn recipient(&self, state: &State) -> Option<Recipient> {
        let own = state.meta.config.notify_url.as_ref().map(Secret::expose);
        self.notifier.recipient(&state.meta.id, own)
    }

    pub(super) fn stats(&self) -> Figures {
        let state = self.lock();
        Figures {
            created_at: state.meta.created_at(),
            last_activity: state.last_activity,
            cli_session: state.meta.cli_session.clone(),
            usage: state.meta.usage,
            total_cost_usd: state.meta.cost_usd + state.agent_cost,
            queued: state.queued.clone(),
        }
    }

    /// Learns from a message line: the CLI session it is in, and a turn's end and figures.
    fn read(state: &mut State, raw: &str, kind: &MessageKind<'_>, session: Option<&str>) {
        if let (MessageKind::System | MessageKind::Result, Some(id)) = (kind, session)
            && state.meta.cli_session.as_deref() != Some(id)
        {
            state.meta.cli_session = Some(id.to_owned());
            state.meta.fork_of = None;
            state.saved = false;
        }
        if let MessageKind::Other(other) = kind
            && other == "command_lifecycle"
            && let Ok(lifecycle) = serde_json::from_str::<Lifecycle>(raw)
        {
            state.queued.retain(|uuid| *uuid != lifecycle.command_uuid);
            if lifecycle.state == "queued" {
                state.queued.push(lifecycle.command_uuid);
            }
        }
        if *kind == MessageKind::Result {
            state.turns = state.turns.saturating_sub(1);
            if let Ok(figures) = serde_json::from_str::<ResultFigures>(raw) {
                if let Some(usage) = figures.usage {
                    let total = &mut state.meta.usage;
                    total.input_tokens += usage.input_tokens;
                    total.output_tokens += usage.output_tokens;
                    total.cache_creation_input_tokens += usage.cache_creation_input_tokens;
                    total.cache_read_input_tokens += usage.cache_read_input_tokens;
                }
                let before = state.agent_cost;
                state.agent_cost = figures.total_cost_usd.unwrap_or(before);
                // The CLI's cost counts from its start: the turn's is what it added.
                let cost = state.agent_cost - before;
                let took = figures.duration_ms.map(Duration::from_millis);
                metrics::turn_ended(took, figures.usage.as_ref(), cost);
            }
            state.saved = false;
        }
    }
}

impl State {
    /// Remembers a sent user message's `uuid`, forgetting the oldest past the bound.
    fn remember(&mut self, uuid: String, seq: Seq) {
        self.uuid_order.push_back(uuid.clone());
        self.uuids.insert(uuid, seq);
        if self.uuid_order.len() > REMEMBERED_UUIDS
            && let Some(old) = self.uuid_order.pop_front()
        {
            self.uuids.remove(&old);
        }
    }
}

/// The user messages among stored frames: their `uuid` and `seq`, so that a retry after a
/// restart is still known.
pub(super) fn sent_messages<'a>(frames: impl Iterator<Item = &'a str>) -> Vec<(String, Seq)> {
    const HEAD: &str = r#"{"type":"user_message","#;
    frames
        .filter(|frame| frame.starts_with(HEAD))
        .filter_map(|frame| match serde_json::from_str(frame).ok()? {
            ServerMessage::UserMessage { seq, data } => Some((data.uuid?, seq?)),
            _ => None,
        })
        .collect()
}

/// How an agent ended, and which messages it never got (by `uuid`), to send again.
fn undelivered_report(report: String, undelivered: &[String]) -> String {
    match undelivered {
        [] => report,
        uuids => format!(
            "{report}\n{} message(s) it never got were not sent: send them again ({}).",
            uuids.len(),
            uuids.join(", ")
        ),
    }
}

/// The CLI's request to run a tool.
const CAN_USE_TOOL: &str = "can_use_tool";

/// The frame saying `prompt` ended without an answer: the CLI is told no, if told anything.
fn resolved(
    prompt: PermissionRequest,
    by: Option<String>,
    reason: ResolvedReason,
) -> ServerMessage {
    ServerMessage::PermissionResolved {
        seq: None,
        data: PermissionResolved {
            request_id: prompt.request_id,
            behavior: PermissionBehavior::Deny,
            by,
            reason,
        },
    }
}

impl AgentSink for Core {
    fn accept(&self, events: &mut Vec<AgentEvent<'_>>) {
        if events.is_empty() {
            return;
        }
        // Sent once their frames are in the log.
        let mut letters: Vec<Letter> = Vec::new();
        self.log.append(|batch| {
            let mut state = self.lock();
            state.last_activity = SystemTime::now();
            for event in events.drain(..) {
                match event {
                    AgentEvent::Message { raw, head } => {
                        // Ahead of the turn's end, so that whoever stops reading there has it.
                        if let Some(hint) = no_key_hint(&head, raw) {
                            let frame = ServerMessage::error(hint);
                            batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
                        }
                        let retention = Retention::of(&head.kind);
                        let cost_before = state.agent_cost;
                        Self::read(&mut state, raw, &head.kind, head.session_id.as_deref());
                        let seq = batch.push(retention, |seq| {
                            ServerMessage::sdk_message_json(raw, Some(seq))
                        });
                        if head.kind == MessageKind::Result
                            && let Some(to) = self.recipient(&state)
                        {
                            let cost = state.agent_cost - cost_before;
                            let total = state.meta.cost_usd + state.agent_cost;
                            letters.push(to.turn_ended(raw, cost, total).at(seq));
                        }
                    }
                    AgentEvent::Request { request, answer } if request.subtype == CAN_USE_TOOL => {
                        match state.prompts.ask(request, answer) {
                            Ok(prompt) => {
                                let letter =
                                    self.recipient(&state).map(|to| to.needs_input(&prompt));
                                let frame = ServerMessage::PermissionRequest {
                                    seq: None,
                                    data: prompt,
                                };
                                let seq = batch
                                    .push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
                                letters.extend(letter.map(|letter| letter.at(seq)));
                            }
                            Err((answer, problem)) => {
                                tracing::warn!(%problem, "denying");
                                let id = answer.request_id().to_owned();
                                answer.send(ControlResponse::success(id, denied(&problem)));
                            }
                        }
                    }
                    AgentEvent::Request { request, answer } => {
                        tracing::debug!(subtype = %request.subtype, "refusing an agent request");
                        let id = answer.request_id().to_owned();
                        answer.send(ControlResponse::unsupported(id, &request.subtype));
                    }
                    AgentEvent::Cancelled { request_id } => {
                        if let Some(prompt) = state.prompts.withdraw(&request_id) {
                            let frame = resolved(prompt, None, ResolvedReason::Cancelled);
                            batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
                        }
                    }
                    AgentEvent::Stderr(line) => {
                        let frame = ServerMessage::info(line);
                        batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
                    }
                    AgentEvent::Notice(notice) => {
                        let frame = ServerMessage::info(notice.to_string());
                        batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
                    }
                    AgentEvent::Exited {
                        report,
                        expected,
                        undelivered,
                    } => {
                        state.turns = 0;
                        state.queued.clear();
                        for prompt in state.prompts.drain() {
                            let frame = resolved(prompt, None, ResolvedReason::Cancelled);
                            batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
                        }
                        // Forgotten, so that sending them again (the same `uuid`) delivers them.
                        for uuid in &undelivered {
                            state.uuids.remove(uuid);
                        }
                        if !expected || !undelivered.is_empty() {
                            state.exited |= !expected;
                            let frame =
                                ServerMessage::error(undelivered_report(report, &undelivered));
                            batch.push(Retention::Durable, |seq| frame.with_seq(seq).to_json());
                        }
                    }
                }
            }
        });
        for letter in letters {
            self.notifier.send(letter);
        }
        self.save();
        if !self.turn_running() {
            self.turns_ended.notify_waiters();
        }
    }

    fn ready(&self) -> Ready<'_> {
        Box::pin(self.log.ready())
    }
}
