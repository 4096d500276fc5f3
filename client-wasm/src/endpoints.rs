//! Where a server's routes are, from the one `connectionUrl` a user gives (or the sandbox's):
//! the legacy `/config` and `/ws`, the v1 sessions, the files API; and the token they take.

use crate::{error::ClientError, http::Request};

/// A server's base URLs, in http(s) and ws(s), and its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoints {
    http: String,
    ws: String,
    token: Option<String>,
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
            http: format!("{http}://{base}"),
            ws: format!("{ws}://{base}"),
            token: None,
        })
    }

    /// The same, with the token every route but the health check takes.
    pub(crate) fn with_token(self, token: Option<String>) -> Self {
        Self { token, ..self }
    }

    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// A request to one of the server's routes, with its token.
    pub(crate) fn request(&self, method: &str, url: String) -> Request {
        Request::new(method, url).bearer(self.token())
    }

    /// `GET /healthz`, which answers without a token once the server is up.
    pub(crate) fn health(&self) -> String {
        format!("{}/healthz", self.http)
    }

    /// The files API's `route` (`""`, `/list` or `/watch`) on `path`: the legacy session's
    /// `/files…`, or a v1 session's `/v1/sessions/{id}/files…`.
    pub(crate) fn files(&self, session: Option<&str>, route: &str, path: &str) -> String {
        let base = match session {
            Some(id) => self.session(id),
            None => self.http.clone(),
        };
        format!("{base}/files{route}?path={}", encode(path))
    }

    /// `POST /config`.
    pub(crate) fn config(&self) -> String {
        format!("{}/config", self.http)
    }

    /// `/v1/sessions`.
    pub(crate) fn sessions(&self) -> String {
        format!("{}/v1/sessions", self.http)
    }

    /// `/v1/sessions/{id}`.
    pub(crate) fn session(&self, id: &str) -> String {
        format!("{}/v1/sessions/{}", self.http, encode(id))
    }

    /// The WebSocket: a session's (`/v1/sessions/{id}/ws`) or the legacy `/ws`, resuming after
    /// the frame numbered `after` when given.
    pub(crate) fn socket(&self, session: Option<&str>, after: Option<u64>) -> String {
        let path = match session {
            Some(id) => format!("{}/v1/sessions/{}/ws", self.ws, encode(id)),
            None => format!("{}/ws", self.ws),
        };
        match after {
            Some(seq) => format!("{path}?after={seq}"),
            None => path,
        }
    }
}

/// `id` as one path segment, or a query value: what a server chose is safe already, but an id
/// or a path a user typed may hold `/`, `?`, `&` or spaces.
fn encode(id: &str) -> String {
    let mut encoded = String::with_capacity(id.len());
    for byte in id.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(char::from(byte));
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(url: &str) -> (String, String) {
        let endpoints = Endpoints::from_url(url).unwrap();
        (endpoints.config(), endpoints.socket(None, None))
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
    fn sessions_have_their_own_routes_and_resume_after_a_seq() {
        let endpoints = Endpoints::from_url("https://h:1/p/ws").unwrap();
        assert_eq!(endpoints.sessions(), "https://h:1/p/v1/sessions");
        assert_eq!(endpoints.session("s-1"), "https://h:1/p/v1/sessions/s-1");
        assert_eq!(
            endpoints.socket(Some("a/b c"), Some(42)),
            "wss://h:1/p/v1/sessions/a%2Fb%20c/ws?after=42"
        );
        assert_eq!(endpoints.socket(None, Some(0)), "wss://h:1/p/ws?after=0");
    }

    #[test]
    fn files_are_the_legacy_sessions_or_a_v1_sessions() {
        let endpoints = Endpoints::from_url("http://h:1").unwrap();
        assert_eq!(
            endpoints.files(None, "", "dir/a b&c.txt"),
            "http://h:1/files?path=dir%2Fa%20b%26c.txt"
        );
        assert_eq!(
            endpoints.files(Some("s-1"), "/watch", "."),
            "http://h:1/v1/sessions/s-1/files/watch?path=."
        );
        assert_eq!(endpoints.health(), "http://h:1/healthz");
    }

    #[test]
    fn other_urls_are_refused_clearly() {
        for url in ["", "127.0.0.1:3000", "ftp://x", "http://", "http:///ws"] {
            let error = Endpoints::from_url(url).unwrap_err().to_string();
            assert!(error.contains("connectionUrl"), "{url}: {error}");
        }
    }
}
