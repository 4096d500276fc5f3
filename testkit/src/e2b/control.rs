//! The control plane's REST routes (`POST /sandboxes` and the rest), each request body and each
//! answer checked against E2B's spec; and the test-only `GET /_mock/sandboxes`.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

use super::{
    Shared,
    answer::{self, Answer, Failure},
    registry::{Info, KilledBy, RecordedCall},
    sandbox::{BootError, EnvdAccess, Machine},
    spec::{Operation, Schema, Spec, SpecError},
};

/// `NewSandbox.timeout`'s default in the spec, in seconds.
const DEFAULT_TIMEOUT: u64 = 15;
/// E2B answers every sandbox with this deprecated `clientID`.
const CLIENT_ID: &str = "6532622b";
/// Recent enough for the SDKs, which refuse a sandbox whose envd is older than 0.1.0.
const ENVD_VERSION: &str = "0.2.0";
const UNAUTHORIZED: &str =
    "Invalid API key, please visit https://e2b.dev/docs/api-key for more information.";

/// The spec's operations that the mock serves.
#[derive(Debug)]
pub(crate) struct Operations {
    create: Operation,
    detail: Operation,
    kill: Operation,
    set_timeout: Operation,
    list: Operation,
    /// E2B's `Error`, which answers a request that breaks the spec whatever the operation.
    error: Schema,
}

impl Operations {
    pub(crate) fn load(spec: &Spec) -> Result<Self, SpecError> {
        Ok(Self {
            create: spec.operation("post", "/sandboxes")?,
            detail: spec.operation("get", "/sandboxes/{sandboxID}")?,
            kill: spec.operation("delete", "/sandboxes/{sandboxID}")?,
            set_timeout: spec.operation("post", "/sandboxes/{sandboxID}/timeout")?,
            list: spec.operation("get", "/v2/sandboxes")?,
            error: spec.schema("Error")?,
        })
    }

    fn respond(&self, operation: &Operation, result: Result<Answer, Failure>) -> Response {
        answer::send(operation, &self.error, result)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // As E2B's API: any origin, so that the client can create sandboxes from a browser page.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            HeaderName::from_static("x-next-token"),
            HeaderName::from_static("x-total-running"),
        ]);
    Router::new()
        .route("/sandboxes", post(create))
        // The current SDK's create; the vendored spec predates it, and its body (NewSandboxV2)
        // is NewSandbox less `secure`, so NewSandbox checks it.
        .route("/v2/sandboxes", post(create).get(list))
        .route("/sandboxes/{sandboxID}", get(detail).delete(kill))
        .route("/sandboxes/{sandboxID}/timeout", post(set_timeout))
        .route("/_mock/sandboxes", get(records))
        .fallback(|| async { answer::error(StatusCode::NOT_FOUND, "Not found") })
        .layer(cors)
        .with_state(shared)
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Failure> {
    match headers.get("x-api-key") {
        Some(key) if key.as_bytes() == shared.api_key.as_bytes() => Ok(()),
        _ => Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            UNAUTHORIZED.to_owned(),
        )),
    }
}

/// The request's JSON body, if the operation's schema takes it; else 400.
fn parse(operation: &Operation, body: &[u8]) -> Result<Value, Failure> {
    let value: Value =
        serde_json::from_slice(body).map_err(|err| Failure::rejected(&err.to_string()))?;
    operation
        .check_request(&value)
        .map_err(|mismatch| Failure::rejected(&mismatch.to_string()))?;
    Ok(value)
}

/// A checked body's `timeout`, or `default`: the spec's `format: int32`, which its validator
/// leaves unchecked, bounds it.
fn timeout(body: &Value, default: u64) -> Result<Duration, Failure> {
    let seconds = body
        .get("timeout")
        .and_then(Value::as_u64)
        .unwrap_or(default);
    match seconds <= i32::MAX as u64 {
        true => Ok(Duration::from_secs(seconds)),
        false => Err(Failure::rejected("timeout: not an int32")),
    }
}

fn call(method: &str, uri: &Uri, body: Value) -> RecordedCall {
    RecordedCall {
        method: method.to_owned(),
        path: uri.path().to_owned(),
        body,
    }
}

async fn create(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = create_sandbox(&shared, &uri, &headers, &body).await;
    shared.operations.respond(&shared.operations.create, result)
}

async fn create_sandbox(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Answer, Failure> {
    authorize(shared, headers)?;
    let request = parse(&shared.operations.create, body)?;
    let template = request["templateID"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let timeout = timeout(&request, DEFAULT_TIMEOUT)?;
    // The request's `envVars` are recorded, not used: they never reach the server, which runs
    // from the template's snapshot (see `Machine::boot`).
    let failed = |message: String| {
        Failure::new(StatusCode::INTERNAL_SERVER_ERROR, message).code("sandbox_create_failed")
    };
    let id = random_id(20);
    let envd_token = access_token().map_err(|err| failed(err.to_string()))?;
    let envd = EnvdAccess {
        token: envd_token.clone(),
        journal: shared.registry.journal(&id),
    };
    let machine = Machine::boot(&shared.images, &template, envd)
        .await
        .map_err(|err| match err {
            // E2B's API answers 404 here, which the spec does not declare: 400 is.
            BootError::UnknownTemplate(_) => Failure::new(StatusCode::BAD_REQUEST, err.to_string()),
            BootError::Setup(_) | BootError::ServerFailed => failed(err.to_string()),
        })?;
    let now = SystemTime::now();
    let info = Info {
        id,
        template,
        envd_access_token: envd_token,
        started_at: now,
        end_at: now + timeout,
        metadata: request
            .get("metadata")
            .cloned()
            .unwrap_or_else(|| json!({})),
    };
    let sandbox = json!({
        "templateID": info.template,
        "sandboxID": info.id,
        "alias": info.template,
        "clientID": CLIENT_ID,
        "envdVersion": ENVD_VERSION,
        "envdAccessToken": info.envd_access_token,
        "trafficAccessToken": null,
        "domain": shared.domain,
    });
    let create = call("POST", uri, request);
    shared.registry.insert(info, machine, create, timeout);
    Ok(Answer::json(StatusCode::CREATED, sandbox))
}

async fn detail(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let result = authorize(&shared, &headers).and_then(|()| {
        shared.registry.record(&id, call("GET", &uri, Value::Null));
        let info = shared
            .registry
            .running(&id)
            .ok_or_else(|| Failure::sandbox_not_found(&id))?;
        let mut detail = listed(&info);
        detail["envdAccessToken"] = json!(info.envd_access_token);
        detail["domain"] = json!(shared.domain);
        detail["lifecycle"] = json!({"autoResume": false, "onTimeout": "kill"});
        Ok(Answer::json(StatusCode::OK, detail))
    });
    shared.operations.respond(&shared.operations.detail, result)
}

async fn kill(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let killed = authorize(&shared, &headers).and_then(|()| {
        shared
            .registry
            .record(&id, call("DELETE", &uri, Value::Null));
        shared
            .registry
            .kill(&id, KilledBy::Request)
            .ok_or_else(|| Failure::sandbox_not_found(&id))
    });
    let result = match killed {
        // Answered once the server has exited, as E2B answers once the VM is gone.
        Ok(machine) => {
            machine.stop().await;
            Ok(Answer::empty())
        }
        Err(failure) => Err(failure),
    };
    shared.operations.respond(&shared.operations.kill, result)
}

async fn set_timeout(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = authorize(&shared, &headers).and_then(|()| {
        let request = parse(&shared.operations.set_timeout, &body)?;
        let timeout = timeout(&request, 0)?;
        shared.registry.record(&id, call("POST", &uri, request));
        match shared.registry.set_timeout(&id, timeout) {
            true => Ok(Answer::empty()),
            false => Err(Failure::sandbox_not_found(&id)),
        }
    });
    shared
        .operations
        .respond(&shared.operations.set_timeout, result)
}

async fn list(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let result = authorize(&shared, &headers).and_then(|()| list_running(&shared, uri.query()));
    shared.operations.respond(&shared.operations.list, result)
}

/// `GET /v2/sandboxes`: the running sandboxes, filtered by `metadata`, `state` and `template`,
/// in `order` of start, a page of `limit` from `nextToken` on.
fn list_running(shared: &Shared, query: Option<&str>) -> Result<Answer, Failure> {
    let bad = |message: &str| Failure::new(StatusCode::BAD_REQUEST, message.to_owned());
    let mut running = true;
    let mut metadata = Vec::new();
    let mut template = None;
    let mut newest_first = true;
    let mut limit = 100;
    let mut offset = 0;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*key {
            "metadata" => {
                metadata = form_urlencoded::parse(value.as_bytes())
                    .into_owned()
                    .collect();
            }
            "state" => {
                let states: Vec<&str> = value.split(',').collect();
                if states
                    .iter()
                    .any(|state| !["running", "paused"].contains(state))
                {
                    return Err(bad("state must be running or paused"));
                }
                // No sandbox is ever paused here.
                running = states.contains(&"running");
            }
            "template" => template = Some(value.into_owned()),
            "order" => newest_first = value != "asc",
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|limit| (1..=100).contains(limit))
                    .ok_or_else(|| bad("limit must be between 1 and 100"))?;
            }
            "nextToken" => offset = value.parse().map_err(|_| bad("invalid next token"))?,
            _ => {}
        }
    }
    let mut matching: Vec<Info> = shared
        .registry
        .running_all()
        .into_iter()
        .filter(|_| running)
        .filter(|info| template.as_ref().is_none_or(|t| *t == info.template))
        .filter(|info| {
            metadata
                .iter()
                .all(|(key, value)| info.metadata.get(key).and_then(Value::as_str) == Some(value))
        })
        .collect();
    if newest_first {
        matching.reverse();
    }
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(listed)
        .collect();
    let mut answer = Answer::json(StatusCode::OK, Value::Array(page));
    let total = HeaderValue::from(matching.len());
    answer
        .headers
        .push((HeaderName::from_static("x-total-running"), total));
    if offset + limit < matching.len() {
        let next = HeaderValue::from(offset + limit);
        answer
            .headers
            .push((HeaderName::from_static("x-next-token"), next));
    }
    Ok(answer)
}

/// A running sandbox as `ListedSandbox`, which `SandboxDetail` extends.
fn listed(info: &Info) -> Value {
    let time = |t: SystemTime| humantime::format_rfc3339_millis(t).to_string();
    json!({
        "templateID": info.template,
        "alias": info.template,
        "sandboxID": info.id,
        "clientID": CLIENT_ID,
        "startedAt": time(info.started_at),
        "endAt": time(info.end_at),
        "cpuCount": 2,
        "memoryMB": 1024,
        "diskSizeMB": 5120,
        "metadata": info.metadata,
        "state": "running",
        "envdVersion": ENVD_VERSION,
    })
}

async fn records(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.registry.records()).into_response()
}

/// A sandbox's `envdAccessToken`: the one secret that lets its creator write the server's token,
/// so unguessable (16 random bytes, in hex).
fn access_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Lowercase letters and digits, as E2B's sandbox IDs.
fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}
