//! Render once, serve many. Pages are kept rendered and compressed per
//! (address, role, label, coding sent) and served from memory: a
//! room full of people opening a share link costs one render.
//!
//! - The catalog (`/`, with any search query) and its app pages
//!   (`/apps/<id>`) are built from data shipped in the binary: kept forever.
//! - My apps (`/my`) and Running (`/running`) show the apps' state: kept
//!   until the next app event ([`Apps::emitted`](crate::apps::Apps::emitted)
//!   moves before the event is sent, so the first request after an event
//!   renders afresh) and for at most [`LIVE_TTL`], for what moves without
//!   an event (a download's progress, an uptime, a folder put in by hand).
//! - The rest (an installed app's page, System, Settings, Storage) shows
//!   machine or admin state that changes without app events: never kept.
//!
//! Everything here runs inside the auth gate; only a plain 200 without a
//! cookie is kept, never a redirect or an error.

mod kept;

use app::auth::Viewer;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kept::{Lookup, Page, Pages, Rule};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a live page is kept when no event comes.
pub const LIVE_TTL: Duration = Duration::from_secs(1);
/// Overrides [`LIVE_TTL`] (milliseconds): tests make it long to see that
/// events alone renew pages.
pub const LIVE_TTL_ENV: &str = "PINOKIOCLOUD_LIVE_PAGE_TTL_MS";
/// A page bigger than this is not kept (the catalog is ~160 KB raw).
const MAX_BODY: usize = 4 << 20;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Key {
    path_and_query: String,
    role: &'static str,
    label: String,
    /// The coding the page is sent in: browsers that word their
    /// `Accept-Encoding` differently still share one copy.
    encoding: Option<crate::compression::Encoding>,
}

/// Counts app events; a live page is kept while it stands still.
pub type Generation = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The shared cache; cheap to clone.
#[derive(Clone)]
pub struct PageCache {
    pages: Pages<Key>,
    generation: Generation,
    live_ttl: Duration,
}

impl PageCache {
    /// A cache whose live pages follow `generation` (in the server, the
    /// apps' event count).
    pub fn new(generation: Generation) -> Self {
        let live_ttl = std::env::var(LIVE_TTL_ENV)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(LIVE_TTL, Duration::from_millis);
        Self {
            pages: Pages::default(),
            generation,
            live_ttl,
        }
    }

    /// How many pages are kept now.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long `path`'s page may be kept, if at all.
    fn rule(&self, path: &str) -> Option<Rule> {
        if path == "/"
            || path
                .strip_prefix("/apps/")
                .is_some_and(|id| !id.is_empty() && !id.contains('/'))
        {
            Some(Rule::Forever)
        } else if matches!(path, "/my" | "/running") {
            Some(Rule::UntilEvent(self.live_ttl))
        } else {
            None
        }
    }
}

/// Axum middleware (inside the auth gate, outside compression): serves a
/// kept copy of the pages [`PageCache::rule`] names; a page asked for by
/// many at once is rendered once.
pub async fn serve(State(cache): State<PageCache>, req: Request, next: Next) -> Response {
    // Read before anything else: a render counts as no newer than this.
    let generation = (cache.generation)();
    let Some((key, rule)) = key_of(&cache, &req) else {
        return next.run(req).await;
    };
    let render = match cache.pages.lookup(&key, rule, generation, Instant::now()) {
        Lookup::Hit(page) => return send(page),
        Lookup::Wait(waiter) => {
            return match waiter.page().await {
                Some(page) => send(page),
                // That render could not be shared: this request renders
                // its own (a redirect, an error, a cookie).
                None => next.run(req).await,
            };
        }
        Lookup::Render(render) => render,
    };
    let response = next.run(req).await;
    // Only a plain success is shared: never a redirect, an error, or a
    // response that sets a cookie.
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        render.keep(None);
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
            render.keep(None);
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response();
        }
    };
    render.keep(Some(Page {
        headers: parts.headers.clone(),
        body: body.clone(),
    }));
    Response::from_parts(parts, Body::from(body))
}

fn send(page: Page) -> Response {
    let mut response = Body::from(page.body).into_response();
    *response.headers_mut() = page.headers;
    response
}

fn key_of(cache: &PageCache, req: &Request) -> Option<(Key, Rule)> {
    if req.method() != Method::GET {
        return None;
    }
    let rule = cache.rule(req.uri().path())?;
    let viewer = req.extensions().get::<Viewer>()?;
    let key = Key {
        path_and_query: req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_string(), |pq| pq.as_str().to_string()),
        role: viewer.role.as_str(),
        label: viewer.label.clone(),
        encoding: crate::compression::accepted(req.headers()),
    };
    Some((key, rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_kept_for_good_live_lists_until_an_event_the_rest_never() {
        let cache = PageCache::new(Arc::new(|| 0));
        for path in ["/", "/apps/comfyui", "/apps/a.b-c"] {
            assert_eq!(cache.rule(path), Some(Rule::Forever), "{path}");
        }
        for path in ["/my", "/running"] {
            assert!(
                matches!(cache.rule(path), Some(Rule::UntilEvent(_))),
                "{path}"
            );
        }
        for path in [
            "/app/x",
            "/apps/",
            "/apps/x/y",
            "/my/x",
            "/system",
            "/settings",
            "/storage",
            "/api/view/apps",
        ] {
            assert_eq!(cache.rule(path), None, "{path}");
        }
    }
}
