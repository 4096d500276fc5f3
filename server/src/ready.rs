//! Readiness (`/readyz`): whether the server can run sessions now. It is not while it drains,
//! while it waits for its token file, while the workspace or the state folder cannot be
//! written to, or while the CLI does not run. Probes ask without a token, so a refusal names
//! the failed check by one word: no path, no version.

use std::{
    io,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use thiserror::Error;
use tokio::{process::Command, sync::Mutex};

use crate::auth::Auth;

/// How long `claude --version` may take (a cold Node start on a busy machine).
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);
/// A CLI that failed is tried again at most this often, however often probes ask.
const RECHECK: Duration = Duration::from_secs(2);

/// Why the server is not ready: the word `/readyz` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub(crate) enum NotReady {
    #[error("draining")]
    Draining,
    #[error("token_pending")]
    TokenPending,
    #[error("workspace_unwritable")]
    Workspace,
    #[error("state_unwritable")]
    State,
    #[error("cli_unavailable")]
    Cli,
}

/// What `claude --version` last did.
#[derive(Debug, Clone, Copy)]
enum Cli {
    Unchecked,
    /// It ran: it is not run again.
    Runs,
    /// It failed then: it is run again after [`RECHECK`].
    Failed(Instant),
}

#[derive(Debug)]
pub(crate) struct Readiness {
    program: PathBuf,
    workspace: PathBuf,
    state_dir: PathBuf,
    auth: Arc<Auth>,
    draining: AtomicBool,
    /// Held while the CLI runs `--version`: probes meanwhile wait for its answer.
    cli: Mutex<Cli>,
}

impl Readiness {
    pub(crate) fn new(program: &Path, workspace: &Path, state_dir: &Path, auth: Arc<Auth>) -> Self {
        Self {
            program: program.to_owned(),
            workspace: workspace.to_owned(),
            state_dir: state_dir.to_owned(),
            auth,
            draining: AtomicBool::new(false),
            cli: Mutex::new(Cli::Unchecked),
        }
    }

    /// Ready, or the first reason not to be.
    pub(crate) async fn check(&self) -> Result<(), NotReady> {
        if self.draining.load(Ordering::SeqCst) {
            return Err(NotReady::Draining);
        }
        if self.auth.pending() {
            return Err(NotReady::TokenPending);
        }
        writable(&self.workspace).map_err(|_| NotReady::Workspace)?;
        writable(&self.state_dir).map_err(|_| NotReady::State)?;
        match self.cli_runs().await {
            true => Ok(()),
            false => Err(NotReady::Cli),
        }
    }

    /// Not ready from now on: the server is stopping.
    pub(crate) fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether the CLI runs `--version`: once it has, it is taken to; until then it is tried
    /// again, at most every [`RECHECK`].
    pub(crate) async fn cli_runs(&self) -> bool {
        let mut cli = self.cli.lock().await;
        match *cli {
            Cli::Runs => return true,
            Cli::Failed(at) if at.elapsed() < RECHECK => return false,
            Cli::Unchecked | Cli::Failed(_) => {}
        }
        match version(&self.program).await {
            Ok(()) => *cli = Cli::Runs,
            Err(error) => {
                // Said once: a probe every few seconds would repeat it.
                if matches!(*cli, Cli::Unchecked) {
                    let program = self.program.display();
                    tracing::warn!(%program, %error, "not ready: the CLI does not run");
                }
                *cli = Cli::Failed(Instant::now());
            }
        }
        matches!(*cli, Cli::Runs)
    }
}

/// Runs `program --version`.
async fn version(program: &Path) -> io::Result<()> {
    let status = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(VERSION_TIMEOUT, status)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "--version did not end in time"))??;
    match status.success() {
        true => Ok(()),
        false => Err(io::Error::other(format!("--version {status}"))),
    }
}

/// Whether a file can be made in `dir`: one with no name, gone when closed.
fn writable(dir: &Path) -> io::Result<()> {
    tempfile::tempfile_in(dir).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{auth::Access, origins::Origins};

    /// With `cli` as the CLI, and `dir` as the workspace and the state folder.
    fn readiness(dir: &Path, cli: &str) -> Readiness {
        let auth = Arc::new(Auth::new(&Access::Open, Arc::new(Origins::new(&[]))));
        Readiness::new(Path::new(cli), dir, dir, auth)
    }

    #[tokio::test]
    async fn ready_until_draining() {
        let dir = tempfile::tempdir().unwrap();
        let readiness = readiness(dir.path(), "/bin/true");
        assert_eq!(readiness.check().await, Ok(()));
        readiness.drain();
        assert_eq!(readiness.check().await, Err(NotReady::Draining));
    }

    #[tokio::test]
    async fn a_cli_that_fails_is_not_ready_nor_run_again_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut readiness = readiness(dir.path(), "/bin/false");
        assert_eq!(readiness.check().await, Err(NotReady::Cli));
        // Fixed, it is not run again before RECHECK: the answer stays, cheaply.
        readiness.program = PathBuf::from("/bin/true");
        assert_eq!(readiness.check().await, Err(NotReady::Cli));
    }

    #[tokio::test]
    async fn a_workspace_gone_is_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("workspace");
        std::fs::create_dir(&workspace).unwrap();
        let mut readiness = readiness(dir.path(), "/bin/true");
        readiness.workspace = workspace.clone();
        assert_eq!(readiness.check().await, Ok(()));
        std::fs::remove_dir(&workspace).unwrap();
        assert_eq!(readiness.check().await, Err(NotReady::Workspace));
    }
}
