//! Python environment benchmark:
//! `cargo run --release -p engine --example pyenv_bench [N]`.
//!
//! Installs one fixture app (`venv: "env"` + `pip install numpy pillow
//! requests` from the real PyPI) three ways, each in a fresh temp home:
//! (a) acceleration off: `python3 -m venv` + real pip, empty pip cache
//!     (what Pinokio does on a new machine);
//! (b) acceleration on, empty uv cache (the uv binary is already installed,
//!     so its one-off ~2 s install is not counted);
//! (c) acceleration on, warm uv cache (a cache filled by an untimed run).
//! Prints medians of N runs (default 3) and the ratios. Asserts nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use engine::{Engine, EngineError, RunOptions, StopHandle};

const FIXTURE: &str = r#"module.exports = { run: [
  { method: "shell.run", params: { venv: "env", message: [
      "pip install numpy pillow requests",
      "python -c 'import numpy, PIL, requests; print(numpy.__version__, PIL.__version__, requests.__version__)'" ] } } ] }"#;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    let work = tempfile::tempdir().expect("tempdir");
    let uv = install_uv(work.path());
    let warm = work.path().join("warm-uv-cache");
    install(Mode::Uv, &uv, Some(&warm)).expect("warming the uv cache");

    let mut rows = vec![];
    for (label, mode, cache) in [
        (
            "(a) python3 -m venv + pip, empty pip cache",
            Mode::Plain,
            None,
        ),
        ("(b) uv venv + uv pip, empty uv cache", Mode::Uv, None),
        (
            "(c) uv venv + uv pip, warm uv cache",
            Mode::Uv,
            Some(warm.as_path()),
        ),
    ] {
        let times: Vec<f64> = (0..n)
            .map(|_| install(mode, &uv, cache).unwrap_or_else(|e| panic!("{label}: {e}")))
            .collect();
        let m = median(times.clone());
        println!("{label}: median {m:.2}s  runs {times:.2?}");
        rows.push(m);
    }
    println!(
        "a/b (cold) = {:.1}x   a/c (warm) = {:.1}x",
        rows[0] / rows[1],
        rows[0] / rows[2]
    );
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Plain,
    Uv,
}

/// One install in a fresh home; returns seconds.
fn install(mode: Mode, uv: &Path, uv_cache: Option<&Path>) -> Result<f64, EngineError> {
    let home = tempfile::tempdir().expect("tempdir");
    let app = home.path().join("api/fixture");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("install.js"), FIXTURE).unwrap();
    let engine = Engine::detect(home.path());
    engine.set_acceleration(mode == Mode::Uv);
    if mode == Mode::Uv {
        std::fs::create_dir_all(home.path().join("bin")).unwrap();
        std::os::unix::fs::symlink(uv, home.path().join("bin/uv")).unwrap();
    }
    if let Some(c) = uv_cache {
        let dir = c.to_string_lossy().into_owned();
        engine.set_app_env("fixture", vec![("UV_CACHE_DIR".into(), dir)]);
    }
    let t = Instant::now();
    engine.run(
        app.join("install.js"),
        RunOptions::default(),
        StopHandle::new(),
    )?;
    Ok(t.elapsed().as_secs_f64())
}

/// uv from PyPI into the work folder (untimed).
fn install_uv(work: &Path) -> PathBuf {
    let target = work.join("uv");
    let st = Command::new("python3")
        .args(["-m", "pip", "install", "-q", "--target"])
        .arg(&target)
        .arg("uv")
        .status()
        .expect("python3");
    assert!(st.success(), "pip install uv failed");
    target.join("bin/uv")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
