//! Permission prompts: the CLI asks whether a tool may run (`can_use_tool`), every client of the
//! session sees the prompt, and the first answer reaches the CLI (`agent-protocol.md` 6.1).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::PermissionMode;

/// A tool the agent would run, waiting for a person's answer.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionRequest {
    /// What an answer names.
    pub request_id: String,
    pub tool_name: String,
    /// The tool's input, as the model wrote it.
    #[cfg_attr(feature = "typescript", tsify(type = "Record<string, unknown>"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: Map<String, Value>,
    pub tool_use_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Rules the CLI offers to stop asking ("always allow"): answer with one of them in
    /// `updated_permissions`. Kept as the CLI wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", tsify(type = "PermissionUpdate[]"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub permission_suggestions: Option<Vec<Value>>,
    /// The path outside the allowed folders that the tool would touch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    /// The subagent that asks, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// A person's answer to a [`PermissionRequest`].
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionAnswer {
    pub request_id: String,
    pub behavior: PermissionBehavior,
    /// What the tool runs with instead of the model's input (allow only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", tsify(type = "Record<string, unknown>"))]
    #[cfg_attr(feature = "schema", schemars(schema_with = "any_object"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub updated_input: Option<Map<String, Value>>,
    /// Rules to add (allow only), such as one of the request's `permission_suggestions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub updated_permissions: Option<Vec<PermissionUpdate>>,
    /// Why, for the model (deny only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Deny and end the turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupt: Option<bool>,
}

/// Whether the tool may run.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PermissionBehavior {
    Allow,
    Deny,
}

/// A change to the permission rules, as the CLI takes them.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum PermissionUpdate {
    AddRules {
        rules: Vec<PermissionRule>,
        behavior: RuleBehavior,
        destination: RuleDestination,
    },
    ReplaceRules {
        rules: Vec<PermissionRule>,
        behavior: RuleBehavior,
        destination: RuleDestination,
    },
    RemoveRules {
        rules: Vec<PermissionRule>,
        behavior: RuleBehavior,
        destination: RuleDestination,
    },
    SetMode {
        mode: PermissionMode,
        destination: RuleDestination,
    },
    AddDirectories {
        directories: Vec<String>,
        destination: RuleDestination,
    },
    RemoveDirectories {
        directories: Vec<String>,
        destination: RuleDestination,
    },
}

/// One rule: a tool, and what of its input it covers (all of it when absent).
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PermissionRule {
    pub tool_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_content: Option<String>,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleBehavior {
    Allow,
    Deny,
    Ask,
}

/// Where a rule is kept: a settings file, or the session alone.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleDestination {
    UserSettings,
    ProjectSettings,
    LocalSettings,
    Session,
    CliArg,
}

/// A prompt is over: how, and who answered it.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionResolved {
    pub request_id: String,
    /// What the CLI was told: `deny` when cancelled or timed out.
    pub behavior: PermissionBehavior,
    /// The client that answered (`answered` only): a connection's id, or `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub reason: ResolvedReason,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolvedReason {
    /// A client answered.
    Answered,
    /// The CLI withdrew it (an interrupt), or its agent ended.
    Cancelled,
    /// Nobody answered in time.
    Timeout,
}

impl PermissionAnswer {
    /// What the CLI is told (`control_response.response`) for `request`: `allow` runs the tool
    /// with the model's input unless another is given.
    pub fn to_cli(&self, request: &PermissionRequest) -> Value {
        let mut answer = Map::new();
        match self.behavior {
            PermissionBehavior::Allow => {
                answer.insert("behavior".into(), "allow".into());
                let input = self.updated_input.as_ref().unwrap_or(&request.input);
                answer.insert("updatedInput".into(), Value::Object(input.clone()));
                if let Some(updates) = &self.updated_permissions {
                    let updates = serde_json::to_value(updates).expect("updates serialize");
                    answer.insert("updatedPermissions".into(), updates);
                }
            }
            PermissionBehavior::Deny => {
                answer.insert("behavior".into(), "deny".into());
                let message = self.message.as_deref().unwrap_or("The user denied this.");
                answer.insert("message".into(), message.into());
                if let Some(interrupt) = self.interrupt {
                    answer.insert("interrupt".into(), interrupt.into());
                }
            }
        }
        Value::Object(answer)
    }
}

/// Any JSON object: the tool's own input, which the CLI checks.
#[cfg(feature = "schema")]
fn any_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["object", "null"] })
}

/// What the CLI is told when nobody can answer any more.
pub fn denied(message: &str) -> Value {
    serde_json::json!({"behavior": "deny", "message": message})
}
