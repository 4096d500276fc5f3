//! A session's files, for its clients: read, written (atomically), listed, removed and watched,
//! within the folders the session's agent works in.

mod ops;
mod paths;
mod watch;

use std::{io, path::Path};

use thiserror::Error;

pub(crate) use ops::{list, read, remove, write};
pub(crate) use paths::Roots;
pub(crate) use watch::Watch;

/// How the API's own temp files end (`.<name>.<random><TEMP>`): watches leave them out, as
/// a client sees the file appear when it is renamed into place, not its making.
pub(crate) const TEMP: &str = ".claude-agent-write";

/// The largest file a client may write, as one request's body.
pub(crate) const MAX_WRITE: usize = 64 << 20;

#[derive(Debug, Error)]
pub(crate) enum FilesError {
    #[error("Bad path {path:?}: {reason}")]
    BadPath { path: String, reason: &'static str },
    #[error("{path} is outside the session's folders ({roots})")]
    Outside { path: String, roots: String },
    #[error("No file or folder {0}")]
    NotFound(String),
    #[error("{0} is a folder")]
    IsADirectory(String),
    #[error("{0} is not a folder")]
    NotADirectory(String),
    #[error("{0} is not UTF-8 text: read it with format=bytes")]
    NotText(String),
    #[error("The file is over the limit of {} MiB", MAX_WRITE >> 20)]
    TooLarge,
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("cannot watch {path}: {source}")]
    Watch { path: String, source: notify::Error },
}

impl FilesError {
    /// `error`, met at `path`, as what it means to a client.
    fn io(path: &Path, error: io::Error) -> Self {
        let path = path.display().to_string();
        match error.kind() {
            io::ErrorKind::NotFound => Self::NotFound(path),
            io::ErrorKind::IsADirectory => Self::IsADirectory(path),
            io::ErrorKind::NotADirectory => Self::NotADirectory(path),
            _ => Self::Io {
                path,
                source: error,
            },
        }
    }
}
