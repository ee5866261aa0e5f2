//! The app reverse proxy over real sockets: a local axum "app" behind the
//! proxy router, driven by real HTTP clients.

use server::proxy;
mod proxy_support;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use proxy::ProxyTargets;
use proxy_support::{dead_port, no_hang, raw_get, serve};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Hand-offs between the test and the fake app, one per streaming test.
#[derive(Clone, Default)]
struct Signals {
    /// Fired by the app when the first upload chunk arrives.
    first_chunk: Arc<Mutex<Option<oneshot::Sender<()>>>>,
    /// Awaited by the app between its two SSE events.
    release_sse: Arc<Mutex<Option<oneshot::Receiver<()>>>>,
}

/// Echoes what the app received, one `name: value` per line.
async fn echo(req: Request) -> String {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let h = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| "-".into())
    };
    let lines = [
        format!("method: {}", parts.method),
        format!("uri: {}", parts.uri),
        format!("host: {}", h("host")),
        format!("x-forwarded-for: {}", h("x-forwarded-for")),
        format!("x-forwarded-proto: {}", h("x-forwarded-proto")),
        format!("x-forwarded-host: {}", h("x-forwarded-host")),
        format!("x-forwarded-prefix: {}", h("x-forwarded-prefix")),
        format!("x-hop-secret: {}", h("x-hop-secret")),
        format!("x-custom: {}", h("x-custom")),
        format!("cookie: {}", h("cookie")),
        format!("body: {}", String::from_utf8_lossy(&body)),
    ];
    lines.join("\n")
}

/// Counts the upload, telling the test as soon as the first bytes arrive.
async fn upload(State(signals): State<Signals>, body: Body) -> String {
    let mut stream = body.into_data_stream();
    let (mut len, mut sum) = (0u64, 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        if let Some(tx) = signals.first_chunk.lock().unwrap().take() {
            let _ = tx.send(());
        }
        len += chunk.len() as u64;
        sum = chunk.iter().fold(sum, |s, b| s.wrapping_add(u64::from(*b)));
    }
    format!("{len} {sum}")
}

/// One event, then nothing until the test releases it, then a second one.
async fn sse(State(signals): State<Signals>) -> Response {
    let release = signals.release_sse.lock().unwrap().take().unwrap();
    let events = futures_util::stream::unfold((0, Some(release)), |(n, release)| async move {
        match n {
            0 => Some((Ok::<_, Infallible>("data: one\n\n"), (1, release))),
            1 => {
                release.unwrap().await.unwrap();
                Some((Ok("data: two\n\n"), (2, None)))
            }
            _ => None,
        }
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(events),
    )
        .into_response()
}

/// ComfyUI's origin middleware, reduced: a loopback `Host` must match the
/// `Origin` host, else 403.
async fn origin_check(headers: HeaderMap) -> StatusCode {
    let host = headers[header::HOST].to_str().unwrap().to_string();
    match headers.get(header::ORIGIN).map(|o| o.to_str().unwrap()) {
        Some(origin) if origin.split_once("://").unwrap().1 != host => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    }
}

fn app(me: SocketAddr, signals: Signals) -> Router {
    let abs = format!("http://{me}/done?x=1");
    Router::new()
        .route("/", get(|| async { "app root" }))
        .route("/echo/{*rest}", any(echo))
        .route("/upload", post(upload))
        .route("/sse", get(sse))
        .route("/origin", any(origin_check))
        .route(
            "/redirect-abs",
            get(move || async move { (StatusCode::FOUND, [(header::LOCATION, abs)]) }),
        )
        .route(
            "/redirect-public",
            get(|headers: HeaderMap| async move {
                let host = headers["x-forwarded-host"].to_str().unwrap().to_string();
                let to = format!("http://{host}/elsewhere");
                (StatusCode::FOUND, [(header::LOCATION, to)])
            }),
        )
        .route(
            "/redirect-root",
            get(|| async {
                (
                    StatusCode::SEE_OTHER,
                    [
                        (header::LOCATION, "/login"),
                        (header::SET_COOKIE, "sid=1; Path=/; HttpOnly"),
                    ],
                )
            }),
        )
        .with_state(signals)
}

/// A fake app on its own port, and the proxy in front of it as `app`.
struct Setup {
    front: SocketAddr,
    backend: SocketAddr,
    targets: Arc<ProxyTargets>,
    signals: Signals,
}

async fn setup() -> Setup {
    let signals = Signals::default();
    // The app must know its own address for the absolute redirect.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = listener.local_addr().unwrap();
    let router = app(backend, signals.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let targets = Arc::new(ProxyTargets::new());
    targets.set("app", &format!("http://{backend}/")).unwrap();
    let options = proxy::ProxyOptions {
        hidden_cookies: vec!["pc_session".into()],
        ..Default::default()
    };
    let front = serve(proxy::router_with(targets.clone(), options)).await;
    Setup {
        front,
        backend,
        targets,
        signals,
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn streaming_client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

fn field<'a>(echo: &'a str, name: &str) -> &'a str {
    echo.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {echo}"))
}

#[tokio::test]
async fn forwards_method_path_query_body_and_headers() {
    let s = setup().await;
    let url = format!("http://{}/p/app/echo/a%20b/c?x=1&y=%2F", s.front);
    let resp = http()
        .put(url)
        .header("connection", "keep-alive, x-hop-secret")
        .header("x-hop-secret", "do not forward")
        .header("x-custom", "kept")
        .header("cookie", "pc_session=dashboard-secret; app_pref=dark")
        .body("hello body")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echo = resp.text().await.unwrap();
    assert_eq!(field(&echo, "method"), "PUT");
    assert_eq!(field(&echo, "uri"), "/echo/a%20b/c?x=1&y=%2F");
    assert_eq!(field(&echo, "host"), s.backend.to_string());
    assert_eq!(field(&echo, "x-forwarded-for"), "127.0.0.1");
    assert_eq!(field(&echo, "x-forwarded-proto"), "http");
    assert_eq!(field(&echo, "x-forwarded-host"), s.front.to_string());
    assert_eq!(field(&echo, "x-forwarded-prefix"), "/p/app");
    assert_eq!(field(&echo, "x-hop-secret"), "-");
    assert_eq!(field(&echo, "x-custom"), "kept");
    assert_eq!(
        field(&echo, "cookie"),
        "app_pref=dark",
        "the dashboard session leaked"
    );
    assert_eq!(field(&echo, "body"), "hello body");
}

#[tokio::test]
async fn forwards_every_method() {
    let s = setup().await;
    for method in ["GET", "POST", "PATCH", "DELETE", "OPTIONS", "PROPFIND"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("http://{}/p/app/echo/m", s.front);
        let echo = http().request(method.clone(), url).send().await.unwrap();
        let echo = echo.text().await.unwrap();
        assert_eq!(field(&echo, "method"), method.as_str());
    }
    let head = http()
        .head(format!("http://{}/p/app/", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
}

#[tokio::test]
async fn bare_app_path_redirects_to_slash_and_root_is_forwarded() {
    let s = setup().await;
    let resp = http()
        .get(format!("http://{}/p/app?__theme=dark", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(resp.headers()[header::LOCATION], "/p/app/?__theme=dark");
    let root = http()
        .get(format!("http://{}/p/app/", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(root.text().await.unwrap(), "app root");
}

#[tokio::test]
async fn rewrites_redirects_and_cookies_into_the_prefix() {
    let s = setup().await;
    let abs = http()
        .get(format!("http://{}/p/app/redirect-abs", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(abs.status(), StatusCode::FOUND);
    assert_eq!(abs.headers()[header::LOCATION], "/p/app/done?x=1");
    let public = http()
        .get(format!("http://{}/p/app/redirect-public", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(public.headers()[header::LOCATION], "/p/app/elsewhere");
    let root = http()
        .get(format!("http://{}/p/app/redirect-root", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(root.headers()[header::LOCATION], "/p/app/login");
    assert_eq!(
        root.headers()[header::SET_COOKIE],
        "sid=1; Path=/p/app/; HttpOnly"
    );
}

#[tokio::test]
async fn same_origin_requests_pass_loopback_origin_checks() {
    let s = setup().await;
    let url = format!("http://{}/p/app/origin", s.front);
    let ours = http()
        .post(&url)
        .header("origin", format!("http://{}", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status(), 200, "our own origin must be accepted");
    let foreign = http()
        .post(&url)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        foreign.status(),
        403,
        "a foreign origin must reach the app as is"
    );
}

#[tokio::test]
async fn streams_large_uploads_without_buffering() {
    let s = setup().await;
    let (first_tx, first_rx) = oneshot::channel();
    *s.signals.first_chunk.lock().unwrap() = Some(first_tx);
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(4);
    let body = Body::from_stream(tokio_stream(rx));
    let req = axum::http::Request::post(format!("http://{}/p/app/upload", s.front))
        .body(body)
        .unwrap();
    let pending = tokio::spawn(streaming_client().request(req));
    let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    tx.send(Ok(Bytes::from(chunk.clone()))).await.unwrap();
    // The app must see the first MiB while the client still holds the rest.
    no_hang("first upload chunk", first_rx).await.unwrap();
    for _ in 0..7 {
        tx.send(Ok(Bytes::from(chunk.clone()))).await.unwrap();
    }
    drop(tx);
    let resp = no_hang("upload response", pending).await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    let sum = chunk.iter().map(|b| u64::from(*b)).sum::<u64>() * 8;
    assert_eq!(
        String::from_utf8_lossy(&text),
        format!("{} {sum}", 8 * 1024 * 1024)
    );
}

/// An mpsc receiver as a `Stream`, without pulling in tokio-stream.
fn tokio_stream<T: Send + 'static>(
    rx: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|t| (t, rx)) })
}

#[tokio::test]
async fn streams_server_sent_events_as_they_happen() {
    let s = setup().await;
    let (release_tx, release_rx) = oneshot::channel();
    *s.signals.release_sse.lock().unwrap() = Some(release_rx);
    let req = axum::http::Request::get(format!("http://{}/p/app/sse", s.front))
        .body(Body::empty())
        .unwrap();
    let resp = no_hang("sse headers", streaming_client().request(req))
        .await
        .unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = resp.into_body();
    let mut seen = String::new();
    while !seen.contains("data: one\n\n") {
        let frame = no_hang("first event", body.frame()).await.unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(frame.data_ref().unwrap()));
    }
    assert!(!seen.contains("two"), "second event before the app sent it");
    release_tx.send(()).unwrap();
    let rest = no_hang("rest of stream", body.collect()).await.unwrap();
    seen.push_str(&String::from_utf8_lossy(&rest.to_bytes()));
    assert_eq!(seen, "data: one\n\ndata: two\n\n");
}

#[tokio::test]
async fn unknown_or_removed_app_is_a_clear_404() {
    let s = setup().await;
    let ghost = http()
        .get(format!("http://{}/p/ghost/", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(ghost.status(), 404);
    let text = ghost.text().await.unwrap();
    assert!(
        text.contains("ghost is not running; start it from the dashboard"),
        "{text}"
    );
    assert!(s.targets.remove("app"));
    let gone = http()
        .get(format!("http://{}/p/app/", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn refused_connection_is_a_502_with_the_message() {
    let s = setup().await;
    let port = dead_port().await;
    s.targets
        .set("down", &format!("http://127.0.0.1:{port}/"))
        .unwrap();
    let resp = http()
        .get(format!("http://{}/p/down/x", s.front))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("down is not running; start it from the dashboard"),
        "{text}"
    );
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
}

#[tokio::test]
async fn path_traversal_is_a_400() {
    let s = setup().await;
    for path in [
        "/p/../etc/passwd",
        "/p/%2e%2e/etc/passwd",
        "/p/./x",
        "/p/a%2Fb/x",
        "/p/app/../../etc/passwd",
        "/p/app/%2E%2E/secret",
        "/p/..",
    ] {
        let (status, text) = raw_get(s.front, path).await;
        assert_eq!(status, 400, "{path}: {text}");
    }
    let (status, _) = raw_get(s.front, "/p/app/echo/..x").await;
    assert_eq!(status, 200, "'..x' is a name, not a traversal");
}

#[tokio::test]
async fn refuses_non_loopback_targets() {
    let targets = ProxyTargets::new();
    for url in [
        "http://169.254.169.254/",
        "http://10.1.2.3:7860/",
        "http://example.com/",
    ] {
        let err = targets.set("app", url).unwrap_err();
        assert!(err.to_string().contains("only loopback"), "{url}: {err}");
    }
    assert!(targets.list().is_empty());
}
