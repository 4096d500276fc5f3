//! The demo page (`www/`) at `/`, and beside it, at `/client/`, the built npm package it loads.

use std::path::{Path, PathBuf};

use axum::{Router, handler::HandlerWithoutStateExt};
use tower_http::services::{ServeDir, ServeFile};

use super::not_found;

/// This repository's `www/`, for a server run from its checkout.
const WWW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../www");
/// This repository's `npm/`, where `npm run build --prefix npm` puts the client.
const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../npm");

/// Where the page and the client package are.
#[derive(Debug, Clone)]
pub(crate) struct WwwDirs {
    pub(crate) www: PathBuf,
    pub(crate) client: PathBuf,
}

impl WwwDirs {
    /// The given folders, else this repository's.
    pub(crate) fn new(www: Option<&Path>, client: Option<&Path>) -> Self {
        Self {
            www: www.map_or_else(|| PathBuf::from(WWW), Path::to_path_buf),
            client: client.map_or_else(|| PathBuf::from(CLIENT), Path::to_path_buf),
        }
    }

    /// `/` and `/client/`: only the package's browser entry and its `pkg/` are served, not the
    /// rest of its folder. Anything missing is the server's plain 404.
    pub(crate) fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let files = |dir: &Path| {
            ServeDir::new(dir)
                .call_fallback_on_method_not_allowed(true)
                .not_found_service(not_found.into_service())
        };
        Router::new()
            .route_service("/client/web.js", ServeFile::new(self.client.join("web.js")))
            .nest_service("/client/pkg", files(&self.client.join("pkg")))
            .fallback_service(files(&self.www))
    }
}
