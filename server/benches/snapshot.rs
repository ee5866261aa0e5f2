//! Persistence benchmark (`cargo bench -p server --bench snapshot`): how
//! long a fresh machine takes to get an installed app back by restoring it
//! from a snapshot, against reinstalling it (clone + its install script,
//! which makes a venv and pip-installs five local wheels, no network).
//! Also the first and an unchanged snapshot. Prints medians; asserts nothing.

#[path = "../tests/apps_common/mod.rs"]
mod apps_common;
#[path = "../tests/snapshot_common/mod.rs"]
mod snapshot_common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_pinokiocloud");
const RUNS: usize = 5;
const PACKAGES: [&str; 5] = ["bench_a", "bench_b", "bench_c", "bench_d", "bench_e"];

fn main() {
    let root = tempfile::tempdir().unwrap();
    let wheels = root.path().join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    for name in PACKAGES {
        snapshot_common::build_wheel(&wheels, name, 50);
    }
    let install = serde_json::json!({"run": [{"method": "shell.run", "params": {
        "venv": "env",
        "message": format!(
            "pip install --no-index --disable-pip-version-check --find-links {} {}",
            wheels.display(),
            PACKAGES.join(" ")
        ),
    }}]});
    let (_repo, url) = apps_common::git_repo(
        "bench-app",
        &[
            ("pinokio.js", apps_common::PINOKIO_JS),
            ("install.json", &install.to_string()),
        ],
    );

    let mut reinstall = Vec::new();
    for i in 0..RUNS {
        let home = root.path().join(format!("installed-{i}"));
        let t = Instant::now();
        pinokiocloud(&["install", &url, "--home", s(&home)]);
        pinokiocloud(&["start", "bench-app", "install.json", "--home", s(&home)]);
        reinstall.push(t.elapsed().as_secs_f64());
    }
    let home = root.path().join("installed-0");
    let snap = root.path().join("snapshot");
    let t = Instant::now();
    pinokiocloud(&["snapshot", "--home", s(&home), "--to", s(&snap)]);
    let first = t.elapsed().as_secs_f64();
    let mut unchanged = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        pinokiocloud(&["snapshot", "--home", s(&home), "--to", s(&snap)]);
        unchanged.push(t.elapsed().as_secs_f64());
    }
    let mut restore = Vec::new();
    for _ in 0..RUNS {
        // The same path each time, as a fresh VM mounts the same home.
        let fresh = root.path().join("installed-0");
        std::fs::remove_dir_all(&fresh).unwrap();
        let t = Instant::now();
        pinokiocloud(&["restore", "--home", s(&fresh), "--from", s(&snap)]);
        restore.push(t.elapsed().as_secs_f64());
    }
    let files = count_files(&snap.join("home"));
    println!(
        "Fresh machine, app with a venv of {} packages ({files} files): restore {:.2} s vs reinstall {:.2} s (medians of {RUNS})",
        PACKAGES.len(),
        median(restore),
        median(reinstall)
    );
    println!(
        "Snapshot: first {first:.2} s, unchanged {:.2} s (median of {RUNS})",
        median(unchanged)
    );
}

fn pinokiocloud(args: &[&str]) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("PINOKIOCLOUD_HOME")
        .env_remove("PINOKIOCLOUD_SNAPSHOT_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pinokiocloud {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn count_files(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .count()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
