//! Checking a message on the JS object itself, against the protocol's schema of client messages
//! (generated from its types): no serde parsing in the client, which keeps the wasm small.

use claude_agent_protocol::schema::{self, CLIENT_MESSAGE_SCHEMA, CheckError, Json, Kind};
use js_sys::{Array, JSON, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A JS value, read as JSON.
#[derive(Debug, Clone)]
struct Js(JsValue);

impl Json for Js {
    fn kind(&self) -> Option<Kind> {
        let value = &self.0;
        Some(if value.is_null() {
            Kind::Null
        } else if value.as_bool().is_some() {
            Kind::Boolean
        } else if value.as_f64().is_some() {
            Kind::Number
        } else if value.is_string() {
            Kind::String
        } else if Array::is_array(value) {
            Kind::Array
        } else if value.is_object() && !value.is_function() {
            Kind::Object
        } else {
            return None; // undefined, a function, a symbol, a bigint
        })
    }

    fn string(&self) -> Option<String> {
        self.0.as_string()
    }

    fn member(&self, key: &str) -> Option<Self> {
        self.0.is_object().then_some(())?;
        Reflect::get(&self.0, &key.into())
            .ok()
            .filter(|value| !value.is_undefined())
            .map(Js)
    }

    fn keys(&self) -> Vec<String> {
        match self.0.dyn_ref::<Object>() {
            Some(object) => Object::keys(object)
                .iter()
                .filter_map(|key| key.as_string())
                .collect(),
            None => Vec::new(),
        }
    }

    fn elements(&self) -> Vec<Self> {
        match self.0.dyn_ref::<Array>() {
            Some(array) => array.iter().map(Js).collect(),
            None => Vec::new(),
        }
    }
}

thread_local! {
    static SCHEMA: Js = Js(JSON::parse(CLIENT_MESSAGE_SCHEMA).expect("the schema is JSON"));
}

/// Whether `message` is a client message, and if not, where and why.
pub(crate) fn check_message(message: &JsValue) -> Result<(), CheckError> {
    SCHEMA.with(|schema| schema::check(schema, &Js(message.clone())))
}
