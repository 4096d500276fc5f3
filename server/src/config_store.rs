//! The config posted to `/config`, read whenever an agent starts.

use std::sync::RwLock;

use claude_agent_protocol::QueryConfig;

#[derive(Debug, Default)]
pub(crate) struct ConfigStore(RwLock<QueryConfig>);

impl ConfigStore {
    pub(crate) fn current(&self) -> QueryConfig {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the whole config, as the original does (no merge).
    pub(crate) fn replace(&self, config: QueryConfig) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
    }
}
