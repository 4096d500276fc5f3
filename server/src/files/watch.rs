//! A folder's changes as they happen ([`notify`]: inotify on Linux), named as the e2b SDK's
//! `FilesystemEvent`s, which come from Go's fsnotify.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, Weak, mpsc::Receiver},
};

use claude_agent_protocol::files::{FileEvent, FileEventType};
use notify::{
    Config, EventKind, RecommendedWatcher, RecursiveMode, Watcher,
    event::{CreateKind, ModifyKind, RenameMode},
};
use tokio::sync::mpsc;

use super::FilesError;
use crate::lock::lock;

/// Changes waiting for a slow client; past them the watcher's thread waits, and the kernel
/// keeps the rest in its own queue.
const BACKLOG: usize = 256;

/// A watched folder; the watch ends when this drops.
#[derive(Debug)]
pub(crate) struct Watch {
    _watcher: Arc<Mutex<RecommendedWatcher>>,
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
        let (made, folders_made) = std::sync::mpsc::channel();
        let catching_up = (sender.clone(), folders_made);
        let root = dir.to_owned();
        let mut sender = Some((sender, made));
        let handler = move |event: notify::Result<notify::Event>| {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    tracing::warn!(%error, dir = %root.display(), "a watch missed changes");
                    return;
                }
            };
            for change in changes_in(&root, &event) {
                let delivered = match (&sender, change) {
                    (Some((sender, _)), Change::Inside(change)) => {
                        sender.blocking_send(change).is_ok()
                    }
                    // Dropping the senders (the catching up's too) ends the stream.
                    _ => false,
                };
                if !delivered {
                    sender = None;
                }
            }
            if let (true, Some((_, made))) = (recursive, &sender) {
                for folder in new_folders(&event) {
                    let _ = made.send(folder);
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
        let watcher = Arc::new(Mutex::new(watcher));
        if recursive {
            let (watcher, root) = (Arc::downgrade(&watcher), dir.to_owned());
            std::thread::spawn(move || catch_up(&watcher, &root, catching_up));
        }
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

/// The folders that `event` made or moved in, whose contents inotify tells of only from when
/// their own watch is set: by the watcher's thread, after it hands the event over.
fn new_folders(event: &notify::Event) -> Vec<PathBuf> {
    let new = matches!(
        event.kind,
        EventKind::Create(CreateKind::Folder) | EventKind::Modify(ModifyKind::Name(RenameMode::To))
    );
    match new {
        true => event
            .paths
            .iter()
            .filter(|path| path.is_dir())
            .cloned()
            .collect(),
        false => Vec::new(),
    }
}

/// Reports as created what each new folder holds once its watch is surely set (setting it
/// again waits for the watcher's thread), so that nothing made with it is missed; what came in
/// between may be reported twice. Ends with the watch.
fn catch_up(
    watcher: &Weak<Mutex<RecommendedWatcher>>,
    root: &Path,
    (sender, new_folders): (mpsc::Sender<FileEvent>, Receiver<PathBuf>),
) {
    for folder in new_folders {
        let Some(watcher) = watcher.upgrade() else {
            return;
        };
        let set = lock(&watcher).watch(&folder, RecursiveMode::Recursive);
        drop(watcher);
        if set.is_err() {
            continue; // gone already
        }
        for created in contents(root, &folder) {
            if sender.blocking_send(created).is_err() {
                return;
            }
        }
    }
}

/// What `folder` holds, below it too (not through links, as the watch), as `create`s.
fn contents(root: &Path, folder: &Path) -> Vec<FileEvent> {
    let mut folders = vec![folder.to_owned()];
    let mut found = Vec::new();
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(name) = path.strip_prefix(root) else {
                continue;
            };
            let name = name.to_string_lossy().into_owned();
            if name.ends_with(super::TEMP) {
                continue;
            }
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                folders.push(path.clone());
            }
            found.push(FileEvent {
                kind: FileEventType::Create,
                name,
                path: path.display().to_string(),
            });
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
