//! A session's log on disk: `frames.log` in the session's folder, one frame a line as
//! `<seq> <mark> <frame>`, appended before any client can read the frame, so what the server
//! read from its agent survives the server being killed. When it grows past what the log
//! keeps it is rewritten, starting with `evicted <seq>`.

use std::{
    fs::{File, OpenOptions},
    io::{self, Write as _},
    path::{Path, PathBuf},
};

use claude_agent_protocol::Seq;

use super::log::Retention;

const FILE: &str = "frames.log";

#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    file: File,
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
    /// The store in the session folder `dir`, created if missing.
    pub(crate) fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let len = file.metadata()?.len();
        Ok(Self { path, file, len })
    }

    /// Every frame in the file, in order. A last line cut short (the server killed while
    /// writing it) and lines that do not read are skipped.
    pub(crate) fn read(&self) -> io::Result<Saved> {
        let text = std::fs::read(&self.path)?;
        let mut saved = Saved::default();
        let complete = text
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        for line in text[..complete].split(|&b| b == b'\n') {
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            if let Some(evicted) = line.strip_prefix("evicted ") {
                saved.evicted = evicted.parse().unwrap_or(saved.evicted);
                continue;
            }
            let mut parts = line.splitn(3, ' ');
            let (Some(seq), Some(mark), Some(frame)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let retention = match mark {
                "e" => Retention::Ephemeral,
                "c" => Retention::Completes,
                _ => Retention::Durable,
            };
            match seq.parse::<Seq>() {
                Ok(seq) if saved.frames.last().is_none_or(|last| last.seq < seq) => {
                    saved.frames.push(SavedFrame {
                        seq,
                        retention,
                        text: frame.to_owned(),
                    });
                }
                _ => {
                    tracing::warn!(path = %self.path.display(), "skipped a bad line in a session log");
                }
            }
        }
        Ok(saved)
    }

    /// Adds the line of a frame to `out`.
    pub(crate) fn encode(out: &mut Vec<u8>, seq: Seq, retention: Retention, frame: &str) {
        let mark = match retention {
            Retention::Durable => 'd',
            Retention::Ephemeral => 'e',
            Retention::Completes => 'c',
        };
        let _ = writeln!(out, "{seq} {mark} {frame}");
    }

    /// Appends encoded lines, in one write.
    pub(crate) fn append(&mut self, lines: &[u8]) -> io::Result<()> {
        self.file.write_all(lines)?;
        self.len += lines.len() as u64;
        Ok(())
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Replaces the file with `kept` (seq, whether ephemeral, frame), atomically.
    pub(crate) fn rewrite<'a>(
        &mut self,
        evicted: Seq,
        kept: impl Iterator<Item = (Seq, bool, &'a [u8])>,
    ) -> io::Result<()> {
        let mut text = format!("evicted {evicted}\n").into_bytes();
        for (seq, ephemeral, frame) in kept {
            let retention = match ephemeral {
                true => Retention::Ephemeral,
                false => Retention::Durable,
            };
            Self::encode(&mut text, seq, retention, &String::from_utf8_lossy(frame));
        }
        let fresh = self.path.with_extension("new");
        std::fs::write(&fresh, &text)?;
        std::fs::rename(&fresh, &self.path)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.len = text.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_as_written_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut lines = Vec::new();
        Store::encode(&mut lines, 1, Retention::Durable, r#"{"a":"x y"}"#);
        Store::encode(&mut lines, 2, Retention::Ephemeral, "{}");
        store.append(&lines).unwrap();
        store.append(b"3 d {\"torn").unwrap();
        let saved = Store::open(dir.path()).unwrap().read().unwrap();
        let frames: Vec<_> = saved
            .frames
            .iter()
            .map(|f| (f.seq, f.retention, f.text.as_str()))
            .collect();
        assert_eq!(
            frames,
            [
                (1, Retention::Durable, r#"{"a":"x y"}"#),
                (2, Retention::Ephemeral, "{}")
            ]
        );
    }

    #[test]
    fn a_rewrite_keeps_only_what_is_given_and_says_what_went() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut lines = Vec::new();
        for seq in 1..=5 {
            Store::encode(&mut lines, seq, Retention::Durable, "{}");
        }
        store.append(&lines).unwrap();
        store
            .rewrite(3, [(4, false, &b"{}"[..]), (5, false, b"{}")].into_iter())
            .unwrap();
        store.append(b"6 d {}\n").unwrap();
        let saved = Store::open(dir.path()).unwrap().read().unwrap();
        assert_eq!(saved.evicted, 3);
        let seqs: Vec<_> = saved.frames.iter().map(|f| f.seq).collect();
        assert_eq!(seqs, [4, 5, 6]);
    }
}
