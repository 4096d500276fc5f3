//! Live control of the session (`setModel`, `setPermissionMode`, `setMaxThinkingTokens`,
//! `cancelMessage`): each sends a `control` frame with a request id of its own, and its promise
//! settles with the `control_result` of that id, which the server sends to this client alone.
//! A connection that ends first rejects the promises still waiting: their answers went with it.
//!
//! The frame is built on a JS object and checked as `send()` checks a message, not serialized
//! from the protocol's `Control` (see `outgoing.rs`).

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsValue;

use crate::{client::Client, error::ClientError, outgoing};

/// The controls sent whose results have not come.
#[derive(Debug, Default)]
pub(crate) struct Controls {
    next_id: u32,
    /// By request id: the promise's resolve and reject.
    waiting: Vec<(String, Function, Function)>,
}

/// Sends the control `subtype`, with `field` (its name and value) if it has one; the promise
/// resolves with its `control_result`, or rejects with the CLI's error when it is not `ok`.
pub(crate) fn send(client: &Client, subtype: &str, field: Option<(&str, &JsValue)>) -> Promise {
    let id = client.controls(|controls| {
        controls.next_id += 1;
        format!("control-{}", controls.next_id)
    });
    let data = Object::new();
    set(&data, "request_id", &id.as_str().into());
    set(&data, "subtype", &subtype.into());
    if let Some((name, value)) = field {
        set(&data, name, value);
    }
    let frame = Object::new();
    set(&frame, "type", &"control".into());
    set(&frame, "data", &data);
    let sent = outgoing::checked(&frame).and_then(|text| client.send(&text));
    if let Err(error) = sent {
        return Promise::reject(&error.into());
    }
    Promise::new(&mut |resolve, reject| {
        client.controls(|controls| controls.waiting.push((id.clone(), resolve, reject)));
    })
}

/// Takes a frame the dispatch passes on: a `control_result` settles its control's promise.
pub(crate) fn on_frame(client: &Client, frame: &JsValue) {
    if field(frame, "type").as_string().as_deref() != Some("control_result") {
        return;
    }
    let result = field(frame, "data");
    let id = field(&result, "request_id").as_string().unwrap_or_default();
    let found = client.controls(|controls| {
        let index = controls.waiting.iter().position(|(each, ..)| *each == id)?;
        Some(controls.waiting.remove(index))
    });
    let Some((_, resolve, reject)) = found else {
        return; // another client's, or one whose connection ended
    };
    let _ = match field(&result, "ok").as_bool() {
        Some(true) => resolve.call1(&JsValue::NULL, &result),
        _ => {
            let error = field(&result, "error").as_string();
            let error = ClientError::Message(error.unwrap_or_else(|| format!("{id} failed")));
            reject.call1(&JsValue::NULL, &error.into())
        }
    };
}

/// The connection ended: the results still waiting will not come.
pub(crate) fn connection_ended(client: &Client) {
    let waiting = client.controls(|controls| std::mem::take(&mut controls.waiting));
    for (_, _, reject) in waiting {
        let error = ClientError::Message("the connection ended before the answer came".into());
        let _ = reject.call1(&JsValue::NULL, &error.into());
    }
}

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &key.into(), value).expect("setting a field of a plain object");
}
