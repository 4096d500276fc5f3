//! Live control of a running session: its model, permission mode and thinking budget changed,
//! or its turn interrupted, without restarting it. Each is answered with a [`ControlResult`]
//! from the CLI's own answer.

use serde::{Deserialize, Serialize};

use crate::config::PermissionMode;

/// A `control` frame's `data`, or the body of `POST /v1/sessions/{id}/control`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Control {
    /// Echoed in the result, to match it; the server makes one up when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub change: ControlChange,
}

// tsify would declare an interface extending a union, which TypeScript refuses.
#[cfg(feature = "typescript")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const CONTROL_TYPE: &str = "/** A `control` frame's `data`: a change, and an id to match its result. */\n\
    export type Control = { request_id?: string } & ControlChange;";

/// What to change, by `subtype`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "subtype", rename_all = "snake_case")]
pub enum ControlChange {
    /// The model for the next turns; `null` for the default.
    SetModel {
        #[serde(default)]
        model: Option<String>,
    },
    SetPermissionMode {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        mode: PermissionMode,
    },
    /// The thinking budget; `null` for the default.
    SetMaxThinkingTokens {
        #[serde(default)]
        #[cfg_attr(feature = "schema", schemars(schema_with = "count"))]
        max_thinking_tokens: Option<u32>,
    },
    /// Ends the running turn, as an `interrupt` frame does.
    Interrupt,
    /// Withdraws a message still queued behind the running turn (by its `uuid`); one that has
    /// started is not.
    CancelMessage { uuid: String },
}

impl ControlChange {
    pub fn subtype(&self) -> &'static str {
        match self {
            Self::SetModel { .. } => "set_model",
            Self::SetPermissionMode { .. } => "set_permission_mode",
            Self::SetMaxThinkingTokens { .. } => "set_max_thinking_tokens",
            Self::Interrupt => "interrupt",
            Self::CancelMessage { .. } => "cancel_message",
        }
    }
}

/// How a [`Control`] went: the CLI's answer.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResult {
    pub request_id: String,
    pub subtype: String,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A count, or `null`; that it is a whole number that fits is the server's to check.
#[cfg(feature = "schema")]
fn count(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["integer", "null"] })
}
