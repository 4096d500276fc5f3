//! The files API's bodies: entries of a session's folders (`/v1/sessions/{id}/files`,
//! `…/files/list`) and the changes its watch streams (`…/files/watch`), shaped as the e2b SDK's
//! `EntryInfo` and `FilesystemEvent` that the original's client hands out.

use serde::{Deserialize, Serialize};

/// What an entry is. A link counts as what it leads to.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryType {
    File,
    Dir,
}

/// A file or folder: the answer of a write, and each entry of a list.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryInfo {
    /// Its last component (`a.txt`).
    pub name: String,
    /// Absolute, links resolved.
    pub path: String,
    #[serde(rename = "type")]
    pub kind: EntryType,
    /// In bytes.
    pub size: u64,
    /// When its content last changed (RFC 3339).
    pub modified: String,
}

/// `GET …/files/list`: a folder's entries, sorted by name.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryList {
    pub entries: Vec<EntryInfo>,
}

/// What changed, as the e2b SDK's `FilesystemEventType` names it. As there, a rename is a
/// `rename` of the old name and a `create` of the new one.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileEventType {
    Create,
    Write,
    Remove,
    Rename,
    Chmod,
}

/// One change in a watched folder: each data line of `GET …/files/watch`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEvent {
    #[serde(rename = "type")]
    pub kind: FileEventType,
    /// Relative to the watched folder (`sub/a.txt` in a recursive watch).
    pub name: String,
    /// Absolute.
    pub path: String,
}
