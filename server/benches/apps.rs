//! Supervisor benchmark (`cargo bench -p server --bench apps`): Start → URL
//! latency beyond the app's own start-up, terminal throughput with memory,
//! and memory with 5 apps running. The supervisor runs in this process, so
//! "dashboard RSS" is this process's RSS. Prints numbers; asserts nothing.

#[path = "../tests/apps_common/mod.rs"]
mod apps_common;

use apps_common::*;
use server::apps::AppEvent;
use std::time::Instant;
use tokio::sync::broadcast::error::RecvError;

const RUNS: usize = 10;
const THROUGHPUT_BYTES: u64 = 1 << 30;

#[tokio::main]
async fn main() {
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
