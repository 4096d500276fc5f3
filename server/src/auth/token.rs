//! The server's token: given, read from a file, or generated once and kept in the state folder,
//! so that clients holding it reconnect after a restart.

use std::{
    fs,
    io::{self, Write},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::Path,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use claude_agent_protocol::config::Secret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Shorter tokens are refused: they could be guessed.
pub(crate) const MIN_LENGTH: usize = 16;

/// A token. It never prints, and only its digest is kept to compare with.
#[derive(Debug, Clone)]
pub struct Token(Secret);

impl Token {
    /// Checks a token given by a person.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() < MIN_LENGTH {
            return Err(format!(
                "a token needs at least {MIN_LENGTH} characters, to be hard to guess"
            ));
        }
        // What travels unescaped in a URL, a cookie and a WebSocket subprotocol alike.
        let unreserved = |byte: u8| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte);
        if !text.bytes().all(unreserved) {
            return Err("a token holds only letters, digits and - . _ ~".to_owned());
        }
        Ok(Self(Secret::new(text)))
    }

    /// 32 random bytes, base64url: safe in a URL, a cookie and a WebSocket subprotocol.
    pub(crate) fn generate() -> io::Result<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(io::Error::other)?;
        Ok(Self(Secret::new(URL_SAFE_NO_PAD.encode(bytes))))
    }

    /// The token in `file`, which `generate` writes (readable by this user alone) if missing.
    pub(crate) fn kept_in(file: &Path) -> io::Result<(Self, Kept)> {
        match fs::read_to_string(file) {
            Ok(text) => {
                let token = Self::parse(&text).map_err(io::Error::other)?;
                let loose = fs::metadata(file)?.permissions().mode() & 0o077 != 0;
                if loose {
                    fs::set_permissions(file, fs::Permissions::from_mode(0o600))?;
                }
                Ok((token, Kept::Found))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let token = Self::generate()?;
                if let Some(dir) = file.parent() {
                    fs::create_dir_all(dir)?;
                }
                let mut out = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(file)?;
                writeln!(out, "{}", token.expose())?;
                Ok((token, Kept::Generated))
            }
            Err(error) => Err(error),
        }
    }

    /// The token in `file` once it is there; `None` until then, or while it holds no valid token
    /// (said in the log: whoever writes it should know).
    pub(crate) fn kept_by(file: &Path) -> Option<Self> {
        match fs::read_to_string(file) {
            Ok(text) => Self::parse(&text)
                .inspect_err(|reason| tracing::warn!(%reason, "the token file holds no token"))
                .ok(),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(error) => {
                tracing::warn!(%error, "cannot read the token file");
                None
            }
        }
    }

    /// The token itself, for the one line that prints it and the file that keeps it.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose()
    }

    pub(crate) fn digest(&self) -> TokenDigest {
        TokenDigest::of(self.expose())
    }
}

/// Whether [`Token::kept_in`] found the token or made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    Found,
    Generated,
}

/// What a presented token is compared with: its SHA-256, so that the comparison takes the same
/// time whatever the length or the first wrong byte.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TokenDigest([u8; 32]);

impl TokenDigest {
    fn of(text: &str) -> Self {
        Self(Sha256::digest(text.as_bytes()).into())
    }

    pub(crate) fn matches(&self, presented: &str) -> bool {
        Self::of(presented).0.ct_eq(&self.0).into()
    }
}

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_long_and_url_safe_and_differ() {
        let (a, b) = (Token::generate().unwrap(), Token::generate().unwrap());
        assert_eq!(a.expose().len(), 43);
        assert!(
            a.expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a.expose(), b.expose());
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn only_the_same_token_matches() {
        let token = Token::parse("correct-horse-battery").unwrap();
        let digest = token.digest();
        assert!(digest.matches("correct-horse-battery"));
        for wrong in ["", "correct-horse-batter", "correct-horse-battery ", "x"] {
            assert!(!digest.matches(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn short_tokens_and_those_that_need_escaping_are_refused() {
        assert!(Token::parse("short").is_err());
        assert!(Token::parse("has a space in it somewhere").is_err());
        assert!(Token::parse("semicolon;would-end-a-cookie").is_err());
        assert!(Token::parse("  padded-but-long-enough\n").is_ok());
    }

    #[test]
    fn the_kept_token_is_made_once_for_this_user_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state/token");
        let (made, kept) = Token::kept_in(&file).unwrap();
        assert_eq!(kept, Kept::Generated);
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (found, kept) = Token::kept_in(&file).unwrap();
        assert_eq!(kept, Kept::Found);
        assert_eq!(found.expose(), made.expose());
    }
}
