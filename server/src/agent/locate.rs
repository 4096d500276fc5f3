//! Finding the `claude` executable: `--claude-path`, else `claude` on PATH, else the pinned npm
//! install of the checkout the server runs from.

use std::{
    env,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use thiserror::Error;

use crate::home::Home;

#[derive(Debug, Error)]
pub enum LocateError {
    #[error("--claude-path {0}: no executable file there")]
    NotExecutable(PathBuf),
    #[error(
        "the Claude Code CLI was not found: pass --claude-path (or CLAUDE_PATH), put `claude` on \
         PATH, or install the pinned version with `npm ci --prefix claude-code` in the \
         claude-agent-server repository"
    )]
    NotFound,
}

/// The CLI to run.
pub(crate) fn locate(explicit: Option<&Path>, home: &Home) -> Result<PathBuf, LocateError> {
    if let Some(path) = explicit {
        return if is_executable(path) {
            Ok(path.to_owned())
        } else {
            Err(LocateError::NotExecutable(path.to_owned()))
        };
    }
    let on_path = env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("claude"))
        .find(|candidate| is_executable(candidate));
    on_path
        .or_else(|| home.pinned_claude().filter(|pinned| is_executable(pinned)))
        .ok_or(LocateError::NotFound)
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
