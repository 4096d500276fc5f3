//! Every sandbox the mock created, running or killed, with the requests it received, and the
//! timers that kill each when its timeout passes.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::{Duration, SystemTime},
};

use serde::Serialize;
use serde_json::Value;
use tokio::{sync::watch, task::AbortHandle};
use tokio_util::sync::CancellationToken;

use super::sandbox::Machine;

/// What the control plane tells of a sandbox.
#[derive(Debug, Clone)]
pub(crate) struct Info {
    pub(crate) id: String,
    pub(crate) template: String,
    /// What the create answered as `envdAccessToken`: what its envd requires.
    pub(crate) envd_access_token: String,
    pub(crate) started_at: SystemTime,
    pub(crate) end_at: SystemTime,
    /// The request's `metadata`, an object of strings (or `{}`).
    pub(crate) metadata: Value,
}

/// A sandbox as `GET /_mock/sandboxes` lists it, for tests.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxRecord {
    #[serde(rename = "sandboxID")]
    pub sandbox_id: String,
    #[serde(rename = "templateID")]
    pub template_id: String,
    pub state: SandboxState,
    #[serde(rename = "killedBy", skip_serializing_if = "Option::is_none")]
    pub killed_by: Option<KilledBy>,
    /// Every control-plane request about it, the create first, with its body as received.
    pub requests: Vec<RecordedCall>,
    /// Every request to its envd, in the order they were answered.
    pub envd: Vec<EnvdCall>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxState {
    Running,
    Killed,
}

/// What killed a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KilledBy {
    /// `DELETE /sandboxes/{sandboxID}`.
    Request,
    /// Its timeout passed.
    Timeout,
    /// The mock stopped.
    Shutdown,
}

/// A control-plane request: `body` is `null` when it had none.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedCall {
    pub method: String,
    pub path: String,
    pub body: Value,
}

/// A request to a sandbox's envd, its body left out and its headers named only: they carry
/// secrets (the file written may be the server's token; `X-Access-Token`).
#[derive(Debug, Clone, Serialize)]
pub struct EnvdCall {
    pub method: String,
    pub path: String,
    /// Its query, decoded: `path` and `username` of a `POST /files`.
    pub query: BTreeMap<String, String>,
    /// The names of the headers it came with, lowercase and sorted.
    pub headers: Vec<String>,
    /// What envd answered.
    pub status: u16,
}

/// Where a sandbox's envd records its requests: that sandbox's entry, while the mock runs.
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    registry: Weak<Registry>,
    id: String,
}

impl Journal {
    pub(crate) fn record(&self, call: EnvdCall) {
        if let Some(registry) = self.registry.upgrade() {
            registry.with_entry(&self.id, |entry| entry.envd.push(call));
            registry.changed();
        }
    }
}

/// Why a sandbox's port cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// No such sandbox runs.
    Sandbox,
    /// It runs, but nothing listens on the port.
    Port,
}

#[derive(Debug)]
enum Life {
    Running {
        machine: Machine,
        timer: AbortHandle,
        /// Cancelled when it is killed: its proxied connections end, as a VM's would.
        killed: CancellationToken,
    },
    Killed(KilledBy),
}

#[derive(Debug)]
struct Entry {
    info: Info,
    life: Life,
    requests: Vec<RecordedCall>,
    envd: Vec<EnvdCall>,
}

/// The sandboxes, in the order they were created.
#[derive(Debug)]
pub(crate) struct Registry {
    entries: Mutex<Vec<Entry>>,
    /// Bumped on every change, for tests to wait on.
    changes: watch::Sender<u64>,
}

impl Registry {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            entries: Mutex::default(),
            changes: watch::Sender::new(0),
        })
    }

    /// Adds a running sandbox, created by `create`, killed once `timeout` passes.
    pub(crate) fn insert(
        self: &Arc<Self>,
        info: Info,
        machine: Machine,
        create: RecordedCall,
        timeout: Duration,
    ) {
        let timer = self.timer(&info.id, timeout);
        self.entries().push(Entry {
            info,
            life: Life::Running {
                machine,
                timer,
                killed: CancellationToken::new(),
            },
            requests: vec![create],
            envd: Vec::new(),
        });
        self.changed();
    }

    /// Where the envd of the sandbox `id`, about to be inserted, records its requests.
    pub(crate) fn journal(self: &Arc<Self>, id: &str) -> Journal {
        Journal {
            registry: Arc::downgrade(self),
            id: id.to_owned(),
        }
    }

    /// Records `call` for the sandbox `id`, running or killed, if there is one.
    pub(crate) fn record(&self, id: &str, call: RecordedCall) {
        self.with_entry(id, |entry| entry.requests.push(call));
        self.changed();
    }

    /// The sandbox `id` while it runs.
    pub(crate) fn running(&self, id: &str) -> Option<Info> {
        self.running_all().into_iter().find(|info| info.id == id)
    }

    /// Every running sandbox, oldest first.
    pub(crate) fn running_all(&self) -> Vec<Info> {
        self.entries()
            .iter()
            .filter(|entry| matches!(entry.life, Life::Running { .. }))
            .map(|entry| entry.info.clone())
            .collect()
    }

    /// Where the running sandbox `id` serves `port`, and the token cancelled when it is killed.
    pub(crate) fn address(
        &self,
        id: &str,
        port: u16,
    ) -> Result<(String, CancellationToken), Closed> {
        self.with_entry(id, |entry| match &entry.life {
            Life::Running {
                machine, killed, ..
            } => machine
                .address(port)
                .map(|address| (address, killed.clone()))
                .ok_or(Closed::Port),
            Life::Killed(_) => Err(Closed::Sandbox),
        })
        .unwrap_or(Err(Closed::Sandbox))
    }

    /// Restarts the running sandbox `id`'s timeout from now; false if it does not run.
    pub(crate) fn set_timeout(self: &Arc<Self>, id: &str, timeout: Duration) -> bool {
        let timer = self.timer(id, timeout);
        let set = self
            .with_entry(id, |entry| match &mut entry.life {
                Life::Running { timer: old, .. } => {
                    old.abort();
                    *old = timer.clone();
                    entry.info.end_at = SystemTime::now() + timeout;
                    true
                }
                Life::Killed(_) => false,
            })
            .unwrap_or(false);
        if !set {
            timer.abort();
        }
        self.changed();
        set
    }

    /// Marks the running sandbox `id` killed by `by`; its machine, for the caller to stop.
    pub(crate) fn kill(&self, id: &str, by: KilledBy) -> Option<Machine> {
        let machine = self
            .with_entry(id, |entry| {
                match std::mem::replace(&mut entry.life, Life::Killed(by)) {
                    Life::Running {
                        machine,
                        timer,
                        killed,
                    } => {
                        timer.abort();
                        killed.cancel();
                        Some(machine)
                    }
                    // Killed already: keep what killed it first.
                    killed => {
                        entry.life = killed;
                        None
                    }
                }
            })
            .flatten();
        self.changed();
        machine
    }

    /// Kills every running sandbox; their machines.
    pub(crate) fn kill_all(&self, by: KilledBy) -> Vec<Machine> {
        let ids: Vec<String> = self.running_all().into_iter().map(|info| info.id).collect();
        ids.iter().filter_map(|id| self.kill(id, by)).collect()
    }

    pub(crate) fn records(&self) -> Vec<SandboxRecord> {
        self.entries()
            .iter()
            .map(|entry| {
                let (state, killed_by) = match entry.life {
                    Life::Running { .. } => (SandboxState::Running, None),
                    Life::Killed(by) => (SandboxState::Killed, Some(by)),
                };
                SandboxRecord {
                    sandbox_id: entry.info.id.clone(),
                    template_id: entry.info.template.clone(),
                    state,
                    killed_by,
                    requests: entry.requests.clone(),
                    envd: entry.envd.clone(),
                }
            })
            .collect()
    }

    /// Waits until `check` holds of the records; each change is an event.
    pub(crate) async fn wait_for(
        &self,
        check: impl Fn(&[SandboxRecord]) -> bool,
    ) -> Vec<SandboxRecord> {
        let mut changes = self.changes.subscribe();
        loop {
            let records = self.records();
            if check(&records) {
                return records;
            }
            // The sender lives in self, so the channel never closes.
            let _ = changes.changed().await;
        }
    }

    /// A task that kills the sandbox `id` once `timeout` passes, as E2B does.
    fn timer(self: &Arc<Self>, id: &str, timeout: Duration) -> AbortHandle {
        let registry = Arc::downgrade(self);
        let id = id.to_owned();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let machine = registry
                .upgrade()
                .and_then(|registry| registry.kill(&id, KilledBy::Timeout));
            // Killing aborts this very task at its next await: the machine stops in another.
            if let Some(machine) = machine {
                tokio::spawn(machine.stop());
            }
        })
        .abort_handle()
    }

    fn with_entry<R>(&self, id: &str, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        self.entries()
            .iter_mut()
            .find(|entry| entry.info.id == id)
            .map(f)
    }

    fn entries(&self) -> MutexGuard<'_, Vec<Entry>> {
        // A panic elsewhere cannot leave the list half-changed: every change is one statement.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }
}
