//! Where a request carries the token: a header for programs, a cookie for the page, a
//! WebSocket subprotocol entry for browsers' sockets (which cannot set headers), or the query.

use axum::http::{HeaderMap, Uri, header};

/// The page's cookie, set by `GET /?token=`.
pub(crate) const COOKIE: &str = "claude_agent_token";
/// The WebSocket subprotocol the server answers when a client offers its token beside it.
pub(crate) const SUBPROTOCOL: &str = "claude-agent";
/// A subprotocol entry carrying the token: `claude-agent.token.<token>`.
const SUBPROTOCOL_TOKEN: &str = "claude-agent.token.";

/// How a token came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carrier {
    Bearer,
    Subprotocol,
    Query,
    Cookie,
}

impl Carrier {
    /// Whether a browser sends it by itself, so that another site's page could make it send it:
    /// such a request must also come from an allowed origin.
    pub(crate) fn ambient(self) -> bool {
        self == Self::Cookie
    }
}

/// The token a request presents, by the first carrier that has one.
pub(crate) fn presented(headers: &HeaderMap, uri: &Uri) -> Option<(Carrier, String)> {
    bearer(headers)
        .map(|token| (Carrier::Bearer, token.to_owned()))
        .or_else(|| subprotocol(headers).map(|token| (Carrier::Subprotocol, token.to_owned())))
        .or_else(|| query(uri).map(|token| (Carrier::Query, token)))
        .or_else(|| cookie(headers).map(|token| (Carrier::Cookie, token.to_owned())))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn subprotocol(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|entry| entry.trim().strip_prefix(SUBPROTOCOL_TOKEN))
}

/// `token` in the query string.
pub(crate) fn query(uri: &Uri) -> Option<String> {
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then_some(value)
        })
}

/// The `Set-Cookie` value that keeps `token` for the page: not readable by scripts, not sent
/// with requests from other sites, for 30 days; `Secure` when the page came over https.
pub(crate) fn set_cookie(token: &str, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000{secure}")
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn each_carrier_is_read() {
        let uri: Uri = "/ws".parse().unwrap();
        let bearer = with(header::AUTHORIZATION, "Bearer abc");
        assert_eq!(
            presented(&bearer, &uri),
            Some((Carrier::Bearer, "abc".to_owned()))
        );
        let offered = with(
            header::SEC_WEBSOCKET_PROTOCOL,
            "claude-agent, claude-agent.token.abc",
        );
        assert_eq!(
            presented(&offered, &uri),
            Some((Carrier::Subprotocol, "abc".to_owned()))
        );
        let query: Uri = "/ws?after=3&token=a%2Bb".parse().unwrap();
        assert_eq!(
            presented(&HeaderMap::new(), &query),
            Some((Carrier::Query, "a+b".to_owned()))
        );
        let cookie = with(header::COOKIE, "other=1; claude_agent_token=abc");
        assert_eq!(
            presented(&cookie, &uri),
            Some((Carrier::Cookie, "abc".to_owned()))
        );
    }

    #[test]
    fn nothing_else_counts() {
        let uri: Uri = "/ws?tokens=abc".parse().unwrap();
        for headers in [
            HeaderMap::new(),
            with(header::AUTHORIZATION, "Basic abc"),
            with(header::SEC_WEBSOCKET_PROTOCOL, "claude-agent"),
            with(header::COOKIE, "claude_agent_tokenx=abc"),
        ] {
            assert_eq!(presented(&headers, &uri), None, "{headers:?}");
        }
    }

    #[test]
    fn the_cookie_is_kept_from_scripts_and_other_sites() {
        let cookie = set_cookie("abc", false);
        for part in [
            "claude_agent_token=abc",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("Secure"));
        assert!(set_cookie("abc", true).ends_with("; Secure"));
    }
}
