//! A session's log on disk: segment files `frames-<first seq>.log` in the session's folder,
//! each frame as clients get it, one a line (NDJSON). Frames are written before any client can
//! read them, so what the server read from its agent survives the server being killed. A
//! segment is deleted once every frame in it has left the log, so the files stay within a
//! little more than what the log keeps, and nothing is ever rewritten.

use std::{
    collections::VecDeque,
    fs::{File, OpenOptions},
    io::{self, IoSlice, Write as _},
    path::{Path, PathBuf},
};

use bytes::Bytes;
use claude_agent_protocol::{MessageKind, Seq};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::log::Retention;

/// Frames per write: each is two slices (the frame, its newline), within Linux's IOV_MAX.
const FRAMES_PER_WRITE: usize = 512;

#[derive(Debug)]
pub(crate) struct Store {
    dir: PathBuf,
    /// Oldest first; the last is the one written to.
    segments: VecDeque<Segment>,
    file: Option<File>,
    /// A segment past this size is closed and a new one begun.
    segment_bytes: u64,
}

#[derive(Debug)]
struct Segment {
    path: PathBuf,
    /// The `seq` of its last frame.
    last: Seq,
    len: u64,
}

/// What a store held when it was opened.
#[derive(Debug, Default)]
pub(crate) struct Saved {
    /// Every frame up to this `seq` was dropped before.
    pub(crate) evicted: Seq,
    pub(crate) frames: Vec<SavedFrame>,
}

#[derive(Debug)]
pub(crate) struct SavedFrame {
    pub(crate) seq: Seq,
    pub(crate) retention: Retention,
    pub(crate) text: String,
}

impl Store {
    /// The store in the session folder `dir` (created if missing), and what it holds.
    pub(crate) fn open(dir: &Path, segment_bytes: u64) -> io::Result<(Self, Saved)> {
        std::fs::create_dir_all(dir)?;
        let mut paths: Vec<(Seq, PathBuf)> = std::fs::read_dir(dir)?
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_name()?.to_str()?;
                let first = name.strip_prefix("frames-")?.strip_suffix(".log")?;
                Some((first.parse().ok()?, path))
            })
            .collect();
        paths.sort();
        let mut saved = Saved::default();
        let mut segments = VecDeque::new();
        for (first, path) in paths {
            let text = std::fs::read(&path)?;
            if saved.frames.is_empty() {
                saved.evicted = first.saturating_sub(1);
            }
            read(&text, &mut saved.frames, &path);
            segments.push_back(Segment {
                path,
                last: saved.frames.last().map_or(first, |frame| frame.seq),
                len: text.len() as u64,
            });
        }
        let store = Self {
            dir: dir.to_owned(),
            segments,
            file: None,
            segment_bytes,
        };
        Ok((store, saved))
    }

    /// Appends frames `first..=last`, a line each, in few writes and no copy; then deletes the
    /// segments whose frames are all at or below `evicted`.
    pub(crate) fn append(
        &mut self,
        frames: &[Bytes],
        first: Seq,
        last: Seq,
        evicted: Seq,
    ) -> io::Result<()> {
        let full = self
            .segments
            .back()
            .is_none_or(|segment| segment.len >= self.segment_bytes);
        if full || self.file.is_none() {
            let path = match full {
                true => self.dir.join(format!("frames-{first}.log")),
                false => self
                    .segments
                    .back()
                    .expect("not full, so there is one")
                    .path
                    .clone(),
            };
            self.file = Some(OpenOptions::new().create(true).append(true).open(&path)?);
            if full {
                self.segments.push_back(Segment { path, last, len: 0 });
            }
        }
        let file = self.file.as_mut().expect("opened above");
        let mut written = 0;
        for chunk in frames.chunks(FRAMES_PER_WRITE) {
            let mut slices: Vec<IoSlice<'_>> = chunk
                .iter()
                .flat_map(|frame| [IoSlice::new(frame), IoSlice::new(b"\n")])
                .collect();
            let mut slices = &mut slices[..];
            while !slices.is_empty() {
                let wrote = file.write_vectored(slices)?;
                if wrote == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                written += wrote;
                IoSlice::advance_slices(&mut slices, wrote);
            }
        }
        let segment = self.segments.back_mut().expect("one is open");
        segment.len += written as u64;
        segment.last = last;
        while self.segments.len() > 1 && self.segments[0].last <= evicted {
            let segment = self.segments.pop_front().expect("more than one");
            std::fs::remove_file(&segment.path)?;
        }
        Ok(())
    }

    /// Syncs the segment written to, so that what it holds survives the machine too.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.as_ref().map_or(Ok(()), File::sync_data)
    }
}

/// What a stored frame says of itself: its number, and whether it is a token delta or ends a
/// message.
#[derive(Deserialize)]
struct Head<'a> {
    seq: Seq,
    /// An agent message (an object), or an `info` text.
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct DataHead<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<MessageKind<'a>>,
}

/// Reads the frames of one segment's `text` into `frames`. A last line cut short (the server
/// killed while writing it) and lines that do not read are skipped.
fn read(text: &[u8], frames: &mut Vec<SavedFrame>, path: &Path) {
    let complete = text
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    for line in text[..complete].split(|&b| b == b'\n') {
        let head = std::str::from_utf8(line)
            .ok()
            .and_then(|line| Some((line, serde_json::from_str::<Head<'_>>(line).ok()?)));
        match head {
            Some((line, head)) if frames.last().is_none_or(|last| last.seq < head.seq) => {
                let data = head
                    .data
                    .and_then(|data| serde_json::from_str(data.get()).ok());
                let kind = data.and_then(|data: DataHead<'_>| data.kind);
                frames.push(SavedFrame {
                    seq: head.seq,
                    retention: kind.as_ref().map_or(Retention::Durable, Retention::of),
                    text: line.to_owned(),
                });
            }
            _ if line.is_empty() => {}
            _ => tracing::warn!(path = %path.display(), "skipped a bad line in a session log"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(seqs: std::ops::RangeInclusive<Seq>) -> Vec<Bytes> {
        seqs.map(|seq| Bytes::from(format!(r#"{{"type":"info","seq":{seq},"data":"x y"}}"#)))
            .collect()
    }

    fn seqs(saved: &Saved) -> Vec<Seq> {
        saved.frames.iter().map(|frame| frame.seq).collect()
    }

    #[test]
    fn frames_read_back_as_written_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, saved) = Store::open(dir.path(), 1 << 20).unwrap();
        assert!(saved.frames.is_empty());
        let written = [
            r#"{"type":"info","seq":1,"data":"x y"}"#,
            r#"{"type":"sdk_message","seq":2,"data":{"type":"stream_event"}}"#,
            r#"{"type":"sdk_message","seq":3,"data":{"type":"assistant"}}"#,
        ]
        .map(|frame| Bytes::from_static(frame.as_bytes()));
        store.append(&written, 1, 3, 0).unwrap();
        store
            .append(&[Bytes::from_static(b"{\"seq\":4, \"torn")], 4, 4, 0)
            .unwrap();
        let (_, saved) = Store::open(dir.path(), 1 << 20).unwrap();
        let read: Vec<_> = saved
            .frames
            .iter()
            .map(|f| (f.seq, f.retention, f.text.as_str()))
            .collect();
        let retentions = [
            Retention::Durable,
            Retention::Ephemeral,
            Retention::Completes,
        ];
        let expected: Vec<_> = (1..=3)
            .zip(retentions)
            .zip(&written)
            .map(|((seq, retention), text)| (seq, retention, std::str::from_utf8(text).unwrap()))
            .collect();
        assert_eq!(read, expected);
        assert_eq!(saved.evicted, 0);
    }

    #[test]
    fn segments_roll_over_and_go_once_evicted() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = Store::open(dir.path(), 100).unwrap();
        store.append(&frames(1..=5), 1, 5, 0).unwrap();
        store.append(&frames(6..=10), 6, 10, 0).unwrap();
        store.append(&frames(11..=12), 11, 12, 0).unwrap();
        assert_eq!(store.segments.len(), 3);
        let (reopened, saved) = Store::open(dir.path(), 100).unwrap();
        assert_eq!(seqs(&saved), (1..=12).collect::<Vec<_>>());
        assert_eq!(reopened.segments.len(), 3);
        // Frames up to 7 are gone from the log: only the first segment is all gone.
        store.append(&frames(13..=13), 13, 13, 7).unwrap();
        let (_, saved) = Store::open(dir.path(), 100).unwrap();
        assert_eq!(saved.evicted, 5);
        assert_eq!(seqs(&saved), (6..=13).collect::<Vec<_>>());
    }
}
