//! Supervisor benchmark (`cargo bench -p server --bench apps`): Start → URL
//! latency beyond the app's own start-up, terminal throughput with memory,
//! and memory with 5 apps running. The supervisor runs in this process, so
//! "dashboard RSS" is this process's RSS. Then the same terminal throughput
//! end to end: a real `pinokiocloud serve`, the run started through its API
//! and read through `/ws/run/{id}` as a browser would (signed in), with the
//! server's RSS. `-- ws` runs only that part; `BENCH_WS_BYTES` sets its size.
//! Prints numbers; asserts nothing.

#[path = "../tests/apps_common/mod.rs"]
mod apps_common;
mod bench_support;

use apps_common::*;
use server::apps::AppEvent;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

const RUNS: usize = 10;
const THROUGHPUT_BYTES: u64 = 1 << 30;

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "ws") {
        in_process().await;
    }
    websocket_throughput().await;
}

async fn in_process() {
    let f = Fixture::new().await;
    start_to_url(&f).await;
    throughput(&f).await;
    five_apps(&f).await;
    f.apps.shutdown().await;
}

/// A daemon that prints its URL at once: what is left after the shell's own
/// start-up is the supervisor's share.
async fn start_to_url(f: &Fixture) {
    f.put_app(
        "quick",
        &[(
            "start.json",
            &daemon("echo http://127.0.0.1:9/ready; sleep 600"),
        )],
    );
    let baseline = median((0..RUNS).map(|_| shell_startup_ms()).collect());
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        let mut events = f.apps.events();
        let t = Instant::now();
        let run = f
            .apps
            .start("quick", "start.json", serde_json::Value::Null)
            .await
            .unwrap();
        next_event(&mut events, "url", |e| {
            matches!(e, AppEvent::Url { run_id, .. } if *run_id == run).then_some(())
        })
        .await;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
        f.apps.stop(run).await.unwrap();
        let _ = f.apps.wait(run).await;
    }
    let total = median(samples);
    println!(
        "Start → URL shown: median {total:.1} ms; the app's own start-up (a shell printing its URL) {baseline:.1} ms; supervisor share {:.1} ms ({RUNS} runs)",
        total - baseline
    );
}

/// 1 GiB of terminal output through the PTY to one attached viewer.
async fn throughput(f: &Fixture) {
    let script = format!("head -c {THROUGHPUT_BYTES} /dev/zero | tr '\\0' 'x'");
    f.put_app("loud", &[("start.json", &shell_script(&[&script]))]);
    let rss_before = rss_mib();
    let run = f
        .apps
        .start("loud", "start.json", serde_json::Value::Null)
        .await
        .unwrap();
    let (_, mut rx) = f.apps.attach(run).unwrap();
    let t = Instant::now();
    let (mut bytes, mut peak) = (0u64, rss_before);
    loop {
        match rx.recv().await {
            Ok(chunk) => {
                bytes += chunk.len() as u64;
                if bytes % (64 << 20) < chunk.len() as u64 {
                    peak = peak.max(rss_mib());
                }
            }
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => break,
        }
        if bytes >= THROUGHPUT_BYTES {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let _ = f.apps.wait(run).await;
    println!(
        "terminal throughput: {:.0} MiB in {secs:.1} s = {:.1} MB/s to a viewer; RSS {rss_before:.1} MiB before, peak {peak:.1} MiB",
        bytes as f64 / (1 << 20) as f64,
        bytes as f64 / 1e6 / secs
    );
}

async fn five_apps(f: &Fixture) {
    let before = rss_mib();
    let mut runs = Vec::new();
    for i in 0..5 {
        let name = format!("idle{i}");
        f.put_app(
            &name,
            &[(
                "start.json",
                &daemon(&format!("echo http://127.0.0.1:{}/; sleep 600", 9100 + i)),
            )],
        );
        let mut events = f.apps.events();
        let run = f
            .apps
            .start(&name, "start.json", serde_json::Value::Null)
            .await
            .unwrap();
        next_event(&mut events, "url", |e| {
            matches!(e, AppEvent::Url { run_id, .. } if *run_id == run).then_some(())
        })
        .await;
        runs.push(run);
    }
    println!(
        "dashboard RSS with 5 apps running: {:.1} MiB (before: {before:.1} MiB)",
        rss_mib()
    );
    for run in runs {
        f.apps.stop(run).await.unwrap();
    }
}

/// A daemon whose `on` handler stores the URL it prints.
fn daemon(command: &str) -> String {
    serde_json::json!({
        "daemon": true,
        "run": [
            { "method": "shell.run", "params": { "message": command, "on": [{ "event": "/http:\\/\\/\\S+/", "done": true }] } },
            { "method": "local.set", "params": { "url": "{{input.event[0]}}" } }
        ]
    })
    .to_string()
}

/// How long a plain shell takes to start and print a line.
fn shell_startup_ms() -> f64 {
    let t = Instant::now();
    let out = std::process::Command::new("bash")
        .args(["-c", "echo http://127.0.0.1:9/ready"])
        .output()
        .unwrap();
    assert!(out.status.success());
    t.elapsed().as_secs_f64() * 1e3
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// What the script prints for the WebSocket measurement (~1 GB by default).
const WS_BYTES: u64 = 1_000_000_000;

/// A script printing `WS_BYTES` to a real server, read through its terminal
/// WebSocket with a login token; MB/s as the viewer receives it and the
/// server process's RSS (current and peak, `VmHWM`).
async fn websocket_throughput() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

    let bytes_wanted: u64 = std::env::var("BENCH_WS_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(WS_BYTES);
    let home = tempfile::tempdir().unwrap();
    // A second of quiet first, so the socket is attached before the flood.
    let script = format!("sleep 1; head -c {bytes_wanted} /dev/zero | tr '\\0' 'x'");
    write_files(
        &home.path().join("api/loud"),
        &[("start.json", &shell_script(&[&script]))],
    );
    let (mut child, url, token) = bench_support::spawn_server(home.path(), None);
    let rss_idle = process_rss_mib(child.id(), "VmRSS:");
    let client = reqwest::Client::new();
    let reply = client
        .post(format!("{url}/api/op/apps/loud/start"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"script": "start.json"}"#)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let started: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let run = started["run_id"].as_i64().expect("a run id");
    let mut request = format!("{}/ws/run/{run}", url.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let (mut bytes, mut skipped_notes) = (0u64, 0u32);
    let (mut first, mut last): (Option<Instant>, Option<Instant>) = (None, None);
    // The server says `[process ended]` and closes once the run is over.
    loop {
        let message = match tokio::time::timeout(Duration::from_secs(60), ws.next()).await {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(_) => panic!("the terminal went quiet for a minute without ending"),
        };
        match message {
            Ok(Message::Binary(b)) if !b.is_empty() => {
                first.get_or_insert_with(Instant::now);
                last = Some(Instant::now());
                bytes += b.len() as u64;
            }
            Ok(Message::Text(t)) if t.contains("skipped") => skipped_notes += 1,
            Ok(Message::Text(t)) if t.contains("[process ended]") => break,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let secs = match (first, last) {
        (Some(a), Some(b)) => (b - a).as_secs_f64(),
        _ => 0.0,
    };
    println!(
        "terminal over a WebSocket (real server, signed in): {:.0} MB of {:.0} MB printed received in {secs:.1} s = {:.1} MB/s; {skipped_notes} skipped-output notices; server RSS idle {rss_idle:.1} MiB, now {:.1} MiB, peak {:.1} MiB",
        bytes as f64 / 1e6,
        bytes_wanted as f64 / 1e6,
        bytes as f64 / 1e6 / secs.max(1e-9),
        process_rss_mib(child.id(), "VmRSS:"),
        process_rss_mib(child.id(), "VmHWM:"),
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// A `/proc/<pid>/status` memory line (`VmRSS:`, `VmHWM:`) in MiB.
fn process_rss_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}
