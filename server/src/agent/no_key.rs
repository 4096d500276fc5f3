//! The CLI with no API key answers every message with a failed turn whose text, "Not logged in
//! · Please run /login", points at its own terminal login: of no use to the server's clients.
//! They are told how to give it a key instead.

use claude_agent_protocol::{MessageKind, agent::MessageHead};
use serde::Deserialize;

/// The `result` (and assistant text) of such a turn, as the pinned CLI (2.1.330) writes it; the
/// turn's `subtype` is `success`, with `is_error: true`.
const NOT_LOGGED_IN: &str = "Not logged in · Please run /login";

/// What clients are told after it.
pub(crate) const HINT: &str = "Claude Code has no Anthropic API key (it answered “Not logged \
    in · Please run /login”). Give it one: start the server with ANTHROPIC_API_KEY set in its \
    environment, or set anthropicApiKey in the config (POST /config, or the demo page's \
    settings, for a new session). Or start the server with --demo to try it with scripted \
    replies.";

#[derive(Deserialize)]
struct ResultText<'a> {
    #[serde(borrow)]
    result: Option<std::borrow::Cow<'a, str>>,
}

/// [`HINT`], if `raw` (whose head is `head`) ends a turn that failed for want of a key.
pub(crate) fn hint(head: &MessageHead<'_>, raw: &str) -> Option<&'static str> {
    if head.kind != MessageKind::Result || head.is_error != Some(true) {
        return None;
    }
    let text = serde_json::from_str::<ResultText<'_>>(raw).ok()?.result?;
    (text == NOT_LOGGED_IN).then_some(HINT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint_for(raw: &str) -> Option<&'static str> {
        let head: MessageHead<'_> = serde_json::from_str(raw).unwrap();
        hint(&head, raw)
    }

    #[test]
    fn only_the_cli_s_not_logged_in_result_gets_the_hint() {
        // Recorded from the pinned CLI started with no key (trimmed to the fields read).
        let no_key = r#"{"type":"result","subtype":"success","is_error":true,"terminal_reason":"api_error","result":"Not logged in · Please run /login","session_id":"f9f3996f"}"#;
        assert_eq!(hint_for(no_key), Some(HINT));
        // The same words from the model, in a turn that went well, are the model's.
        let said = no_key.replace(r#""is_error":true"#, r#""is_error":false"#);
        assert_eq!(hint_for(&said), None);
        let other = no_key.replace("Not logged in", "Credit balance is too low");
        assert_eq!(hint_for(&other), None);
        let assistant = r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Not logged in · Please run /login"}]}}"#;
        assert_eq!(hint_for(assistant), None);
    }
}
