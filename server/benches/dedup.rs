//! Dedup numbers, through the real `pinokiocloud dedup` binary: hashing
//! throughput from the page cache, a second pass over an unchanged home of
//! 100,000 indexed files, and each pass's peak memory (the child's maxrss).
//!
//! `cargo bench -p server --bench dedup` (DEDUP_BENCH_FILES and
//! DEDUP_BENCH_MIB change the sizes).

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_pinokiocloud");

fn main() {
    let files: usize = env_or("DEDUP_BENCH_FILES", 100_000);
    let mib: usize = env_or("DEDUP_BENCH_MIB", 1024);
    let dir = tempfile::tempdir().expect("temp dir");

    let big = dir.path().join("big");
    big_models(&big, mib);
    let pass = dedup(&big, &["--dry-run"], 0);
    let hashed = pass.report["bytes_hashed"].as_u64().unwrap_or(0);
    println!(
        "hashing: {:.2} GB/s ({} MiB in {:.3} s, page cache), peak RSS {:.1} MiB",
        hashed as f64 / pass.seconds / 1e9,
        hashed / (1024 * 1024),
        pass.seconds,
        pass.max_rss_kib as f64 / 1024.0
    );

    let many = dir.path().join("many");
    small_models(&many, files);
    let first = dedup(&many, &[], 1);
    println!(
        "first pass, {files} files: {:.2} s, {} hashed, peak RSS {:.1} MiB",
        first.seconds,
        first.report["files_hashed"],
        first.max_rss_kib as f64 / 1024.0
    );
    let second = dedup(&many, &[], 1);
    println!(
        "second pass, unchanged home of {files} indexed files: {:.2} s, {} hashed, peak RSS {:.1} MiB",
        second.seconds,
        second.report["files_hashed"],
        second.max_rss_kib as f64 / 1024.0
    );
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Two models of `mib` MiB each with the same size (so both are hashed),
/// read once so the pass reads from the page cache.
fn big_models(home: &Path, mib: usize) {
    let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
    for (i, name) in ["api/a/m.safetensors", "api/b/m.safetensors"]
        .iter()
        .enumerate()
    {
        let path = home.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut f = std::fs::File::create(&path).unwrap();
        for n in 0..mib {
            let mut c = chunk.clone();
            c[0] = (n + i) as u8;
            f.write_all(&c).unwrap();
        }
        f.sync_all().unwrap();
        warm(&path);
    }
}

/// Reads a file once so the pass finds it in the page cache, in small
/// pieces: this process's peak memory is the floor of what wait4 reports
/// for its children (they start as copies of it).
fn warm(path: &Path) {
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 1024 * 1024];
    while std::io::Read::read(&mut f, &mut buf).unwrap() > 0 {}
}

/// `n` small model files, twenty per size so every one is hashed, each with
/// content of its own; in folders of 1000.
fn small_models(home: &Path, n: usize) {
    for i in 0..n {
        let dir = home.join(format!("api/app{}/models", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let mut bytes = vec![0u8; 512 + (i % (n / 20).max(1)) * 8];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        std::fs::write(dir.join(format!("m{i}.bin")), bytes).unwrap();
    }
}

struct Pass {
    report: Value,
    seconds: f64,
    max_rss_kib: i64,
}

/// Runs the CLI and measures it (wall time, and its own peak RSS via wait4).
// Reaped by wait4 below, which `Child::wait` cannot replace: it alone gives
// the child's own rusage.
#[allow(clippy::zombie_processes)]
fn dedup(home: &Path, extra: &[&str], min_size: u64) -> Pass {
    let mut args = vec!["dedup", "--json", "--home", home.to_str().unwrap()];
    let min = min_size.to_string();
    if min_size > 0 {
        args.extend(["--min-size", &min]);
    }
    args.extend(extra);
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("running pinokiocloud dedup");
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let mut status = 0;
    // SAFETY: a plain rusage struct filled by the kernel for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(status, 0, "dedup failed: {out}");
    Pass {
        report: serde_json::from_str(&out).expect("dedup --json output"),
        seconds,
        max_rss_kib: usage.ru_maxrss,
    }
}
