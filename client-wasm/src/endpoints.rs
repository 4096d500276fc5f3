//! Where a server's `/config` and `/ws` are, from the one `connectionUrl` a user gives.

use crate::error::ClientError;

/// The two URLs of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoints {
    pub(crate) config: String,
    pub(crate) socket: String,
}

impl Endpoints {
    /// From an http(s) or ws(s) base URL; a trailing `/ws` names the socket itself.
    pub(crate) fn from_url(url: &str) -> Result<Self, ClientError> {
        let invalid = || ClientError::Url(url.to_owned());
        let (scheme, rest) = url.trim().split_once("://").ok_or_else(invalid)?;
        let (http, ws) = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => ("http", "ws"),
            "https" | "wss" => ("https", "wss"),
            _ => return Err(invalid()),
        };
        let rest = rest
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .trim_end_matches('/');
        let base = rest.strip_suffix("/ws").unwrap_or(rest);
        if base.is_empty() || base.starts_with('/') {
            return Err(invalid());
        }
        Ok(Self {
            config: format!("{http}://{base}/config"),
            socket: format!("{ws}://{base}/ws"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(url: &str) -> (String, String) {
        let endpoints = Endpoints::from_url(url).unwrap();
        (endpoints.config, endpoints.socket)
    }

    #[test]
    fn any_form_of_the_base_url_works() {
        let local = (
            "http://127.0.0.1:3000/config".to_owned(),
            "ws://127.0.0.1:3000/ws".to_owned(),
        );
        for url in [
            "http://127.0.0.1:3000",
            "http://127.0.0.1:3000/",
            "ws://127.0.0.1:3000/ws",
            "WS://127.0.0.1:3000/ws/",
        ] {
            assert_eq!(urls(url), local, "{url}");
        }
        assert_eq!(
            urls("https://3000-abc.e2b.app/prefix?x=1"),
            (
                "https://3000-abc.e2b.app/prefix/config".to_owned(),
                "wss://3000-abc.e2b.app/prefix/ws".to_owned()
            )
        );
    }

    #[test]
    fn other_urls_are_refused_clearly() {
        for url in ["", "127.0.0.1:3000", "ftp://x", "http://", "http:///ws"] {
            let error = Endpoints::from_url(url).unwrap_err().to_string();
            assert!(error.contains("connectionUrl"), "{url}: {error}");
        }
    }
}
