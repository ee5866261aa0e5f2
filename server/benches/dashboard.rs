//! Dashboard benchmark (`cargo bench -p server --bench dashboard`): cold start
//! to first 200, idle RSS, per page (catalog, an app's catalog page, My apps,
//! Running, an installed app, System, Settings, Storage) the single-client
//! p50 and the p99 under 50 concurrent clients (signed in, accepting
//! `gzip, br` like browsers, on kept-alive connections) with RSS after each,
//! and the compressed size of the shipped JS + WASM + CSS. Prints numbers;
//! asserts nothing.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

mod bench_support;

const CLIENTS: usize = 50;
const REQUESTS: usize = 5_000;
const SINGLE: usize = 300;
/// What browsers send.
const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";
const PAGES: [&str; 8] = [
    "/",
    "/apps/comfyui",
    "/my",
    "/running",
    "/app/demo",
    "/system",
    "/settings",
    "/storage",
];

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site");

    let mut starts: Vec<f64> = (0..10).map(|_| cold_start_ms(&rt)).collect();
    starts.sort_by(f64::total_cmp);
    println!(
        "cold start to first 200 on /: median {:.1} ms (min {:.1}, max {:.1}, 10 runs)",
        starts[5], starts[0], starts[9]
    );

    let home = tempfile::tempdir().unwrap();
    // One installed app, for its page (`/app/demo`).
    let demo = home.path().join("api/demo");
    std::fs::create_dir_all(&demo).unwrap();
    std::fs::write(
        demo.join("start.json"),
        r#"{"run":[{"method":"shell.run","params":{"message":"echo hi"}}]}"#,
    )
    .unwrap();
    let (mut child, url, token) = bench_support::spawn_server(home.path(), Some(&site));
    rt.block_on(wait_ok(&url, &token));
    std::thread::sleep(Duration::from_secs(1));
    println!("idle RSS after start: {:.1} MiB", rss_mib(&child));

    let cookie = rt.block_on(login_cookie(&url, &token));
    println!("page           1 client p50   {CLIENTS} clients p50   {CLIENTS} clients p99   RSS after   (accepting {ACCEPT_ENCODING})");
    for page in PAGES {
        let (one, stuck_one) = rt.block_on(load(&url, page, &cookie, 1, SINGLE));
        let (many, stuck_many) = rt.block_on(load(&url, page, &cookie, CLIENTS, REQUESTS));
        println!(
            "{page:<14} {:>6.2} ms   {:>12.2} ms   {:>12.2} ms   {:>5.0} MiB",
            percentile(&one, 0.50),
            percentile(&many, 0.50),
            percentile(&many, 0.99),
            rss_mib(&child)
        );
        if stuck_one + stuck_many > 0 {
            println!(
                "  ! {} of {} requests were stuck rendering and answered 503 + reload after the deadline",
                stuck_one + stuck_many,
                SINGLE + REQUESTS
            );
        }
    }
    println!("RSS after load: {:.1} MiB", rss_mib(&child));

    if site.join("pkg").is_dir() {
        print_bundle_sizes(&rt, &url, &site.join("pkg"));
    } else {
        println!("(no target/site: run scripts/build-site.sh to measure asset sizes)");
    }
    let _ = child.kill();
}

/// What a first visit downloads: the main bundle (every page needs it), then
/// each lazily loaded route's own chunk, and the small chunks routes share.
fn print_bundle_sizes(rt: &tokio::runtime::Runtime, url: &str, pkg: &Path) {
    let mut main = (0, 0);
    for asset in ["pinokiocloud.wasm", "pinokiocloud.js", "__wasm_split.js"] {
        let (raw, sent) = rt.block_on(shipped_size(url, asset));
        println!("  /pkg/{asset}: {raw} bytes raw, {sent} bytes sent compressed");
        main = (main.0 + raw, main.1 + sent);
    }
    println!(
        "main bundle (WASM + JS, every page): {} KiB raw, {} KiB compressed",
        main.0 / 1024,
        main.1 / 1024
    );
    let mut names: Vec<String> = std::fs::read_dir(pkg)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".wasm") && n != "pinokiocloud.wasm")
        .collect();
    names.sort();
    let mut shared = (0, 0, 0);
    for name in names {
        let (raw, sent) = rt.block_on(shipped_size(url, &name));
        match name.strip_prefix("split___") {
            Some(route) => {
                let route = route.split("_route_view").next().unwrap_or(route);
                println!(
                    "  route chunk {route:<12} {raw:>8} bytes raw, {sent:>7} bytes sent compressed"
                );
            }
            None => shared = (shared.0 + 1, shared.1 + raw, shared.2 + sent),
        }
    }
    println!(
        "  {} shared chunks (fetched with the routes that use them): {} KiB raw, {} KiB compressed",
        shared.0,
        shared.1 / 1024,
        shared.2 / 1024
    );
}

fn cold_start_ms(rt: &tokio::runtime::Runtime) -> f64 {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (mut child, url, token) = bench_support::spawn_server(home.path(), None);
    rt.block_on(wait_ok(&url, &token));
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let _ = child.kill();
    let _ = child.wait();
    ms
}

async fn wait_ok(url: &str, token: &str) {
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client
            .get(format!("{url}/"))
            .bearer_auth(token)
            .send()
            .await
        {
            if r.status().is_success() {
                let _ = r.bytes().await;
                return;
            }
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// Opens the login link like a browser; returns the session cookie.
async fn login_cookie(url: &str, token: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(format!("{url}/?token={token}"))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// GETs `page` as signed-in browsers would (session cookie, compression
/// accepted, kept-alive connections): `clients` at once, `requests` in all.
/// Sorted milliseconds, and how many answers were the "stuck render, reload"
/// 503 (compression.rs): counted and timed rather than failing the run.
async fn load(
    url: &str,
    page: &str,
    cookie: &str,
    clients: usize,
    requests: usize,
) -> (Vec<f64>, usize) {
    let client = reqwest::Client::new();
    let per_client = requests / clients;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let url = format!("{url}{page}");
            let cookie = cookie.to_string();
            tokio::spawn(async move {
                let (mut times, mut stuck) = (Vec::with_capacity(per_client), 0);
                for _ in 0..per_client {
                    let t = Instant::now();
                    let response = client
                        .get(&url)
                        .header("cookie", &cookie)
                        .header("accept-encoding", ACCEPT_ENCODING)
                        .send()
                        .await
                        .unwrap();
                    let status = response.status();
                    let reload = status == reqwest::StatusCode::SERVICE_UNAVAILABLE;
                    assert!(status.is_success() || reload, "{status}");
                    stuck += usize::from(reload);
                    let body = response.bytes().await.unwrap();
                    assert!(!body.is_empty());
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                }
                (times, stuck)
            })
        })
        .collect();
    let (mut all, mut stuck) = (Vec::with_capacity(requests), 0);
    for task in tasks {
        let (times, stuck_here) = task.await.unwrap();
        all.extend(times);
        stuck += stuck_here;
    }
    all.sort_by(f64::total_cmp);
    (all, stuck)
}

/// Raw size and bytes on the wire when the browser accepts br/gzip, once
/// the server's precompressed copy is ready.
async fn shipped_size(url: &str, asset: &str) -> (usize, usize) {
    let client = reqwest::Client::new();
    let path = format!("{url}/pkg/{asset}");
    let raw = client
        .get(&path)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    // Steady state: the bundle is precompressed in the background after the
    // first request (sent with an ETag once ready).
    let mut sent = 0;
    for _ in 0..240 {
        let response = client
            .get(&path)
            .header("accept-encoding", "br, gzip")
            .send()
            .await
            .unwrap();
        let ready = response.headers().contains_key("etag");
        sent = response.bytes().await.unwrap().len();
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    (raw, sent)
}

fn rss_mib(child: &Child) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}
