//! What the files API does to files and folders, at paths already resolved and checked
//! ([`super::Roots`]). Blocking: run off the async threads.

use std::{
    fs::{self, File, Metadata, Permissions},
    io::{self, Read, Seek, Write},
    os::unix::fs::PermissionsExt,
    path::Path,
};

use claude_agent_protocol::files::{EntryInfo, EntryType};

use super::FilesError;

/// The file at `path`, opened for reading from its start; with `text`, only if it is UTF-8.
pub(crate) fn read(path: &Path, text: bool) -> Result<File, FilesError> {
    let error = |e| FilesError::io(path, e);
    let mut file = File::open(path).map_err(error)?;
    // Opening a folder works; reading it would not.
    if file.metadata().map_err(error)?.is_dir() {
        return Err(FilesError::IsADirectory(path.display().to_string()));
    }
    if text {
        // Checked as it streams by, so that a large file is never all in memory; the answer
        // then streams from the same open file.
        if !is_utf8(&mut file).map_err(error)? {
            return Err(FilesError::NotText(path.display().to_string()));
        }
        file.rewind().map_err(error)?;
    }
    Ok(file)
}

/// Replaces the file at `path` with `content` (creating the folders it is in) in one step:
/// readers see the old content or the new, never part of it.
pub(crate) fn write(path: &Path, content: &[u8]) -> Result<EntryInfo, FilesError> {
    let error = |e| FilesError::io(path, e);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(FilesError::IsADirectory(path.display().to_string()));
    };
    fs::create_dir_all(parent).map_err(|e| FilesError::io(parent, e))?;
    // Beside the file, so the rename stays on one file system; removed if anything fails.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(super::TEMP)
        // As a file created by `open` would be (the umask applies), not the temp file's 0600.
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(parent)
        .map_err(|e| FilesError::io(parent, e))?;
    if let Ok(old) = fs::metadata(path) {
        temp.as_file()
            .set_permissions(old.permissions())
            .map_err(error)?;
    }
    temp.write_all(content).map_err(error)?;
    // On disk before the rename, or a crash could leave the name on an empty file.
    temp.as_file().sync_all().map_err(error)?;
    temp.persist(path).map_err(|e| error(e.error))?;
    entry(path)
}

/// The entries of the folder at `path`, sorted by name.
pub(crate) fn list(path: &Path) -> Result<Vec<EntryInfo>, FilesError> {
    let error = |e| FilesError::io(path, e);
    let mut entries = Vec::new();
    for dir_entry in fs::read_dir(path).map_err(error)? {
        match entry(&dir_entry.map_err(error)?.path()) {
            Ok(entry) => entries.push(entry),
            // Removed since the folder was read.
            Err(FilesError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Removes the file, link or folder (with what it holds) at `path`.
pub(crate) fn remove(path: &Path) -> Result<(), FilesError> {
    let error = |e| FilesError::io(path, e);
    match fs::symlink_metadata(path).map_err(error)?.is_dir() {
        true => fs::remove_dir_all(path),
        false => fs::remove_file(path),
    }
    .map_err(error)
}

/// What is at `path`: what a link leads to, or the link itself if it leads nowhere.
fn entry(path: &Path) -> Result<EntryInfo, FilesError> {
    let metadata = fs::metadata(path)
        .or_else(|_| fs::symlink_metadata(path))
        .map_err(|e| FilesError::io(path, e))?;
    Ok(EntryInfo {
        name: path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        path: path.display().to_string(),
        kind: match metadata.is_dir() {
            true => EntryType::Dir,
            false => EntryType::File,
        },
        size: metadata.len(),
        modified: modified(&metadata),
    })
}

fn modified(metadata: &Metadata) -> String {
    let time = metadata.modified().unwrap_or(std::time::UNIX_EPOCH);
    humantime::format_rfc3339_millis(time).to_string()
}

/// Whether what `reader` reads is UTF-8, read through once in blocks.
fn is_utf8(reader: &mut impl Read) -> io::Result<bool> {
    let mut buffer = vec![0; 64 << 10];
    // The start of a character cut by the end of the last block, moved to the front.
    let mut carried = 0;
    loop {
        let read = reader.read(&mut buffer[carried..])?;
        if read == 0 {
            return Ok(carried == 0);
        }
        let filled = carried + read;
        carried = match std::str::from_utf8(&buffer[..filled]) {
            Ok(_) => 0,
            // An incomplete character at the end: the next block may complete it.
            Err(error) if error.error_len().is_none() => {
                buffer.copy_within(error.valid_up_to()..filled, 0);
                filled - error.valid_up_to()
            }
            Err(_) => return Ok(false),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `bytes` in blocks of `size` bytes, as a file read in pieces would arrive.
    struct Blocks<'a>(&'a [u8], usize);

    impl Read for Blocks<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buffer.len()).min(self.0.len());
            buffer[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn utf8_is_checked_across_blocks() {
        let text = "héllo wörld ✓ 🦀".repeat(10);
        for size in [1, 2, 3, 5, 64 << 10] {
            assert!(
                is_utf8(&mut Blocks(text.as_bytes(), size)).unwrap(),
                "{size}"
            );
            let mut cut = text.as_bytes().to_vec();
            cut.pop(); // the crab's last byte
            assert!(!is_utf8(&mut Blocks(&cut, size)).unwrap(), "{size}");
            let mut bad = text.as_bytes().to_vec();
            bad[3] = 0xff;
            assert!(!is_utf8(&mut Blocks(&bad, size)).unwrap(), "{size}");
        }
    }
}
