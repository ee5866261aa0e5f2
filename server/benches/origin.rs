//! Per-app origin benchmark (`cargo bench -p server --bench origin`): the
//! latency the app's own origin adds over calling the app directly, for a
//! small GET and a 100 MB download (p50/p99), and a WebSocket round trip.
//! The app is a small axum server on loopback; the origin is the real
//! per-app listener (session cookie check in SQLite, cookie stripping,
//! streaming proxy). `BENCH_ORIGIN_MB` sets the download size.
//! Prints numbers; asserts nothing.

use app::auth::Role;
use axum::extract::ws::{Message as AxMessage, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use server::origin::{cookie_name, AppGrant, AppOrigins, OriginConfig, OriginDb};
use server::proxy::ProxyTargets;
use std::sync::Arc;
use std::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const APP: &str = "bench";
const SMALL: usize = 2000;
const BIG_RUNS: usize = 10;
const WS_ROUNDS: usize = 2000;

#[tokio::main]
async fn main() {
    let mb: usize = std::env::var("BENCH_ORIGIN_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let app = serve_app(mb << 20).await;
    let home = tempfile::tempdir().unwrap();
    let store = server::store::Store::open(home.path()).await.unwrap();
    let db = OriginDb::new(store.pool().clone());
    let targets = Arc::new(ProxyTargets::new());
    targets.set(APP, &format!("http://{app}/")).unwrap();
    let origins = AppOrigins::new(OriginConfig::default(), targets, db.clone());
    let port = origins.listener_for(APP).unwrap();
    let grant = AppGrant {
        app: APP.into(),
        role: Role::Admin,
        label: "bench".into(),
        token_id: None,
        session_expires_at: None,
        parent_session: None,
    };
    let (id, _) = db.create_session(&grant).await.unwrap();
    let cookie = format!("{}={id}", cookie_name(APP));
    let direct = format!("http://{app}");
    let proxied = format!("http://127.0.0.1:{port}");

    let client = reqwest::Client::new();
    let d = small_gets(&client, &direct, &cookie).await;
    let p = small_gets(&client, &proxied, &cookie).await;
    report(&format!("small GET ({SMALL} requests)"), &d, &p);

    let (d, d_first) = downloads(&client, &direct, &cookie).await;
    let (p, p_first) = downloads(&client, &proxied, &cookie).await;
    report(
        &format!("{mb} MB download, first byte ({BIG_RUNS} runs)"),
        &d_first,
        &p_first,
    );
    report(
        &format!("{mb} MB download, whole ({BIG_RUNS} runs)"),
        &d,
        &p,
    );
    let mbps = |v: &[f64]| (mb as f64) / (percentile(v, 50.0) / 1e3);
    println!(
        "  throughput p50: direct {:.0} MB/s, through the origin {:.0} MB/s",
        mbps(&d),
        mbps(&p)
    );

    let d = ws_rounds(&format!("ws://{app}/ws"), &cookie).await;
    let p = ws_rounds(&format!("ws://127.0.0.1:{port}/ws"), &cookie).await;
    report(
        &format!("WebSocket round trip ({WS_ROUNDS} messages)"),
        &d,
        &p,
    );
}

/// The app: `/small`, `/big` (`size` bytes, streamed) and `/ws` (echo).
async fn serve_app(size: usize) -> std::net::SocketAddr {
    let chunk = bytes::Bytes::from(vec![b'x'; 1 << 16]);
    let router = Router::new()
        .route("/small", get(|| async { "ok" }))
        .route(
            "/big",
            get(move || {
                let chunk = chunk.clone();
                async move {
                    let n = size / chunk.len();
                    let stream = futures_util::stream::iter(
                        (0..n).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                    );
                    axum::body::Body::from_stream(stream)
                }
            }),
        )
        .route(
            "/ws",
            get(|ws: WebSocketUpgrade| async { ws.on_upgrade(echo) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

async fn echo(mut ws: WebSocket) {
    while let Some(Ok(msg)) = ws.next().await {
        if let AxMessage::Text(t) = msg {
            if ws.send(AxMessage::Text(t)).await.is_err() {
                return;
            }
        }
    }
}

async fn small_gets(client: &reqwest::Client, base: &str, cookie: &str) -> Vec<f64> {
    let mut out = Vec::with_capacity(SMALL);
    for i in 0..SMALL + 50 {
        let t = Instant::now();
        let r = client
            .get(format!("{base}/small"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.bytes().await.unwrap();
        if i >= 50 {
            out.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    out
}

/// Milliseconds per download: (whole body, first byte of the body).
async fn downloads(client: &reqwest::Client, base: &str, cookie: &str) -> (Vec<f64>, Vec<f64>) {
    let (mut out, mut first) = (Vec::new(), Vec::new());
    for _ in 0..BIG_RUNS {
        let t = Instant::now();
        let mut r = client
            .get(format!("{base}/big"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let mut n = 0usize;
        while let Some(chunk) = r.chunk().await.unwrap() {
            if n == 0 {
                first.push(t.elapsed().as_secs_f64() * 1e3);
            }
            n += chunk.len();
        }
        assert!(n > 0);
        out.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (out, first)
}

async fn ws_rounds(url: &str, cookie: &str) -> Vec<f64> {
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut out = Vec::with_capacity(WS_ROUNDS);
    for i in 0..WS_ROUNDS + 50 {
        let t = Instant::now();
        ws.send(Message::text("ping")).await.unwrap();
        let _ = ws.next().await.unwrap().unwrap();
        if i >= 50 {
            out.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    out
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[i]
}

fn report(what: &str, direct: &[f64], proxied: &[f64]) {
    let (d50, d99) = (percentile(direct, 50.0), percentile(direct, 99.0));
    let (p50, p99) = (percentile(proxied, 50.0), percentile(proxied, 99.0));
    println!(
        "{what}: direct p50 {d50:.3} ms p99 {d99:.3} ms; through the app's origin p50 {p50:.3} ms p99 {p99:.3} ms; added p50 {:.3} ms p99 {:.3} ms",
        p50 - d50,
        p99 - d99
    );
}
