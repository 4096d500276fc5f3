//! Which web pages may use the server. Browsers open a WebSocket from any page without asking
//! (CORS does not cover it), so without this check any website a user visits could drive the
//! agent on their machine: `/ws` accepts a browser's connection only from the server's own
//! origin or one allowed by `--cors-origin`; clients that are no browser send no `Origin`.

use axum::http::{HeaderMap, HeaderValue, header};
use tower_http::cors::AllowOrigin;

/// The origins allowed besides the server's own.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origins {
    any: bool,
    listed: Vec<String>,
}

impl Origins {
    /// From `--cors-origin`: origins such as `http://localhost:5173`, or `*` for any.
    pub(crate) fn new(allowed: &[String]) -> Self {
        Self {
            any: allowed.iter().any(|origin| origin == "*"),
            listed: allowed
                .iter()
                .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether other origins are allowed at all (and a CORS layer is needed).
    pub(crate) fn allows_others(&self) -> bool {
        self.any || !self.listed.is_empty()
    }

    /// The CORS policy for `/config`.
    pub(crate) fn cors(&self) -> AllowOrigin {
        if self.any {
            return AllowOrigin::any();
        }
        AllowOrigin::list(
            self.listed
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    }

    /// Whether a request with these headers may open `/ws`: no `Origin` (not a browser), the
    /// server's own origin (its host as the request names it), or an allowed one.
    pub(crate) fn allow(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.to_ascii_lowercase();
        let own = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .is_some_and(|host| {
                let host = host.to_ascii_lowercase();
                ["http://", "https://"]
                    .iter()
                    .any(|scheme| origin.strip_prefix(scheme) == Some(&host))
            });
        own || self.any || self.listed.contains(&origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    #[test]
    fn browsers_are_let_in_only_from_allowed_origins() {
        let none = Origins::new(&[]);
        assert!(none.allow(&headers(None, "127.0.0.1:3000")));
        assert!(none.allow(&headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000")));
        assert!(none.allow(&headers(Some("HTTPS://Box:3000"), "box:3000")));
        assert!(!none.allow(&headers(Some("http://evil.example"), "127.0.0.1:3000")));
        assert!(!none.allow(&headers(Some("http://127.0.0.1:3001"), "127.0.0.1:3000")));
        assert!(!none.allow(&headers(Some("null"), "127.0.0.1:3000")));

        let listed = Origins::new(&["http://app.example/".to_owned()]);
        assert!(listed.allow(&headers(Some("http://app.example"), "127.0.0.1:3000")));
        assert!(!listed.allow(&headers(Some("http://evil.example"), "127.0.0.1:3000")));

        let any = Origins::new(&["*".to_owned()]);
        assert!(any.allow(&headers(Some("http://evil.example"), "127.0.0.1:3000")));
    }
}
