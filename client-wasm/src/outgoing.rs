//! The frames the client sends, as JSON text: those it builds itself (`sendText`, `interrupt`,
//! a permission answer) and those it is given (`send`), checked first.
//!
//! The built ones are written out, not serialized from the protocol's `ClientMessage`: its
//! `Serialize` compiles in every variant's serializer, the permission answer's arbitrary JSON
//! values among them (17 KB of the gzipped `.wasm`), and even a `SdkUserMessage`'s alone costs
//! 1 KB. The tests check that they are the protocol's.

use js_sys::{JSON, JsString, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::{check, error::ClientError};

/// `{"type":"interrupt"}`.
pub(crate) const INTERRUPT: &str = r#"{"type":"interrupt"}"#;

/// The `user_message` frame saying `text`: `SdkUserMessage::text(text)`.
pub(crate) fn text_message(text: &str) -> String {
    let text = serde_json::to_string(text).expect("a string serializes");
    format!(
        r#"{{"type":"user_message","data":{{"type":"user","session_id":"","parent_tool_use_id":null,"message":{{"role":"user","content":{text}}}}}}}"#
    )
}

/// The text of `message`, a client message given by a user, if it is a valid one.
pub(crate) fn checked(message: &JsValue) -> Result<JsString, ClientError> {
    check::check_message(message).map_err(|e| ClientError::InvalidMessage(e.to_string()))?;
    JSON::stringify(message).map_err(|e| ClientError::InvalidMessage(crate::describe(&e)))
}

/// The `permission_response` frame answering the prompt `request_id` with `decision`
/// (`{behavior: "allow" | "deny", …}`), checked as `send` checks a message.
pub(crate) fn permission_response(
    request_id: &str,
    decision: &JsValue,
) -> Result<JsString, ClientError> {
    let data = match decision.is_object() && !js_sys::Array::is_array(decision) {
        true => {
            let data = Object::assign(&Object::new(), decision.unchecked_ref());
            set(&data, "request_id", &request_id.into());
            data.into()
        }
        false => decision.clone(), // refused by the check, which says what it is
    };
    let frame = Object::new();
    set(&frame, "type", &"permission_response".into());
    set(&frame, "data", &data);
    checked(&frame)
}

fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).expect("setting a field of a plain object");
}

#[cfg(test)]
mod tests {
    use claude_agent_protocol::{ClientMessage, SdkUserMessage};

    use super::*;

    #[test]
    fn the_built_frames_are_the_protocols() {
        assert_eq!(
            ClientMessage::from_json(INTERRUPT),
            Ok(ClientMessage::Interrupt)
        );
        let text = "say \"hi\"\n\u{2028} ✓";
        assert_eq!(
            ClientMessage::from_json(&text_message(text)),
            Ok(ClientMessage::UserMessage {
                data: SdkUserMessage::text(text)
            })
        );
    }
}
