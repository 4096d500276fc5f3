//! `new ClaudeAgentClient(options)`: the original's options, read and checked.

use claude_agent_protocol::QueryConfig;
use serde_json::{Map, Value};

use crate::{endpoints::Endpoints, error::ClientError};

/// The client's options.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClientOptions {
    pub(crate) endpoints: Endpoints,
    pub(crate) debug: bool,
    /// The agent config to post before connecting; `None` when no config option was given.
    pub(crate) config: Option<String>,
}

impl ClientOptions {
    /// From the options object as JSON (functions in it are not options). Options that are no
    /// agent config and no client option, such as the original's E2B ones (`e2bApiKey`,
    /// `template`, `timeoutMs`), are not posted: this client creates no sandbox.
    pub(crate) fn from_json(text: &str) -> Result<Self, ClientError> {
        let options = match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            Ok(Value::Null) | Err(_) => return Err(ClientError::NoUrl),
            Ok(_) => return Err(ClientError::Options("options must be an object".to_owned())),
        };
        let url = match options.get("connectionUrl") {
            Some(Value::String(url)) => url,
            None | Some(Value::Null) => return Err(ClientError::NoUrl),
            Some(_) => {
                return Err(ClientError::Options(
                    "connectionUrl must be a string".to_owned(),
                ));
            }
        };
        let debug = match options.get("debug") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(debug)) => *debug,
            Some(_) => return Err(ClientError::Options("debug must be a boolean".to_owned())),
        };
        let config: Map<String, Value> = options
            .iter()
            .filter(|(key, value)| QueryConfig::FIELDS.contains(&key.as_str()) && !value.is_null())
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        // Not checked here: the server checks it and refuses a bad one with a reason that
        // start() passes on (checking twice would add a third to the size of the wasm).
        let config = (!config.is_empty()).then(|| Value::Object(config).to_string());
        Ok(Self {
            endpoints: Endpoints::from_url(url)?,
            debug,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_options_are_posted_and_the_rest_are_not() {
        let options = ClientOptions::from_json(
            r#"{"connectionUrl":"http://h:1","debug":true,"model":"m","anthropicApiKey":"k",
                "allowedTools":["Read"],"e2bApiKey":"secret","template":"t","agents":null}"#,
        )
        .unwrap();
        assert!(options.debug);
        assert_eq!(options.endpoints.socket, "ws://h:1/ws");
        assert_eq!(
            options.config.as_deref(),
            Some(r#"{"model":"m","anthropicApiKey":"k","allowedTools":["Read"]}"#)
        );
    }

    #[test]
    fn without_config_options_nothing_is_posted() {
        let options = ClientOptions::from_json(r#"{"connectionUrl":"ws://h:1/ws"}"#).unwrap();
        assert_eq!((options.config, options.debug), (None, false));
    }

    #[test]
    fn bad_options_fail_clearly() {
        let error = |json: &str| ClientOptions::from_json(json).unwrap_err().to_string();
        assert!(error("{}").starts_with("connectionUrl is required"));
        assert!(error("null").starts_with("connectionUrl is required"));
        assert!(error(r#"{"connectionUrl":5}"#).contains("connectionUrl must be a string"));
    }
}
