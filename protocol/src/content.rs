//! The Messages API's user content blocks, checked against their shapes before they may reach
//! the CLI. The CLI keeps every message in its transcript and sends it to the API again on every
//! turn (across restarts and `--resume`), so a block the API refuses would fail every later turn.
//!
//! A block is read by its `type` into its typed shape ([`Block`]), tag first, so that an error
//! names the field; what the server forwards is still the block's own JSON ([`ContentBlock`]).
//! The shapes are those the API takes without beta headers, as the CLI calls it: no `file`
//! sources (the Files API is a beta the CLI does not ask for), and no `cache_control` (the CLI
//! places its own breakpoints, the API takes four per request, and a message keeps its own in
//! the transcript, so a client's would add up until every request is refused), no `url`
//! sources (a URL the API cannot fetch would fail every later turn), and base64 data must be
//! what its media type says. Unknown fields are refused: the API refuses them too.
//!
//! [`ContentBlock`]: crate::user_message::ContentBlock

mod data;
mod read;
mod shapes;

use thiserror::Error;

pub use read::{ObjectOf, TextOr};
pub use shapes::*;

/// The deepest a user message (`user_message.data`) may nest arrays and objects. Deeper input
/// broke later turns of the CLI; this keeps well inside serde_json's own limit (128).
pub const MAX_DEPTH: usize = 32;

/// The most content blocks a user message may hold, counting those inside tool results,
/// documents and search results.
pub const MAX_BLOCKS: usize = 100;

/// Levels above a block in a user message: `data`, its `message`, the `content` array.
const BLOCK_LEVEL: usize = 3;

/// Why a content block was refused; the `Display` text is what the client reads, after the
/// block's path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContentError {
    #[error("expected {} object, found {found}", a(.what))]
    NotAnObject {
        what: &'static str,
        found: &'static str,
    },
    #[error("{} needs a string `type`", a(.what))]
    NoType { what: &'static str },
    #[error("unknown {what} type `{found}`, expected {}", one_of(.expected))]
    UnknownType {
        what: &'static str,
        found: String,
        expected: &'static [&'static str],
    },
    /// A field of a shape is missing or wrong: `block` is the block's `type` (empty for a
    /// source or citation), `path` the field within it.
    #[error("{}", field(.block, .path, .problem))]
    Field {
        block: &'static str,
        path: String,
        problem: String,
    },
    #[error("{} of type `{found}` is not accepted: {why}", a(.what))]
    Refused {
        what: &'static str,
        found: String,
        why: &'static str,
    },
    #[error(
        "nested more than {MAX_DEPTH} levels deep: a user message may nest arrays and objects {MAX_DEPTH} levels at most"
    )]
    TooDeep,
    #[error(
        "more than {MAX_BLOCKS} content blocks, counting those in tool results, documents and search results"
    )]
    TooManyBlocks,
}

/// "a content block", "an image source".
fn a(what: &str) -> String {
    let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {what}")
}

/// serde's words for a choice: "`a`", "`a` or `b`", "one of `a`, `b`, `c`".
pub(crate) fn one_of(names: &[impl AsRef<str>]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [first, second] => format!("{first} or {second}"),
        _ => format!("one of {}", quoted.join(", ")),
    }
}

fn field(block: &str, path: &str, problem: &str) -> String {
    let mut text = String::new();
    if !block.is_empty() {
        text = format!("{block} block: ");
    }
    if !path.is_empty() {
        text = format!("{text}{path}: ");
    }
    text + problem
}

/// Checks the JSON of one block of a user message's content: its nesting, then its shape.
/// Returns how many blocks it holds, itself included.
pub(crate) fn check_block(json: &str) -> Result<usize, ContentError> {
    check_depth(json, MAX_DEPTH - BLOCK_LEVEL)?;
    read::read::<Block>(json).map(|block| block.count())
}

/// Refuses JSON that nests arrays and objects more than `max` levels, without recursing (and
/// before serde_json does, which recurses). `json` is valid JSON.
fn check_depth(json: &str, max: usize) -> Result<(), ContentError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    // Bytes are enough: no byte of a multi-byte UTF-8 character is ASCII.
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(ContentError::TooDeep);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_arrays_and_objects_but_not_brackets_in_strings() {
        assert_eq!(check_depth(r#"{"a":[{"b":"[[[{{{\"]]"}]}"#, 3), Ok(()));
        assert_eq!(
            check_depth(r#"{"a":[{"b":[]}]}"#, 3),
            Err(ContentError::TooDeep)
        );
    }

    #[test]
    fn choices_read_as_serde_writes_them() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b"]), "`a` or `b`");
        assert_eq!(one_of(&["a", "b", "c"]), "one of `a`, `b`, `c`");
    }
}
