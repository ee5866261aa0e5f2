//! The site's files under `/pkg/` (the WASM bundle, its JS and CSS) sent
//! brotli-compressed at the best level, compressed once per process instead
//! of on every request. Best-level brotli of the 2 MB bundle takes seconds,
//! so it runs in the background on the first request for each file; until it
//! is ready (and for clients that do not accept `br`), the response goes
//! through the ordinary, cheap compression. A file that changes on disk is
//! compressed again.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Brotli's best quality.
const QUALITY: u32 = 11;

/// One file as it was on disk when compressed.
#[derive(Clone, PartialEq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    /// A validator for the precompressed copy: browsers revalidate with it
    /// and get a 304 instead of the bundle again.
    fn etag(&self) -> String {
        let nanos = self
            .modified
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        format!("\"{:x}-{nanos:x}-br\"", self.len)
    }
}

enum Entry {
    Compressing,
    Ready { stamp: Stamp, br: Bytes },
}

/// Compressed site files; cheap to clone.
#[derive(Clone)]
pub struct AssetCache {
    /// The folder `/pkg/` is served from.
    pkg: Arc<PathBuf>,
    files: Arc<Mutex<HashMap<String, Entry>>>,
}

impl AssetCache {
    /// For the site at `site_root` (its `pkg/` folder).
    pub fn new(site_root: &Path) -> Self {
        Self {
            pkg: Arc::new(site_root.join("pkg")),
            files: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A poisoned lock only means a panic elsewhere; the map is whole.
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The ready brotli body of `name` and the file's stamp when it still
    /// matches the file; otherwise starts compressing it (once) and answers
    /// `None`.
    fn brotli_of(&self, name: &str) -> Option<(Bytes, Stamp)> {
        let path = self.pkg.join(name);
        let stamp = stamp_of(&path)?;
        let mut files = self.lock();
        match files.get(name) {
            Some(Entry::Ready { stamp: s, br }) if *s == stamp => return Some((br.clone(), stamp)),
            Some(Entry::Compressing) => return None,
            _ => {}
        }
        files.insert(name.to_string(), Entry::Compressing);
        drop(files);
        let cache = self.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || {
            let done = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|data| compress(&data).map_err(|e| e.to_string()));
            let mut files = cache.lock();
            match done {
                Ok(br) => {
                    files.insert(name, Entry::Ready { stamp, br });
                }
                Err(err) => {
                    tracing::warn!(file = %path.display(), "cannot precompress: {err}");
                    files.remove(&name);
                }
            }
        });
        None
    }
}

fn stamp_of(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    Some(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

fn compress(data: &[u8]) -> std::io::Result<Bytes> {
    crate::compression::brotli(data, QUALITY).map(Bytes::from)
}

/// Whether the request accepts brotli (`br`, not refused with `q=0`).
fn accepts_br(req: &Request) -> bool {
    crate::compression::accepted(req.headers()) == Some(crate::compression::Encoding::Brotli)
}

/// `/pkg/<file>` with a plain file name (never a path out of the folder).
fn asset_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix("/pkg/")?;
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    plain.then_some(name)
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("wasm") => "application/wasm",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Axum middleware (outside the ordinary compression): answers `/pkg/`
/// requests that accept brotli from the precompressed copy when it is ready,
/// with an `ETag`, and a 304 when the browser already has that copy. The
/// names are not content-hashed, so browsers must ask each time
/// (`no-cache`); the answer is a few hundred bytes instead of the bundle.
pub async fn serve(State(cache): State<AssetCache>, req: Request, next: Next) -> Response {
    let name = match (req.method() == Method::GET, asset_name(req.uri().path())) {
        (true, Some(name)) if accepts_br(&req) => name.to_string(),
        _ => return next.run(req).await,
    };
    let Some((br, stamp)) = cache.brotli_of(&name) else {
        return next.run(req).await;
    };
    let etag = stamp.etag();
    let unchanged = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Body::from(br).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&name)),
        );
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(accept: Option<&str>) -> Request {
        let mut req = Request::new(Body::empty());
        if let Some(a) = accept {
            req.headers_mut()
                .insert(header::ACCEPT_ENCODING, HeaderValue::from_str(a).unwrap());
        }
        req
    }

    #[test]
    fn brotli_is_used_only_when_accepted() {
        assert!(accepts_br(&request(Some("gzip, deflate, br, zstd"))));
        assert!(accepts_br(&request(Some("br;q=0.5"))));
        assert!(!accepts_br(&request(Some("gzip"))));
        assert!(!accepts_br(&request(Some("br;q=0, gzip"))));
        assert!(!accepts_br(&request(None)));
    }

    #[test]
    fn only_plain_files_of_the_pkg_folder_are_taken() {
        assert_eq!(
            asset_name("/pkg/pinokiocloud.wasm"),
            Some("pinokiocloud.wasm")
        );
        for path in [
            "/pkg/",
            "/pkg/../x",
            "/pkg/a/b.js",
            "/pkg/.hidden",
            "/other.js",
        ] {
            assert_eq!(asset_name(path), None, "{path}");
        }
    }
}
