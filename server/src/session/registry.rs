//! Every session of the server, by id: those stored under the state folder, read back at
//! start, and those created since; the legacy one among them.

use std::{
    collections::HashMap,
    io,
    path::PathBuf,
    sync::{Arc, RwLock},
    time::Duration,
};

use claude_agent_protocol::{QueryConfig, SessionStatus};
use futures_util::future::join_all;
use tokio_util::sync::CancellationToken;

use super::{
    Session, SessionError, Settings, Surface,
    core::{Core, sent_messages},
    log::EventLog,
    meta::Meta,
    refused,
    store::Store,
};
use crate::metrics::Census;

/// Every status a session can be in, by its name in the API.
const STATUSES: [(SessionStatus, &str); 5] = [
    (SessionStatus::Starting, "starting"),
    (SessionStatus::Idle, "idle"),
    (SessionStatus::Running, "running"),
    (SessionStatus::Hibernated, "hibernated"),
    (SessionStatus::Exited, "exited"),
];

/// A session to create.
#[derive(Debug, Default)]
pub(crate) struct NewSession {
    pub(crate) config: QueryConfig,
    /// A CLI session whose conversation it goes on with.
    pub(crate) resume: Option<String>,
    /// With `resume`: a copy of that conversation under a new CLI session id.
    pub(crate) fork: bool,
}

#[derive(Debug)]
pub(crate) struct Sessions {
    settings: Arc<Settings>,
    sessions: RwLock<HashMap<String, Arc<Session>>>,
    legacy: Arc<Session>,
}

impl Sessions {
    /// The sessions stored in the state folder, and a legacy one if none of them is.
    pub(crate) fn load(settings: Arc<Settings>) -> io::Result<Self> {
        let folder = sessions_dir(&settings);
        std::fs::create_dir_all(&folder)?;
        let mut sessions = HashMap::new();
        let mut legacy = None;
        for entry in std::fs::read_dir(&folder)? {
            let dir = entry?.path();
            let loaded = Meta::load(&dir).and_then(|meta| {
                // Its files are where its id says, and nowhere else.
                if dir.file_name() != Some(meta.id.as_ref()) {
                    return Err(io::Error::other("its id is not its folder's name"));
                }
                open(&settings, meta)
            });
            match loaded {
                Ok(session) => {
                    let session = Arc::new(session);
                    if session.surface() == Surface::Legacy {
                        legacy = Some(session.clone());
                    }
                    sessions.insert(session.id().to_owned(), session);
                }
                Err(error) => {
                    tracing::warn!(%error, dir = %dir.display(), "skipped a stored session");
                }
            }
        }
        let legacy = match legacy {
            Some(legacy) => legacy,
            None => {
                let meta = Meta::new(new_id(), Surface::Legacy, QueryConfig::default());
                let legacy = Arc::new(open(&settings, meta)?);
                sessions.insert(legacy.id().to_owned(), legacy.clone());
                legacy
            }
        };
        tracing::info!(sessions = sessions.len(), "sessions loaded");
        Ok(Self {
            settings,
            sessions: RwLock::new(sessions),
            legacy,
        })
    }

    /// Creates a session and starts its agent.
    pub(crate) async fn create(&self, new: NewSession) -> Result<Arc<Session>, SessionError> {
        if let Some(reason) = refused(&new.config) {
            return Err(SessionError::Config(reason));
        }
        let mut meta = Meta::new(new_id(), Surface::V1, new.config);
        match new.fork {
            true => meta.fork_of = new.resume,
            false => meta.cli_session = new.resume,
        }
        let session = Arc::new(open(&self.settings, meta)?);
        self.write()
            .insert(session.id().to_owned(), session.clone());
        session.prewarm().await;
        Ok(session)
    }

    /// A new session on a copy of `source`'s conversation, with its config.
    pub(crate) async fn fork(&self, source: &Session) -> Result<Arc<Session>, SessionError> {
        let cli_session = source
            .core
            .stats()
            .cli_session
            .ok_or(SessionError::NothingToFork)?;
        self.create(NewSession {
            config: source.config(),
            resume: Some(cli_session),
            fork: true,
        })
        .await
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.read().get(id).cloned()
    }

    /// The session of the original's `/config` and `/ws`.
    pub(crate) fn legacy(&self) -> &Arc<Session> {
        &self.legacy
    }

    /// Every session, oldest first.
    pub(crate) fn list(&self) -> Vec<Arc<Session>> {
        let mut sessions: Vec<_> = self.read().values().cloned().collect();
        sessions.sort_by_key(|session| (session.core.stats().created_at, session.id.clone()));
        sessions
    }

    /// Ends a session's agent and forgets it, on disk too. `None` if there is no such session;
    /// the legacy session stays (`Some(false)`).
    pub(crate) async fn remove(&self, id: &str) -> Option<bool> {
        if id == self.legacy.id() {
            return Some(false);
        }
        let session = self.write().remove(id)?;
        session.shutdown().await;
        let dir = session_dir(&self.settings, id);
        if let Err(error) = std::fs::remove_dir_all(&dir) {
            tracing::warn!(%error, dir = %dir.display(), "could not remove a session's files");
        }
        Some(true)
    }

    /// Hibernates every session idle for `idle`.
    pub(crate) async fn hibernate_idle(&self, idle: Duration) {
        let sessions: Vec<_> = self.read().values().cloned().collect();
        join_all(sessions.iter().map(|s| s.hibernate_if_idle(idle))).await;
    }

    /// Denies the permission prompts that waited too long with no client attached.
    pub(crate) fn expire_prompts(&self) {
        for session in self.read().values() {
            session.expire_prompts();
        }
    }

    /// The sessions by status, their clients and their pending prompts, for `/metrics`.
    pub(crate) async fn census(&self) -> Census {
        let sessions: Vec<_> = self.read().values().cloned().collect();
        let mut census = Census {
            sessions: STATUSES.iter().map(|&(_, name)| (name, 0)).collect(),
            ..Census::default()
        };
        for session in sessions {
            let status = session.status().await;
            let at = STATUSES.iter().position(|&(of, _)| of == status);
            if let Some(at) = at {
                census.sessions[at].1 += 1;
            }
            census.clients += i64::from(session.clients());
            census.prompts_pending += session.prompts_pending() as i64;
        }
        census
    }

    /// Lets every running turn end by itself until `hurry`, then interrupts those still
    /// running; no agent starts meanwhile.
    pub(crate) async fn drain(&self, hurry: &CancellationToken) {
        let sessions: Vec<_> = self.read().values().cloned().collect();
        join_all(sessions.iter().map(|s| s.drain(hurry))).await;
    }

    /// Ends every agent, together, then waits for every session's log to be on disk.
    pub(crate) async fn shutdown(&self) {
        let sessions: Vec<_> = self.read().values().cloned().collect();
        join_all(sessions.iter().map(|s| s.shutdown())).await;
        join_all(sessions.iter().map(|s| s.core.log.flush())).await;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn sessions_dir(settings: &Settings) -> PathBuf {
    settings.state_dir.join("sessions")
}

fn session_dir(settings: &Settings, id: &str) -> PathBuf {
    sessions_dir(settings).join(id)
}

/// The session `meta` describes, with its log read back from its folder.
fn open(settings: &Arc<Settings>, meta: Meta) -> io::Result<Session> {
    let dir = session_dir(settings, &meta.id);
    // Four segments hold what the log keeps: the files stay within about 1.25 times it.
    let segment_bytes = (settings.history_bytes as u64 / 4).max(1 << 16);
    let (store, saved) = Store::open(&dir, segment_bytes)?;
    let sent = sent_messages(saved.frames.iter().map(|frame| frame.text.as_str()));
    let log = EventLog::restored(settings.history_bytes, store, saved);
    let core = Core::new(log, dir, meta, sent, settings.notifier.clone());
    core.save();
    Ok(Session::new(settings.clone(), core))
}
