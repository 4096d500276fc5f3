//! A session: one agent process (started, restarted and resumed as needed) and the ordered log
//! of everything it emitted. Connections attach to a session; they come and go, it stays.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use claude_agent_protocol::{SdkUserMessage, ServerMessage, ToAgent, agent::ServerRequest};
use thiserror::Error;

use crate::{
    agent::{Agent, AgentError, LaunchSpec},
    config_store::ConfigStore,
    event_log::{EventLog, Reader},
};

/// What every agent of the server is started with.
#[derive(Debug)]
pub(crate) struct AgentSettings {
    pub(crate) program: PathBuf,
    pub(crate) workspace: PathBuf,
    pub(crate) config: Arc<ConfigStore>,
}

#[derive(Debug, Error)]
pub(crate) enum SessionError {
    /// The original's wording, which its clients may match.
    #[error("Server already has an active connection")]
    Busy,
    #[error(transparent)]
    Agent(#[from] AgentError),
}

#[derive(Debug)]
pub(crate) struct Session {
    id: String,
    log: Arc<EventLog>,
    settings: Arc<AgentSettings>,
    /// The current agent, if one was started; held across a start so only one starts.
    agent: tokio::sync::Mutex<Option<Agent>>,
    /// Set by shutdown, under the `agent` lock: no agent starts after it.
    closed: AtomicBool,
}

impl Session {
    pub(crate) fn new(settings: Arc<AgentSettings>, log_bytes: usize) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            log: Arc::new(EventLog::new(log_bytes)),
            settings,
            agent: tokio::sync::Mutex::default(),
            closed: AtomicBool::new(false),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Attaches a connection, which then reads the log from the first frame no connection has
    /// had. One at a time, as the original.
    pub(crate) fn attach(&self) -> Result<Reader<'_>, SessionError> {
        self.log.attach().ok_or(SessionError::Busy)
    }

    /// Starts the agent if none ever ran: the original starts it on the first connection.
    pub(crate) async fn start(&self) -> Result<(), SessionError> {
        let mut agent = self.agent.lock().await;
        if agent.is_none() && !self.closed.load(Ordering::SeqCst) {
            *agent = Some(self.spawn(None).await?);
        }
        Ok(())
    }

    /// Sends a user turn, starting a new agent that resumes the conversation if the last one
    /// died.
    pub(crate) async fn send_user(&self, message: SdkUserMessage) -> Result<(), SessionError> {
        let line = ToAgent::User(message);
        let agent = self.running_agent(None).await?;
        match agent.send(&line).await {
            // It died just now: once more with its successor.
            Err(AgentError::Gone) => {
                Ok(self.running_agent(Some(&agent)).await?.send(&line).await?)
            }
            sent => Ok(sent?),
        }
    }

    /// The running agent, started (resuming the last one's conversation) if there is none or
    /// if it is `dead`. The lock is held only to choose or start it, never while writing to it.
    async fn running_agent(&self, dead: Option<&Agent>) -> Result<Agent, AgentError> {
        let mut slot = self.agent.lock().await;
        match slot.as_ref() {
            Some(agent) if agent.is_running() && dead.is_none_or(|dead| !dead.same(agent)) => {
                Ok(agent.clone())
            }
            _ if self.closed.load(Ordering::SeqCst) => Err(AgentError::Gone),
            last => {
                let resume = last.and_then(Agent::session_id);
                Ok(slot.insert(self.spawn(resume).await?).clone())
            }
        }
    }

    /// Interrupts the running turn; without a running agent there is nothing to interrupt.
    pub(crate) async fn interrupt(&self) -> Result<(), SessionError> {
        let agent = self.agent.lock().await.clone().filter(Agent::is_running);
        match agent {
            Some(agent) => Ok(agent.request(ServerRequest::Interrupt).await?),
            None => Err(AgentError::Gone.into()),
        }
    }

    /// Ends the agent, if any, gracefully; no other starts after it.
    pub(crate) async fn shutdown(&self) {
        let agent = {
            let mut slot = self.agent.lock().await;
            self.closed.store(true, Ordering::SeqCst);
            slot.take()
        };
        if let Some(agent) = agent {
            agent.shutdown().await;
        }
    }

    async fn spawn(&self, resume: Option<String>) -> Result<Agent, AgentError> {
        let settings = &self.settings;
        let config = settings.config.current();
        let spec = LaunchSpec::new(
            &settings.program,
            &config,
            &settings.workspace,
            resume.as_deref(),
        );
        let agent = Agent::spawn(&spec, self.log.clone()).await?;
        let notice = match resume {
            Some(id) => format!(
                "Claude Code restarted (pid {}), resuming session {id}",
                agent.pid()
            ),
            None => format!("Claude Code started (pid {})", agent.pid()),
        };
        self.log.append_message(&ServerMessage::info(notice)).await;
        Ok(agent)
    }
}
