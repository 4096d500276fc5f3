//! `QueryConfig`: the agent options a client posts to `/config` (camelCase, as the original).

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// Agent options. Absent fields take the server's defaults.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryConfig {
    /// Subagents the main agent can delegate to, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<BTreeMap<String, AgentDefinition>>,
    /// Tools allowed without asking (permission rules such as `Bash(git:*)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Vec<String>>,
    /// Tools that are never allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disallowed_tools: Option<Vec<String>>,
    /// A custom system prompt, or the Claude Code preset; empty when absent, as the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<SystemPrompt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Remote MCP servers by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_servers: Option<BTreeMap<String, McpServerConfig>>,
    /// Becomes the agent's `ANTHROPIC_API_KEY`; never stored in logs or echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anthropic_api_key: Option<Secret>,
    /// `bypassPermissions` when absent, as the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<PermissionMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_turns: Option<u32>,
    /// The thinking budget in tokens; the CLI's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_thinking_tokens: Option<u32>,
    /// A permission prompt with no client attached is denied after this many seconds; it
    /// waits for one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_timeout_seconds: Option<u32>,
    /// The agent's working directory; the server's workspace when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Stream `stream_event` token deltas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_partial_messages: Option<bool>,
    /// Which settings files the agent loads; `["project"]` when absent, as the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting_sources: Option<Vec<SettingSource>>,
    /// More directories the agent may read and write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_directories: Option<Vec<String>>,
    /// Where this session's webhook notifications go (needs input, turn ended), over the
    /// server's `--notify-url`; the server's alone, never the agent's. A secret: webhook URLs
    /// often hold their token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<Secret>,
}

/// A config as posted, checked, with the keys that are no agent option set aside.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedConfig {
    pub config: QueryConfig,
    /// Keys accepted and ignored (the original client also posts `e2bApiKey`, `template`,
    /// `timeoutMs` and `debug`). Their values are dropped, never stored.
    pub ignored: Vec<String>,
}

/// Why a posted config was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("Invalid JSON: {0}")]
    Json(String),
    #[error("The config must be a JSON object, found {0}")]
    NotAnObject(&'static str),
    #[error("Invalid config field `{field}`: {detail}")]
    Field { field: String, detail: String },
}

impl QueryConfig {
    /// The camelCase names of every field, in declaration order.
    pub const FIELDS: [&'static str; 16] = [
        "agents",
        "allowedTools",
        "disallowedTools",
        "systemPrompt",
        "model",
        "mcpServers",
        "anthropicApiKey",
        "permissionMode",
        "maxTurns",
        "maxThinkingTokens",
        "permissionTimeoutSeconds",
        "cwd",
        "includePartialMessages",
        "settingSources",
        "additionalDirectories",
        "notifyUrl",
    ];

    /// Parses a posted config: a value of the wrong type is an error naming its field; a key
    /// that is no field is set aside in [`ParsedConfig::ignored`].
    pub fn from_json(text: &str) -> Result<ParsedConfig, ConfigError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ConfigError::Json(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(ConfigError::NotAnObject(
                crate::schema::Kind::of_json(text).described(),
            ));
        };
        let (known, ignored): (Map<String, Value>, Map<String, Value>) = map
            .into_iter()
            .partition(|(key, _)| Self::FIELDS.contains(&key.as_str()));
        // Every string ends up in the agent's command line or environment, where NUL ends it.
        if let Some(field) = known.iter().find(|(_, value)| holds_nul(value)) {
            return Err(ConfigError::Field {
                field: field.0.clone(),
                detail: "a string must not contain NUL characters".to_owned(),
            });
        }
        let config = serde_path_to_error::deserialize(Value::Object(known)).map_err(|e| {
            let path = e.path().to_string();
            let field = path.split(['.', '[']).next().unwrap_or_default().to_owned();
            let detail = match path.strip_prefix(&field) {
                Some("") | None => e.inner().to_string(),
                Some(rest) => format!("{}: {}", rest.trim_start_matches('.'), e.inner()),
            };
            ConfigError::Field { field, detail }
        })?;
        Ok(ParsedConfig {
            config,
            ignored: ignored.into_iter().map(|(key, _)| key).collect(),
        })
    }

    /// This config with every secret replaced by [`Secret::REDACTED`], for answers and logs.
    pub fn redacted(&self) -> Self {
        Self {
            anthropic_api_key: self.anthropic_api_key.as_ref().map(|_| Secret::redacted()),
            ..self.clone()
        }
    }
}

/// Whether `value` holds a string (or key) with a NUL character.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, v)| key.contains('\0') || holds_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A config's secrets, in clear: for the one place that must keep them (the server's session
/// file), since [`Secret`]s serialize redacted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigSecrets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anthropic_api_key: Option<String>,
    /// By MCP server, then header.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mcp_headers: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
}

impl QueryConfig {
    /// Its secrets, in clear.
    pub fn secrets(&self) -> ConfigSecrets {
        let exposed = |headers: &BTreeMap<String, Secret>| {
            let headers = headers.iter();
            headers
                .map(|(name, value)| (name.clone(), value.expose().to_owned()))
                .collect()
        };
        ConfigSecrets {
            anthropic_api_key: self
                .anthropic_api_key
                .as_ref()
                .map(|key| key.expose().to_owned()),
            notify_url: self.notify_url.as_ref().map(|url| url.expose().to_owned()),
            mcp_headers: self
                .mcp_servers
                .iter()
                .flatten()
                .filter_map(|(name, server)| {
                    Some((name.clone(), exposed(server.headers.as_ref()?)))
                })
                .collect(),
        }
    }

    /// Puts back the secrets [`QueryConfig::secrets`] took (over their redacted copies).
    pub fn restore_secrets(&mut self, secrets: ConfigSecrets) {
        self.anthropic_api_key = secrets.anthropic_api_key.map(Secret::new);
        self.notify_url = secrets.notify_url.map(Secret::new);
        for (name, headers) in secrets.mcp_headers {
            if let Some(server) = self.mcp_servers.as_mut().and_then(|s| s.get_mut(&name)) {
                let headers = headers.into_iter().map(|(k, v)| (k, Secret::new(v)));
                server.headers = Some(headers.collect());
            }
        }
    }
}

/// A subagent definition.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentDefinition {
    pub description: String,
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disallowed_tools: Option<Vec<String>>,
    /// `sonnet`, `opus`, `haiku`, `inherit`, or a model id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// A custom system prompt, or the Claude Code preset with optional appended text.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    Custom(String),
    Preset(PresetPrompt),
}

/// `{"type":"preset","preset":"claude_code","append"?:string}`.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetPrompt {
    #[serde(rename = "type")]
    pub kind: PresetTag,
    pub preset: PresetName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub append: Option<String>,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresetTag {
    Preset,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresetName {
    ClaudeCode,
}

/// A remote MCP server (the original's `McpHttpServerConfig | McpSSEServerConfig`).
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpServerConfig {
    #[serde(rename = "type")]
    pub kind: McpTransport,
    pub url: String,
    /// Sent with every request (authorization, typically): secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", tsify(type = "Record<string, string>"))]
    pub headers: Option<BTreeMap<String, Secret>>,
}

#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum McpTransport {
    Http,
    Sse,
}

/// The CLI's permission modes.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PermissionMode {
    Default,
    AcceptEdits,
    BypassPermissions,
    Plan,
    DontAsk,
    Auto,
}

impl PermissionMode {
    /// The CLI's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::AcceptEdits => "acceptEdits",
            Self::BypassPermissions => "bypassPermissions",
            Self::Plan => "plan",
            Self::DontAsk => "dontAsk",
            Self::Auto => "auto",
        }
    }

    /// Whether the CLI asks before some tools run in this mode (`bypassPermissions` never
    /// does; `dontAsk` denies instead).
    pub fn asks(self) -> bool {
        !matches!(self, Self::BypassPermissions | Self::DontAsk)
    }
}

/// Settings files the CLI may load.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingSource {
    User,
    Project,
    Local,
}

impl SettingSource {
    /// The CLI's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Project => "project",
            Self::Local => "local",
        }
    }
}

/// A secret string: `Debug`, `Display` and `Serialize` never show it; [`Secret::expose`] is the
/// one way to it.
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(Self::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl Secret {
    /// What a redacted secret reads as.
    pub const REDACTED: &'static str = "[redacted]";

    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    fn redacted() -> Self {
        Self(Self::REDACTED.to_owned())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}
