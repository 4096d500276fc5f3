//! Which host names the server answers to. A web page can point a name of its own at
//! 127.0.0.1 (DNS rebinding) and then be the server's own origin: so a request must name the
//! server by an IP address, `localhost`, or a name given to `--allowed-host`.

use std::{net::IpAddr, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The host names allowed besides IP addresses and `localhost`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hosts {
    any: bool,
    /// Lowercase names; one starting with `.` also allows its subdomains.
    names: Vec<String>,
}

impl Hosts {
    /// From `--allowed-host`: names such as `agent.example.com`, `.e2b.app`, or `*` for any.
    pub(crate) fn new(allowed: &[String]) -> Self {
        Self {
            any: allowed.iter().any(|name| name == "*"),
            names: allowed
                .iter()
                .map(|name| name.to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether a request's `Host` (name and optional port) is one this server answers to.
    pub(crate) fn allow(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        self.any
            || name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self
                .names
                .iter()
                .any(|allowed| match allowed.strip_prefix('.') {
                    Some(domain) => name == domain || name.ends_with(allowed.as_str()),
                    None => name == *allowed,
                })
    }
}

/// `host` without its port, and an IPv6 address without its brackets.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Refuses requests that name the server by a host it does not answer to, or by none (HTTP/1.1
/// requires `Host`; without one, the check could not be made).
pub(crate) async fn check(
    State(hosts): State<Arc<Hosts>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    match host {
        Some(host) if !hosts.allow(host) => {
            tracing::warn!(host, "refused a request for another host");
            let refusal = format!(
                "Host {host:?} is not allowed: start the server with --allowed-host to allow it"
            );
            (StatusCode::FORBIDDEN, refusal).into_response()
        }
        None => (StatusCode::BAD_REQUEST, "A request needs a Host header").into_response(),
        Some(_) => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_localhost_are_allowed_and_other_names_only_when_listed() {
        let default = Hosts::new(&[]);
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST",
            "[::1]:3000",
            "10.0.0.5",
        ] {
            assert!(default.allow(host), "{host}");
        }
        assert!(default.allow("app.localhost:3000"));
        for host in [
            "evil.example:3000",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
        ] {
            assert!(!default.allow(host), "{host}");
        }

        let listed = Hosts::new(&["agent.example.com".to_owned(), ".e2b.app".to_owned()]);
        assert!(listed.allow("Agent.Example.com:443"));
        assert!(listed.allow("3000-abc.e2b.app"));
        assert!(listed.allow("e2b.app"));
        assert!(!listed.allow("evil-e2b.app"));
        assert!(!listed.allow("sub.agent.example.com"));

        assert!(Hosts::new(&["*".to_owned()]).allow("anything.example"));
    }
}
