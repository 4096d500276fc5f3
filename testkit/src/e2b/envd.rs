//! A sandbox's envd, as much of it as a client of the server template uses: `GET /health`, and
//! `POST /files`, which writes files into the sandbox (the server's token first of all) for
//! whoever holds the `envdAccessToken` its create answered. Each sandbox has its own, on a free
//! port of 127.0.0.1, which the proxy serves at `49983-<sandboxID>.<domain>` as E2B's does.

use std::{
    io::{self, Write},
    net::{Ipv4Addr, SocketAddr},
    path::{Component, Path, PathBuf},
    sync::Arc,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{FromRequest, Multipart, Query, Request, State, multipart::MultipartError},
    http::{HeaderMap, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, DropGuard};
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

use super::registry::{EnvdCall, Journal};

/// The port of envd in a sandbox.
pub const ENVD_PORT: u16 = 49983;

/// A sandbox's running envd, stopped on drop.
#[derive(Debug)]
pub(crate) struct Envd {
    addr: SocketAddr,
    _stop: DropGuard,
}

/// What the routes share.
#[derive(Debug)]
struct Sandbox {
    /// The sandbox's `/`. Held here too, so that a write still under way when the sandbox is
    /// killed cannot create folders again where it was.
    root: Arc<TempDir>,
    access_token: String,
    journal: Journal,
}

impl Envd {
    /// Serves the sandbox whose `/` is `root`, for whoever sends `access_token`; each request
    /// recorded in `journal`.
    pub(crate) async fn start(
        root: Arc<TempDir>,
        access_token: String,
        journal: Journal,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let sandbox = Arc::new(Sandbox {
            root,
            access_token,
            journal,
        });
        let routes = Router::new()
            .route("/health", get(|| async { StatusCode::NO_CONTENT }))
            .route("/files", post(upload))
            .fallback(|| async { EnvdError::NotFound })
            .layer(middleware::from_fn_with_state(Arc::clone(&sandbox), record))
            // As E2B's envd: pages of any origin write files (the e2b SDK does from browsers).
            .layer(
                CorsLayer::new()
                    .allow_origin(Any)
                    .allow_methods(Any)
                    .allow_headers(AllowHeaders::mirror_request()),
            )
            .with_state(sandbox);
        let stop = CancellationToken::new();
        let serving =
            axum::serve(listener, routes).with_graceful_shutdown(stop.clone().cancelled_owned());
        tokio::spawn(async move {
            if let Err(err) = serving.await {
                eprintln!("e2b mock: envd failed: {err}");
            }
        });
        Ok(Self {
            addr,
            _stop: stop.drop_guard(),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Records the request once it is answered.
async fn record(State(sandbox): State<Arc<Sandbox>>, request: Request, next: Next) -> Response {
    let query = form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let mut headers: Vec<String> = request
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .collect();
    headers.sort();
    headers.dedup();
    let mut call = EnvdCall {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        query,
        headers,
        status: 0,
    };
    let response = next.run(request).await;
    call.status = response.status().as_u16();
    sandbox.journal.record(call);
    response
}

#[derive(Debug, Deserialize)]
struct Target {
    path: Option<String>,
    username: Option<String>,
}

/// `POST /files`: the body (`application/octet-stream`) written at `?path=`, or each `file` of a
/// `multipart/form-data` body at `?path=` else at its file name, as E2B's SDK sends them.
async fn upload(
    State(sandbox): State<Arc<Sandbox>>,
    Query(target): Query<Target>,
    headers: HeaderMap,
    request: Request,
) -> Result<Json<Vec<Value>>, EnvdError> {
    let token = headers.get("x-access-token").map(|value| value.as_bytes());
    if token != Some(sandbox.access_token.as_bytes()) {
        return Err(EnvdError::AccessToken);
    }
    // envd's users; either may write anywhere here, where the mock's user owns every file.
    if let Some(user) = target
        .username
        .filter(|user| !["root", "user"].contains(&&**user))
    {
        return Err(EnvdError::User(user));
    }
    let files = match is_multipart(&headers) {
        true => parts(request, target.path).await?,
        false => {
            let path = target.path.ok_or(EnvdError::NoPath)?;
            let content = Bytes::from_request(request, &())
                .await
                .map_err(|err| EnvdError::Body(err.body_text()))?;
            vec![(path, content)]
        }
    };
    let mut written = Vec::new();
    for (path, content) in files {
        let file = inside(sandbox.root.path(), &path)?;
        let wrote = tokio::task::spawn_blocking(move || write(&file, &content))
            .await
            .map_err(io::Error::other)
            .and_then(|result| result);
        wrote.map_err(|source| EnvdError::Write {
            path: path.clone(),
            source,
        })?;
        let name = Path::new(&path).file_name().unwrap_or_default();
        written.push(json!({"path": path, "name": name.to_string_lossy(), "type": "file"}));
    }
    Ok(Json(written))
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"))
}

/// Each `file` part of a multipart body, with the path it goes to: `path` if given, else its
/// file name.
async fn parts(request: Request, path: Option<String>) -> Result<Vec<(String, Bytes)>, EnvdError> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|err| EnvdError::Body(err.body_text()))?;
    let mut files = Vec::new();
    while let Some(field) = multipart.next_field().await? {
        if field.name() != Some("file") {
            continue;
        }
        let to = path
            .clone()
            .or_else(|| field.file_name().map(str::to_owned));
        files.push((to.ok_or(EnvdError::NoPath)?, field.bytes().await?));
    }
    match files.is_empty() {
        true => Err(EnvdError::NoFile),
        false => Ok(files),
    }
}

/// Where the sandbox path `path` is under `root`: it must be absolute, name a file and hold no
/// `..`, which could climb out of the sandbox.
fn inside(root: &Path, path: &str) -> Result<PathBuf, EnvdError> {
    let bad = |reason| EnvdError::Path {
        path: path.to_owned(),
        reason,
    };
    let sandboxed = Path::new(path);
    if !sandboxed.is_absolute() {
        return Err(bad("it is not absolute"));
    }
    if sandboxed.components().any(|c| c == Component::ParentDir) {
        return Err(bad("it holds a `..`"));
    }
    if sandboxed.file_name().is_none() {
        return Err(bad("it names no file"));
    }
    Ok(root.join(sandboxed.strip_prefix("/").unwrap_or(sandboxed)))
}

/// Writes `content` to `file`, creating its folders. Whole or not at all (a temporary file
/// renamed into place): the server reads its token file as soon as it appears, and would take
/// a half-written token for good.
fn write(file: &Path, content: &[u8]) -> io::Result<()> {
    let folder = file.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(folder)?;
    let mut temporary = tempfile::NamedTempFile::new_in(folder)?;
    temporary.write_all(content)?;
    temporary.persist(file)?;
    Ok(())
}

/// What envd refuses, answered as its `Error {message, code}`.
#[derive(Debug, thiserror::Error)]
enum EnvdError {
    #[error("invalid access token: send the sandbox's envdAccessToken as X-Access-Token")]
    AccessToken,
    #[error("invalid user: '{0}'")]
    User(String),
    #[error("no path: give ?path=, or a multipart file named by its path")]
    NoPath,
    #[error("no `file` part in the multipart body")]
    NoFile,
    #[error("invalid path '{path}': {reason}")]
    Path { path: String, reason: &'static str },
    #[error("cannot read the body: {0}")]
    Body(String),
    #[error("invalid multipart body: {0}")]
    Multipart(#[from] MultipartError),
    #[error("cannot write '{path}': {source}")]
    Write { path: String, source: io::Error },
    #[error("not found")]
    NotFound,
}

impl IntoResponse for EnvdError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::AccessToken | Self::User(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Write { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({"message": self.to_string(), "code": status.as_u16()});
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_paths_without_dot_dot_land_inside_the_root() {
        let root = Path::new("/tmp/sandbox");
        assert_eq!(
            inside(root, "/home/user/.claude-agent-server/token").unwrap(),
            Path::new("/tmp/sandbox/home/user/.claude-agent-server/token")
        );
        for refused in [
            "home/user/token",
            "/home/user/../../etc/passwd",
            "/..",
            "/",
            "",
        ] {
            assert!(
                matches!(inside(root, refused), Err(EnvdError::Path { .. })),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_write_creates_the_folders_and_replaces_the_file() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("home/user/.claude-agent-server/token");
        write(&file, b"first").unwrap();
        write(&file, b"second").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"second");
        // No temporary file left beside it.
        let folder = std::fs::read_dir(file.parent().unwrap()).unwrap();
        assert_eq!(folder.count(), 1);
    }
}
