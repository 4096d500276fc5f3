//! What a session keeps on disk besides its log: `session.json` in its folder (mode 0600, as it
//! holds the config's API key), written when it changes.

use std::{
    io,
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use claude_agent_protocol::{QueryConfig, config::ConfigSecrets, sessions::Usage};
use serde::{Deserialize, Serialize};

use super::Surface;

const FILE: &str = "session.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Meta {
    pub(super) id: String,
    /// The session of the original's `/config` and `/ws`.
    #[serde(default)]
    pub(super) legacy: bool,
    pub(super) created_at_ms: u64,
    /// Its secrets are redacted here, and kept in `secrets`.
    pub(super) config: QueryConfig,
    #[serde(default)]
    secrets: ConfigSecrets,
    /// The CLI session the conversation is in.
    #[serde(default)]
    pub(super) cli_session: Option<String>,
    /// The CLI session to fork the conversation from, until it has its own.
    #[serde(default)]
    pub(super) fork_of: Option<String>,
    #[serde(default)]
    pub(super) usage: Usage,
    /// The cost of the agents that ended; the running one's is added to it.
    #[serde(default)]
    pub(super) cost_usd: f64,
}

impl Meta {
    pub(super) fn new(id: String, surface: Surface, config: QueryConfig) -> Self {
        let mut meta = Self {
            id,
            legacy: surface == Surface::Legacy,
            created_at_ms: millis(SystemTime::now()),
            config: QueryConfig::default(),
            secrets: ConfigSecrets::default(),
            cli_session: None,
            fork_of: None,
            usage: Usage::default(),
            cost_usd: 0.0,
        };
        meta.set_config(config);
        meta
    }

    pub(super) fn surface(&self) -> Surface {
        match self.legacy {
            true => Surface::Legacy,
            false => Surface::V1,
        }
    }

    pub(super) fn set_config(&mut self, config: QueryConfig) {
        self.secrets = config.secrets();
        self.config = config;
    }

    pub(super) fn created_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.created_at_ms)
    }

    /// The session in folder `dir`.
    pub(super) fn load(dir: &Path) -> io::Result<Self> {
        let text = std::fs::read_to_string(dir.join(FILE))?;
        let mut meta: Self = serde_json::from_str(&text).map_err(io::Error::other)?;
        meta.config.restore_secrets(meta.secrets.clone());
        Ok(meta)
    }

    /// Writes it to `dir`, atomically.
    pub(super) fn save(&self, dir: &Path) -> io::Result<()> {
        use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
        std::fs::create_dir_all(dir)?;
        let fresh = dir.join(format!("{FILE}.new"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&fresh)?;
        file.write_all(&serde_json::to_vec_pretty(self).map_err(io::Error::other)?)?;
        std::fs::rename(&fresh, dir.join(FILE))
    }
}

fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_stored_apart_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = QueryConfig::from_json(
            r#"{"model":"m","anthropicApiKey":"sk-secret",
                "mcpServers":{"s":{"type":"http","url":"http://127.0.0.1:1","headers":{"a":"h-secret"}}}}"#,
        )
        .unwrap();
        let meta = Meta::new("s1".into(), Surface::V1, config.config);
        meta.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(text.matches("sk-secret").count(), 1, "{text}");
        assert_eq!(text.matches("h-secret").count(), 1, "{text}");
        let loaded = Meta::load(dir.path()).unwrap();
        let key = loaded.config.anthropic_api_key.as_ref().unwrap();
        assert_eq!(key.expose(), "sk-secret");
        assert_eq!(loaded.config.model.as_deref(), Some("m"));
        assert_eq!(loaded.config, meta.config, "every secret is back");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
