//! The gate in front of the routes: every request but the health check and the page's own
//! files presents the token (see `crate::auth`); the page's URL trades a `?token=` for a cookie.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::error::ApiError;
use crate::auth::{Auth, Refusal, set_cookie};

/// The client's address, for counting its wrong tokens.
fn peer(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

/// Lets in only requests that present the token (or pass the origin check, with `--no-auth`).
pub(super) async fn require(
    State(auth): State<Arc<Auth>>,
    request: Request,
    next: Next,
) -> Response {
    match auth.check(request.headers(), request.uri(), peer(&request)) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refused(refusal),
    }
}

/// `GET /?token=…`: sets the page's cookie and sends the browser to the page without the token
/// in its address bar or history.
pub(super) async fn login(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    if request.uri().path() != "/" {
        return next.run(request).await;
    }
    match auth.login(request.uri(), peer(&request)) {
        None => next.run(request).await,
        Some(Err(refusal)) => refused(refusal),
        Some(Ok(token)) => {
            let https = request
                .headers()
                .get("x-forwarded-proto")
                .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
            let cookie = set_cookie(&token, https);
            // Percent-encoded, so always a valid header.
            let location =
                HeaderValue::from_str(&without_token(request.uri().query().unwrap_or_default()))
                    .unwrap_or(HeaderValue::from_static("./"));
            let mut response =
                (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
            if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
    }
}

/// The page's address with the rest of its query (`?session=…`), relative so that it holds
/// behind a proxy that serves the page under a prefix.
fn without_token(query: &str) -> String {
    let rest = form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| key != "token");
    let rest = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(rest)
        .finish();
    match rest.is_empty() {
        true => "./".to_owned(),
        false => format!("./?{rest}"),
    }
}

fn refused(refusal: Refusal) -> Response {
    let wait = match &refusal {
        Refusal::Locked(wait) => Some(wait.as_secs().max(1)),
        _ => None,
    };
    let unauthorized = matches!(refusal, Refusal::Missing | Refusal::Wrong);
    let mut response = ApiError::Refused(refusal).into_response();
    let headers = response.headers_mut();
    if let Some(seconds) = wait {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if unauthorized {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"claude-agent-server\""),
        );
    }
    response
}
