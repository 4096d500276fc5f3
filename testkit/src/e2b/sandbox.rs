//! What runs in a sandbox: its envd, and for a server template the real `claude-agent-server`,
//! started as the template's start command starts it; for `never-ready`, nothing on its port.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use super::{
    envd::{ENVD_PORT, Envd},
    registry::Journal,
};
use crate::{PATIENCE, TestServer};

/// The template whose port never answers: for a client's readiness timeout.
pub const NEVER_READY: &str = "never-ready";

/// The port of the server in a sandbox: what the template's start command listens on.
pub const SERVER_PORT: u16 = 3000;

/// Where the template's start command has the server wait for its token, which the sandbox's
/// creator writes there through envd.
pub const TOKEN_FILE: &str = "/home/user/.claude-agent-server/token";

/// The server's workspace in the template.
pub const WORKSPACE: &str = "/home/user/agent-workspace";

/// The machine of a sandbox.
#[derive(Debug)]
pub(crate) struct Machine {
    /// `None` in a never-ready sandbox. Declared first, so that it goes before its files do.
    server: Option<Box<TestServer>>,
    envd: Envd,
    /// The sandbox's `/`: the template's `/home/user/…` is `<root>/home/user/…` here.
    _root: Arc<tempfile::TempDir>,
}

/// A sandbox could not be started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BootError {
    #[error("template '{0}' not found")]
    UnknownTemplate(String),
    #[error("cannot set the sandbox up: {0}")]
    Setup(#[from] std::io::Error),
    #[error("the sandbox's server did not start")]
    ServerFailed,
}

/// How sandboxes are started: the server and agent binaries, and which templates run them.
#[derive(Debug, Clone)]
pub(crate) struct Images {
    pub(crate) server: PathBuf,
    pub(crate) agent: PathBuf,
    pub(crate) templates: Vec<String>,
    /// `ANTHROPIC_BASE_URL` of the scripted Messages API every sandbox's agent talks to.
    pub(crate) messages_api: String,
}

/// How the sandbox's envd is reached: the `envdAccessToken` its create answers, and where its
/// requests are recorded.
#[derive(Debug)]
pub(crate) struct EnvdAccess {
    pub(crate) token: String,
    pub(crate) journal: Journal,
}

impl Machine {
    /// Boots `template`. Its server's environment is the template's alone: E2B resumes every
    /// sandbox from a snapshot taken with the server already running, so a create's `envVars`
    /// never reach it.
    pub(crate) async fn boot(
        images: &Images,
        template: &str,
        envd: EnvdAccess,
    ) -> Result<Self, BootError> {
        let serves = images.templates.iter().any(|name| name == template);
        if !serves && template != NEVER_READY {
            return Err(BootError::UnknownTemplate(template.to_owned()));
        }
        let root = Arc::new(tempfile::tempdir()?);
        let envd = Envd::start(Arc::clone(&root), envd.token, envd.journal).await?;
        let server = match serves {
            true => Some(Box::new(start_server(images, root.path()).await?)),
            false => None,
        };
        Ok(Self {
            server,
            envd,
            _root: root,
        })
    }

    /// Where the sandbox's `port` is served, if anything listens there.
    pub(crate) fn address(&self, port: u16) -> Option<String> {
        match port {
            SERVER_PORT => self.server.as_ref().map(|server| server.addr.clone()),
            ENVD_PORT => Some(self.envd.addr().to_string()),
            _ => None,
        }
    }

    /// Stops the server (SIGTERM, so that it ends its agent) and waits for it to exit.
    pub(crate) async fn stop(self) {
        if let Some(mut server) = self.server {
            if let Some(pid) = server.child.id() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid.cast_signed()),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            let _ = tokio::time::timeout(PATIENCE, server.child.wait()).await;
        }
    }
}

/// The server as the template's start command runs it, with an agent talking to the scripted
/// Messages API: waiting for its token in the sandbox's token file.
async fn start_server(images: &Images, root: &Path) -> Result<TestServer, BootError> {
    let sandboxed = |path: &str| root.join(path.trim_start_matches('/'));
    let workspace = sandboxed(WORKSPACE);
    std::fs::create_dir_all(&workspace)?;
    let home = tempfile::tempdir()?;
    // TestServer takes arguments as text; a temporary folder's path is.
    let token_file = sandboxed(TOKEN_FILE).to_string_lossy().into_owned();
    let workspace = workspace.to_string_lossy().into_owned();
    let Images {
        server,
        agent,
        messages_api,
        ..
    } = images.clone();
    // TestServer::start panics when the server does not start; in a task of its own, that is a
    // failed create instead of a dropped connection.
    tokio::spawn(async move {
        let env = [("ANTHROPIC_BASE_URL", messages_api.as_str())];
        let args = [
            "--token-file",
            token_file.as_str(),
            "--workspace",
            workspace.as_str(),
        ];
        TestServer::start_in(home, &server, &agent, &env, &args).await
    })
    .await
    .map_err(|_| BootError::ServerFailed)
}
