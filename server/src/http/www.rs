//! The demo page (`www/`) at `/`, and beside it, at `/client/`, the built npm package it loads.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use axum::{
    Router,
    extract::{Request, State},
    handler::HandlerWithoutStateExt,
    middleware::{self, Next},
    response::Response,
};
use tower_http::services::{ServeDir, ServeFile};

use super::not_found;
use crate::home::Home;

/// Where the page and the client package are.
#[derive(Debug, Clone)]
pub(crate) struct WwwDirs {
    pub(crate) www: PathBuf,
    pub(crate) client: PathBuf,
}

impl WwwDirs {
    /// The given folders, else the server's own (see [`Home`]).
    pub(crate) fn new(www: Option<&Path>, client: Option<&Path>, home: &Home) -> Self {
        Self {
            www: www.map_or_else(|| home.www(), Path::to_path_buf),
            client: client.map_or_else(|| home.client(), Path::to_path_buf),
        }
    }

    /// `/` and `/client/`: only the page's own files (those at the top of its folder, so not
    /// its `tests/`), the package's browser entry (`web.js`, and `events.js` which it imports)
    /// and its `pkg/` are served; none through a
    /// link that leads out of its folder. Anything else is the server's plain 404.
    pub(crate) fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route_service("/client/web.js", ServeFile::new(self.client.join("web.js")))
            .route_service(
                "/client/events.js",
                ServeFile::new(self.client.join("events.js")),
            )
            .nest("/client/pkg", files(&self.client.join("pkg"), true))
            .fallback_service(files(&self.www, false))
    }
}

/// The files of `dir` (and of its subfolders if `nested`).
fn files<S: Clone + Send + Sync + 'static>(dir: &Path, nested: bool) -> Router<S> {
    let serve = ServeDir::new(dir)
        .call_fallback_on_method_not_allowed(true)
        .not_found_service(not_found.into_service());
    let root = Arc::new(Root {
        dir: dir.canonicalize().unwrap_or_else(|_| dir.to_owned()),
        nested,
    });
    Router::new()
        .fallback_service(serve)
        .layer(middleware::from_fn_with_state(root, within))
}

/// A served folder: its real path, and whether its subfolders are served.
#[derive(Debug)]
struct Root {
    dir: PathBuf,
    nested: bool,
}

/// Lets through only requests for files that really lie in the root's folder.
async fn within(State(root): State<Arc<Root>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let nested = path.trim_end_matches('/').contains('/');
    // A link may lead anywhere: the file's real path must still be in the folder.
    let real = root.dir.join(path).canonicalize();
    let inside = real.is_ok_and(|real| real.starts_with(&root.dir)) || path.is_empty();
    if (nested && !root.nested) || !inside {
        return not_found().await;
    }
    next.run(request).await
}
