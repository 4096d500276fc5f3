//! Who may use the server: whoever presents its token (see `credentials` for where), or,
//! with `--no-auth` on a loopback address, anyone; and browsers only from allowed origins
//! when the browser, not the page, supplies the credential (the cookie) or there is none.

mod credentials;
mod failures;
mod token;

use std::{
    io,
    net::IpAddr,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
    time::Duration,
};

use axum::http::{HeaderMap, Uri};
use thiserror::Error;

pub(crate) use credentials::{SUBPROTOCOL, set_cookie};
pub(crate) use token::Kept;
pub use token::Token;

use crate::{Args, origins::Origins};
use failures::Failures;
use token::TokenDigest;

/// A token flag's value, checked.
pub(crate) fn token_arg(text: &str) -> Result<Token, String> {
    Token::parse(text)
}

/// How requests get in, from the flags.
#[derive(Debug)]
pub(crate) enum Access {
    /// `--no-auth`.
    Open,
    Token {
        token: Token,
        from: TokenSource,
    },
    /// `--token-file` names a file not there yet: whoever made the server's sandbox writes it
    /// (an E2B template's server starts, and is snapshotted, before any sandbox exists).
    Awaited(PathBuf),
}

/// Where the token came from, which decides what the server prints of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// `--token` or `CLAUDE_AGENT_TOKEN`.
    Given,
    File(PathBuf),
    /// The state folder's, found there or made now.
    Kept(PathBuf, Kept),
}

#[derive(Debug, Error)]
pub enum AuthError {
    #[error(
        "--no-auth would let anyone who reaches {host} drive the agent: it needs a loopback \
         --host (127.0.0.1 or ::1); elsewhere, give clients the token"
    )]
    OpenOffLoopback { host: IpAddr },
    #[error("cannot read the token in {path}: {reason}")]
    TokenFile { path: String, reason: String },
    #[error("cannot keep a token in {path}: {source}")]
    Keep { path: String, source: io::Error },
}

impl Access {
    /// From `--no-auth`, `--token`, `--token-file`, else the token kept in `state_dir`.
    pub(crate) fn from_args(args: &Args, state_dir: &Path) -> Result<Self, AuthError> {
        if args.no_auth {
            return match args.host.is_loopback() {
                true => Ok(Self::Open),
                false => Err(AuthError::OpenOffLoopback { host: args.host }),
            };
        }
        if let Some(token) = &args.token {
            let token = token.clone();
            return Ok(Self::Token {
                token,
                from: TokenSource::Given,
            });
        }
        if let Some(path) = &args.token_file {
            let failed = |reason: String| AuthError::TokenFile {
                path: path.display().to_string(),
                reason,
            };
            let text = match std::fs::read_to_string(path) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    return Ok(Self::Awaited(path.clone()));
                }
                read => read.map_err(|e| failed(e.to_string()))?,
            };
            let token = Token::parse(&text).map_err(failed)?;
            return Ok(Self::Token {
                token,
                from: TokenSource::File(path.clone()),
            });
        }
        let path = state_dir.join("token");
        let (token, kept) = Token::kept_in(&path).map_err(|source| AuthError::Keep {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self::Token {
            token,
            from: TokenSource::Kept(path, kept),
        })
    }
}

/// Why a request was not let in.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub(crate) enum Refusal {
    #[error(
        "This server needs its token: send `Authorization: Bearer <token>` (or ?token=); the \
         URL the server printed at start has it"
    )]
    Missing,
    #[error("Wrong token")]
    Wrong,
    #[error("Too many wrong tokens from this address: try again in {} s", .0.as_secs().max(1))]
    Locked(Duration),
    #[error("This origin may not connect: start the server with --cors-origin to allow it")]
    Origin,
    #[error("The server waits for its token, which its token file does not hold yet")]
    Pending,
}

/// What a request's token is compared with.
#[derive(Debug)]
enum Gate {
    /// `--no-auth`.
    Open,
    Token(TokenDigest),
    /// The token file's, once it is there.
    Awaited {
        path: PathBuf,
        token: OnceLock<TokenDigest>,
    },
}

/// The server's gate.
#[derive(Debug)]
pub(crate) struct Auth {
    gate: Gate,
    origins: Arc<Origins>,
    failures: Failures,
}

impl Auth {
    pub(crate) fn new(access: &Access, origins: Arc<Origins>) -> Self {
        Self {
            gate: match access {
                Access::Open => Gate::Open,
                Access::Token { token, .. } => Gate::Token(token.digest()),
                Access::Awaited(path) => Gate::Awaited {
                    path: path.clone(),
                    token: OnceLock::new(),
                },
            },
            origins,
            failures: Failures::default(),
        }
    }

    /// Whether a token is needed at all.
    pub(crate) fn required(&self) -> bool {
        !matches!(self.gate, Gate::Open)
    }

    /// Whether the server still waits for its token file to hold the token.
    pub(crate) fn pending(&self) -> bool {
        matches!(self.token(), Err(Refusal::Pending))
    }

    /// The token to compare with: `None` if none is needed.
    fn token(&self) -> Result<Option<&TokenDigest>, Refusal> {
        match &self.gate {
            Gate::Open => Ok(None),
            Gate::Token(token) => Ok(Some(token)),
            Gate::Awaited { path, token } => match token.get() {
                Some(token) => Ok(Some(token)),
                None => {
                    let read = Token::kept_by(path).ok_or(Refusal::Pending)?;
                    tracing::info!("the token file is there: its token lets requests in");
                    Ok(Some(token.get_or_init(|| read.digest())))
                }
            },
        }
    }

    /// Lets a request in, or says why not. A wrong token counts against `peer`.
    pub(crate) fn check(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        peer: IpAddr,
    ) -> Result<(), Refusal> {
        let Some(digest) = self.token()? else {
            return self.check_origin(headers);
        };
        if let Some(wait) = self.failures.locked(peer) {
            return Err(Refusal::Locked(wait));
        }
        let (carrier, token) = credentials::presented(headers, uri).ok_or(Refusal::Missing)?;
        if !digest.matches(&token) {
            self.failures.record(peer);
            // The path alone: a query may hold a token, even a right one.
            tracing::warn!(%peer, ?carrier, path = uri.path(), "refused a wrong token");
            return Err(Refusal::Wrong);
        }
        if carrier.ambient() {
            self.check_origin(headers)?;
        }
        Ok(())
    }

    /// For the page's URL with `?token=`: `None` if it has none (or none is needed), else the
    /// token to set as the page's cookie, or why not.
    pub(crate) fn login(&self, uri: &Uri, peer: IpAddr) -> Option<Result<String, Refusal>> {
        let token = credentials::query(uri)?;
        let digest = match self.token() {
            Ok(digest) => digest?,
            Err(refusal) => return Some(Err(refusal)),
        };
        if let Some(wait) = self.failures.locked(peer) {
            return Some(Err(Refusal::Locked(wait)));
        }
        if !digest.matches(&token) {
            self.failures.record(peer);
            tracing::warn!(%peer, "refused a wrong token for the page");
            return Some(Err(Refusal::Wrong));
        }
        Some(Ok(token))
    }

    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        match self.origins.allow(headers) {
            true => Ok(()),
            false => {
                let origin = headers.get(axum::http::header::ORIGIN);
                tracing::warn!(?origin, "refused a request from another origin");
                Err(Refusal::Origin)
            }
        }
    }
}
