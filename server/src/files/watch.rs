//! A folder's changes as they happen ([`notify`]: inotify on Linux), named as the e2b SDK's
//! `FilesystemEvent`s, which come from Go's fsnotify.

use std::path::Path;

use claude_agent_protocol::files::{FileEvent, FileEventType};
use notify::{
    Config, EventKind, RecommendedWatcher, RecursiveMode, Watcher,
    event::{CreateKind, ModifyKind, RenameMode},
};
use tokio::sync::mpsc;

use super::FilesError;

/// Changes waiting for a slow client; past them the watcher's thread waits, and the kernel
/// keeps the rest in its own queue.
const BACKLOG: usize = 256;

/// A watched folder; the watch ends when this drops.
#[derive(Debug)]
pub(crate) struct Watch {
    _watcher: RecommendedWatcher,
    changes: mpsc::Receiver<FileEvent>,
}

impl Watch {
    /// Watches the folder at `dir` (resolved and checked), and with `recursive` the folders in
    /// it, those made later too. Blocking: a recursive watch walks the tree.
    pub(crate) fn start(dir: &Path, recursive: bool) -> Result<Self, FilesError> {
        if !dir.metadata().map_err(|e| FilesError::io(dir, e))?.is_dir() {
            return Err(FilesError::NotADirectory(dir.display().to_string()));
        }
        let (sender, changes) = mpsc::channel(BACKLOG);
        let root = dir.to_owned();
        let mut sender = Some(sender);
        let handler = move |event: notify::Result<notify::Event>| {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    tracing::warn!(%error, dir = %root.display(), "a watch missed changes");
                    return;
                }
            };
            let mut changes = changes_in(&root, &event);
            if recursive {
                changes.extend(already_in_new_folders(&root, &event));
            }
            for change in changes {
                let delivered = match (&sender, change) {
                    (Some(sender), Change::Inside(change)) => sender.blocking_send(change).is_ok(),
                    // Dropping the sender ends the stream.
                    _ => false,
                };
                if !delivered {
                    sender = None;
                }
            }
        };
        let error = |source| FilesError::Watch {
            path: dir.display().to_string(),
            source,
        };
        // Not through links: they may lead out of the session's folders.
        let config = Config::default().with_follow_symlinks(false);
        let mut watcher = RecommendedWatcher::new(handler, config).map_err(error)?;
        let mode = match recursive {
            true => RecursiveMode::Recursive,
            false => RecursiveMode::NonRecursive,
        };
        watcher.watch(dir, mode).map_err(error)?;
        Ok(Self {
            _watcher: watcher,
            changes,
        })
    }

    /// The next change; `None` once the folder itself is gone (removed or moved away).
    pub(crate) async fn next(&mut self) -> Option<FileEvent> {
        self.changes.recv().await
    }
}

#[derive(Debug, PartialEq)]
enum Change {
    Inside(FileEvent),
    /// The watched folder itself went away.
    Gone,
}

/// What `event` tells a client watching `root`.
fn changes_in(root: &Path, event: &notify::Event) -> Vec<Change> {
    let Some(kind) = kind(event.kind) else {
        return Vec::new();
    };
    event
        .paths
        .iter()
        .filter_map(|path| {
            let name = path.strip_prefix(root).ok()?;
            if name.to_string_lossy().ends_with(super::TEMP) {
                return None;
            }
            if name.as_os_str().is_empty() {
                let gone = matches!(kind, FileEventType::Remove | FileEventType::Rename);
                return gone.then_some(Change::Gone);
            }
            Some(Change::Inside(FileEvent {
                kind,
                name: name.to_string_lossy().into_owned(),
                path: path.display().to_string(),
            }))
        })
        .collect()
}

/// What folders that `event` made or moved in already hold, as `create`s: inotify tells only of
/// what comes after a new folder's own watch is set, a moment after the folder is made.
fn already_in_new_folders(root: &Path, event: &notify::Event) -> Vec<Change> {
    let new = matches!(
        event.kind,
        EventKind::Create(CreateKind::Folder) | EventKind::Modify(ModifyKind::Name(RenameMode::To))
    );
    if !new {
        return Vec::new();
    }
    let mut folders: Vec<_> = event.paths.clone();
    let mut found = Vec::new();
    while let Some(folder) = folders.pop() {
        // Not through links, as the watch itself.
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(name) = path.strip_prefix(root) else {
                continue;
            };
            if name.to_string_lossy().ends_with(super::TEMP) {
                continue;
            }
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                folders.push(path.clone());
            }
            found.push(Change::Inside(FileEvent {
                kind: FileEventType::Create,
                name: name.to_string_lossy().into_owned(),
                path: path.display().to_string(),
            }));
        }
    }
    found
}

/// `kind` as fsnotify names it, or `None` for what it does not report (reads, opens, closes).
fn kind(kind: EventKind) -> Option<FileEventType> {
    Some(match kind {
        EventKind::Create(_) => FileEventType::Create,
        EventKind::Remove(_) => FileEventType::Remove,
        EventKind::Modify(ModifyKind::Metadata(_)) => FileEventType::Chmod,
        // fsnotify reports a rename as the old name's `rename` and the new name's `create`;
        // `Both` repeats the two that came before it.
        EventKind::Modify(ModifyKind::Name(RenameMode::To)) => FileEventType::Create,
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => return None,
        EventKind::Modify(ModifyKind::Name(_)) => FileEventType::Rename,
        EventKind::Modify(_) => FileEventType::Write,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => return None,
    })
}

#[cfg(test)]
mod tests {
    use notify::event::{AccessKind, CreateKind, DataChange, MetadataKind, RemoveKind};

    use super::*;

    fn event(kind: EventKind, paths: &[&str]) -> notify::Event {
        paths.iter().fold(notify::Event::new(kind), |event, path| {
            event.add_path(path.into())
        })
    }

    fn inside(kind: FileEventType, name: &str) -> Change {
        Change::Inside(FileEvent {
            kind,
            name: name.to_owned(),
            path: format!("/ws/{name}"),
        })
    }

    #[test]
    fn events_are_named_as_fsnotify_names_them() {
        let root = Path::new("/ws");
        let cases = [
            (EventKind::Create(CreateKind::File), FileEventType::Create),
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                FileEventType::Write,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
                FileEventType::Chmod,
            ),
            (EventKind::Remove(RemoveKind::File), FileEventType::Remove),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                FileEventType::Rename,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                FileEventType::Create,
            ),
        ];
        for (kind, expected) in cases {
            assert_eq!(
                changes_in(root, &event(kind, &["/ws/sub/a.txt"])),
                [inside(expected, "sub/a.txt")],
                "{kind:?}"
            );
        }
        for ignored in [
            EventKind::Access(AccessKind::Any),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            EventKind::Other,
        ] {
            let paths = ["/ws/a", "/ws/b"];
            assert_eq!(changes_in(root, &event(ignored, &paths)), [], "{ignored:?}");
        }
    }

    #[test]
    fn the_folder_going_away_ends_the_watch() {
        let root = Path::new("/ws");
        let removed = event(EventKind::Remove(RemoveKind::Folder), &["/ws"]);
        assert_eq!(changes_in(root, &removed), [Change::Gone]);
        let moved = event(
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            &["/ws"],
        );
        assert_eq!(changes_in(root, &moved), [Change::Gone]);
        let touched = event(
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
            &["/ws"],
        );
        assert_eq!(changes_in(root, &touched), []);
    }
}
