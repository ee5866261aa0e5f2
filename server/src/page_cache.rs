//! Render once, serve many: the catalog (`/`, with any search query) and the
//! catalog's app pages (`/apps/<id>`) are built from data shipped in the
//! binary, so for everyone with the same role and label they are the same
//! bytes. They are rendered and compressed once per (address, role, label,
//! accepted encodings) and then served from memory: a room full of people
//! opening a share link costs one render. Pages that show live state (My
//! apps, Running, an installed app, System, Settings) are never cached.

use app::auth::Viewer;
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Distinct pages kept (search queries make many); past this the cache
/// starts over rather than grow.
const MAX_ENTRIES: usize = 512;
/// A page bigger than this is not kept (the catalog is ~160 KB raw).
const MAX_BODY: usize = 4 << 20;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Key {
    path_and_query: String,
    role: &'static str,
    label: String,
    accept_encoding: String,
}

#[derive(Clone)]
struct Page {
    headers: HeaderMap,
    body: Bytes,
}

/// The shared cache; cheap to clone.
#[derive(Clone, Default)]
pub struct PageCache {
    pages: Arc<Mutex<HashMap<Key, Page>>>,
}

impl PageCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many pages are kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Page>> {
        // A poisoned lock only means a panic elsewhere; the map is whole.
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &Key) -> Option<Page> {
        self.lock().get(key).cloned()
    }

    fn put(&self, key: Key, page: Page) {
        let mut pages = self.lock();
        if pages.len() >= MAX_ENTRIES {
            pages.clear();
        }
        pages.insert(key, page);
    }
}

/// Whether `path` is a page that is the same for everyone of a role.
fn shared_page(path: &str) -> bool {
    path == "/"
        || path
            .strip_prefix("/apps/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// Axum middleware (inside the auth gate, outside compression): serves a
/// kept copy of shared pages, keeping the first successful render.
pub async fn serve(State(cache): State<PageCache>, req: Request, next: Next) -> Response {
    let Some(key) = key_of(&req) else {
        return next.run(req).await;
    };
    if let Some(page) = cache.get(&key) {
        let mut response = Body::from(page.body).into_response();
        *response.headers_mut() = page.headers;
        return response;
    }
    let response = next.run(req).await;
    // Only a plain success is shared: never a redirect, an error, or a
    // response that sets a cookie.
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(err) => {
            tracing::warn!(
                page = key.path_and_query,
                "could not read a page to keep: {err}"
            );
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response();
        }
    };
    cache.put(
        key,
        Page {
            headers: parts.headers.clone(),
            body: body.clone(),
        },
    );
    Response::from_parts(parts, Body::from(body))
}

fn key_of(req: &Request) -> Option<Key> {
    if req.method() != Method::GET || !shared_page(req.uri().path()) {
        return None;
    }
    let viewer = req.extensions().get::<Viewer>()?;
    let accept_encoding = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Some(Key {
        path_and_query: req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string()),
        role: viewer.role.as_str(),
        label: viewer.label.clone(),
        accept_encoding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_catalog_and_its_app_pages_are_shared() {
        for path in ["/", "/apps/comfyui", "/apps/a.b-c"] {
            assert!(shared_page(path), "{path}");
        }
        for path in [
            "/my",
            "/running",
            "/app/x",
            "/apps/",
            "/apps/x/y",
            "/system",
            "/settings",
            "/api/view/apps",
        ] {
            assert!(!shared_page(path), "{path}");
        }
    }
}
