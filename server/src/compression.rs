//! Dashboard responses compressed whole: brotli at a cheap level with a
//! window sized to the body, else gzip.
//!
//! Why not tower-http's layer: it streams through brotli with the default
//! 4 MiB window, and the encoder allocates (and zeroes) that window and its
//! hash tables for every response in flight. Fifty people loading System at
//! once took the server from 26 to ~330 MiB and spent more time on those
//! tables than on the pages. Pages and server-function replies are small
//! (the largest page is tens of KB), so they are read whole and compressed
//! in one go; a body over [`MAX_BUFFERED`] (or an event stream) is sent as
//! it comes, uncompressed.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use std::io::Write;
use std::time::Duration;

/// Dynamic responses are compressed at this brotli level: within a few
/// percent of the best level's size for HTML, at a fraction of the cost.
pub const BROTLI_QUALITY: u32 = 4;
/// A body bigger than this streams through uncompressed.
const MAX_BUFFERED: usize = 8 << 20;
/// Smaller bodies gain nothing from compression.
const MIN_SIZE: usize = 128;
/// Bodies at least this big are compressed on a blocking thread.
const BLOCKING_SIZE: usize = 256 << 10;

/// A content coding the client accepts, best first.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        })
    }
}

/// The best coding `headers`' `Accept-Encoding` allows (`q=0` refuses one).
pub fn accepted(headers: &HeaderMap) -> Option<Encoding> {
    let value = headers.get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    let allows = |name: &str| {
        value.split(',').any(|part| {
            let mut fields = part.split(';').map(str::trim);
            fields.next().is_some_and(|f| f.eq_ignore_ascii_case(name))
                && !fields.any(|f| f.replace(' ', "").eq_ignore_ascii_case("q=0"))
        })
    };
    if allows("br") {
        Some(Encoding::Brotli)
    } else if allows("gzip") {
        Some(Encoding::Gzip)
    } else {
        None
    }
}

/// `data` as brotli at `quality`, with a window just big enough for it.
pub fn brotli(data: &[u8], quality: u32) -> std::io::Result<Vec<u8>> {
    // Brotli's window is 2^10 to 2^24 bytes; a bigger one finds nothing more
    // in a body that fits, and costs memory and time to set up.
    let window = data
        .len()
        .max(1)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(10, 22);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 1 << 14, quality, window);
        writer.write_all(data)?;
        writer.flush()?;
    }
    Ok(out)
}

fn encode(data: &[u8], encoding: Encoding) -> std::io::Result<Vec<u8>> {
    match encoding {
        Encoding::Brotli => brotli(data, BROTLI_QUALITY),
        Encoding::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(
                Vec::with_capacity(data.len() / 3 + 64),
                flate2::Compression::new(5),
            );
            gz.write_all(data)?;
            gz.finish()
        }
    }
}

/// The response's media type without parameters ("" when it has none).
fn content_kind(response: &Response) -> &str {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map_or("", str::trim)
}

/// What a page stuck in rendering is answered with: a 503 that reloads
/// itself after a second (the next render almost always succeeds).
fn page_not_ready() -> Response {
    let html = "<!DOCTYPE html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"1\">\
                <title>Reloading…</title><p>This page took too long to render on the server; \
                reloading it…</p>";
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether a response of this kind is worth compressing here.
fn compressible(response: &Response) -> bool {
    if response.headers().contains_key(header::CONTENT_ENCODING)
        || matches!(
            response.status(),
            StatusCode::SWITCHING_PROTOCOLS | StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
        )
    {
        return false;
    }
    let kind = content_kind(response);
    !kind.is_empty()
        && kind != "text/event-stream"
        && (kind.starts_with("text/")
            || matches!(
                kind,
                "application/json"
                    | "application/javascript"
                    | "application/xml"
                    | "application/wasm"
                    | "image/svg+xml"
            ))
}

/// How long a server-rendered page may take to arrive whole. Pages render in
/// milliseconds; one still unfinished after this is stuck (Leptos' Suspense
/// can panic inside its render task and leave the body open forever), and
/// the person gets a reload instead of a page that never comes.
const PAGE_DEADLINE: Duration = Duration::from_secs(10);

/// Axum middleware: compresses what [`compressible`] allows for clients
/// that accept br or gzip.
pub async fn compress(req: Request, next: Next) -> Response {
    compress_within(req, next, PAGE_DEADLINE).await
}

/// [`compress`], with an HTML page's body given up after `deadline`.
async fn compress_within(req: Request, next: Next, deadline: Duration) -> Response {
    let encoding = accepted(req.headers());
    // (A `Uri` clone shares its bytes: no copy on the hot path for a rare log.)
    let uri = req.uri().clone();
    let response = next.run(req).await;
    let Some(encoding) = encoding.filter(|_| compressible(&response)) else {
        return response;
    };
    let is_page = content_kind(&response) == "text/html";
    let (mut parts, mut body) = response.into_parts();
    add_vary(&mut parts.headers);
    let give_up = tokio::time::Instant::now() + deadline;
    let mut read = Vec::new();
    loop {
        let frame = if is_page {
            match tokio::time::timeout_at(give_up, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => {
                    tracing::warn!(
                        "{} was not rendered within {deadline:?}; sent a reload",
                        uri.path()
                    );
                    return page_not_ready();
                }
            }
        } else {
            body.frame().await
        };
        let Some(frame) = frame else { break };
        let frame = match frame {
            Ok(frame) => frame,
            Err(err) => {
                tracing::warn!("a response body failed while being read to compress: {err}");
                return Response::from_parts(parts, Body::from(read));
            }
        };
        if let Ok(data) = frame.into_data() {
            read.extend_from_slice(&data);
        }
        if read.len() > MAX_BUFFERED {
            // Too big to hold: what was read, then the rest, as it comes.
            parts.headers.remove(header::CONTENT_LENGTH);
            let head = futures_util::stream::once(async move { Ok(Bytes::from(read)) });
            let rest = body.into_data_stream();
            return Response::from_parts(parts, Body::from_stream(head.chain(rest)));
        }
    }
    if read.len() < MIN_SIZE {
        return Response::from_parts(parts, Body::from(read));
    }
    let (read, encoded) = if read.len() >= BLOCKING_SIZE {
        // The body goes to the blocking thread and comes back with its
        // encoding, to be sent as is if compressing fails.
        match tokio::task::spawn_blocking(move || {
            let encoded = encode(&read, encoding);
            (read, encoded)
        })
        .await
        {
            Ok(done) => done,
            Err(join) => {
                tracing::warn!("compressing a response panicked: {join}");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the response could not be compressed",
                )
                    .into_response();
            }
        }
    } else {
        let encoded = encode(&read, encoding);
        (read, encoded)
    };
    match encoded {
        Ok(encoded) => {
            parts
                .headers
                .insert(header::CONTENT_ENCODING, encoding.header());
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(encoded))
        }
        Err(err) => {
            tracing::warn!("could not compress a response, sent as is: {err}");
            Response::from_parts(parts, Body::from(read))
        }
    }
}

fn add_vary(headers: &mut HeaderMap) {
    let already = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|f| f.trim().eq_ignore_ascii_case("accept-encoding"))
        })
    });
    if !already {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, value.parse().unwrap());
        headers
    }

    #[test]
    fn brotli_is_preferred_and_q0_refuses_a_coding() {
        assert_eq!(
            accepted(&accept("gzip, deflate, br, zstd")),
            Some(Encoding::Brotli)
        );
        assert_eq!(accepted(&accept("br;q=0, gzip")), Some(Encoding::Gzip));
        assert_eq!(accepted(&accept("br; q=0, gzip;q=0")), None);
        assert_eq!(accepted(&accept("identity")), None);
        assert_eq!(accepted(&HeaderMap::new()), None);
    }

    #[test]
    fn brotli_round_trips_with_a_window_sized_to_the_body() {
        for len in [0, 1, 1000, 70_000, 3 << 20] {
            let data: Vec<u8> = (0..len)
                .map(|i| (i % 251) as u8 ^ (i / 7000) as u8)
                .collect();
            let packed = brotli(&data, BROTLI_QUALITY).unwrap();
            let mut unpacked = Vec::new();
            brotli::BrotliDecompress(&mut &packed[..], &mut unpacked).unwrap();
            assert_eq!(unpacked, data, "{len} bytes");
        }
    }

    async fn fetch(router: Router, path: &str, accept_encoding: &str) -> (HeaderMap, Vec<u8>) {
        let mut req = Request::get(path).body(Body::empty()).unwrap();
        req.headers_mut()
            .insert(header::ACCEPT_ENCODING, accept_encoding.parse().unwrap());
        let response = router.oneshot(req).await.unwrap();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (headers, body.to_vec())
    }

    fn router() -> Router {
        let page = "<p>hello</p>".repeat(500);
        Router::new()
            .route(
                "/page",
                get(move || async move { axum::response::Html(page) }),
            )
            .route("/tiny", get(|| async { "ok" }))
            .route(
                "/events",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/event-stream")],
                        "data: x\n\n".repeat(50),
                    )
                }),
            )
            .route(
                "/big",
                get(|| async {
                    let chunk = Bytes::from(vec![b'a'; 1 << 20]);
                    let chunks = (0..9).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
                    (
                        [(header::CONTENT_TYPE, "text/plain")],
                        Body::from_stream(futures_util::stream::iter(chunks)),
                    )
                }),
            )
            .layer(axum::middleware::from_fn(compress))
    }

    #[tokio::test]
    async fn pages_are_compressed_whole_and_decode_to_what_was_rendered() {
        let (headers, body) = fetch(router(), "/page", "gzip, br").await;
        assert_eq!(headers[header::CONTENT_ENCODING], "br");
        assert_eq!(headers[header::VARY], "accept-encoding");
        let mut html = Vec::new();
        brotli::BrotliDecompress(&mut &body[..], &mut html).unwrap();
        assert_eq!(html, "<p>hello</p>".repeat(500).as_bytes());

        let (headers, body) = fetch(router(), "/page", "gzip").await;
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        let mut html = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut html)
            .unwrap();
        assert_eq!(html, "<p>hello</p>".repeat(500));

        let (headers, body) = fetch(router(), "/page", "identity").await;
        assert!(!headers.contains_key(header::CONTENT_ENCODING));
        assert_eq!(body.len(), 12 * 500);
    }

    #[tokio::test]
    async fn tiny_bodies_event_streams_and_huge_bodies_pass_as_they_are() {
        let (headers, body) = fetch(router(), "/tiny", "br").await;
        assert!(!headers.contains_key(header::CONTENT_ENCODING));
        assert_eq!(body, b"ok");

        let (headers, body) = fetch(router(), "/events", "br").await;
        assert!(!headers.contains_key(header::CONTENT_ENCODING));
        assert_eq!(body, "data: x\n\n".repeat(50).as_bytes());

        let (headers, body) = fetch(router(), "/big", "br").await;
        assert!(!headers.contains_key(header::CONTENT_ENCODING));
        assert_eq!(body.len(), 9 << 20, "nothing lost past the buffer limit");
        assert!(body.iter().all(|&b| b == b'a'));
    }

    /// A body that sends `first`, then waits `pause`, then ends (or never
    /// ends, when `pause` is `None`), as the content type `kind`.
    fn stalling(kind: &'static str, pause: Option<Duration>) -> Response {
        let first =
            futures_util::stream::once(async { Ok::<_, std::io::Error>(Bytes::from("<p>a")) });
        let rest = futures_util::stream::once(async move {
            match pause {
                Some(pause) => tokio::time::sleep(pause).await,
                None => std::future::pending::<()>().await,
            }
            Ok(Bytes::from("b</p>".repeat(100)))
        });
        (
            [(header::CONTENT_TYPE, kind)],
            Body::from_stream(first.chain(rest)),
        )
            .into_response()
    }

    #[tokio::test]
    async fn a_page_stuck_rendering_is_answered_with_a_reload_not_held_open() {
        let deadline = Duration::from_millis(300);
        let router = Router::new()
            .route(
                "/stuck",
                get(|| async { stalling("text/html; charset=utf-8", None) }),
            )
            .route(
                "/slow-json",
                get(|| async { stalling("application/json", Some(Duration::from_millis(600))) }),
            )
            .layer(axum::middleware::from_fn(move |req, next| {
                compress_within(req, next, deadline)
            }));

        let mut req = Request::get("/stuck").body(Body::empty()).unwrap();
        req.headers_mut()
            .insert(header::ACCEPT_ENCODING, "br".parse().unwrap());
        let response = tokio::time::timeout(Duration::from_secs(10), router.clone().oneshot(req))
            .await
            .expect("a stuck page must be answered, not held open")
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("http-equiv=\"refresh\""), "{body}");

        // Only pages have the deadline: a reply that takes longer still arrives whole.
        let (headers, body) = fetch(router, "/slow-json", "br").await;
        assert_eq!(headers[header::CONTENT_ENCODING], "br");
        let mut json = Vec::new();
        brotli::BrotliDecompress(&mut &body[..], &mut json).unwrap();
        assert_eq!(json, format!("<p>a{}", "b</p>".repeat(100)).as_bytes());
    }
}
