//! Engine benchmarks: `cargo run --release -p engine --example bench`
//! (`-- steps [json object function reads]` for the step overhead alone;
//! `BENCH_REPS=n` repetitions, 7 by default). Prints numbers; asserts
//! nothing (speed goals are read, not tested).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use engine::{Engine, Event, PlanOptions, RunOptions};
use serde_json::json;

fn main() {
    let home = tempfile::tempdir().expect("tempdir");
    let app = home.path().join("api/bench");
    std::fs::create_dir_all(&app).unwrap();
    let engine = Engine::detect(home.path());
    step_overhead(&engine, &app);
    if std::env::args().nth(1).as_deref() == Some("steps") {
        return;
    }
    template_latency(&engine, &app);
    plan_time(&engine, &app);
    url_to_handler(&engine, &app);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Steps of the overhead benchmark (issue: ≤ 0.05 ms/step at 2000).
const STEPS: usize = 2000;

/// A `local.set` + `log` script of `n` steps in one of the shapes Pinokio
/// accepts: JSON, a JS object, a JS object whose top level reads a file
/// (evaluated again every step, like Pinokio), a function export (C-004).
fn steps_script(app: &Path, shape: &str, n: usize) -> PathBuf {
    let steps: Vec<String> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                format!(r#"{{ "method": "local.set", "params": {{ "k{i}": "{{{{current}}}}-{{{{local.k0 || 0}}}}" }} }}"#)
            } else {
                r#"{ "method": "log", "params": { "text": "step {{current}} of {{args.n}}" } }"#.to_string()
            }
        })
        .collect();
    let steps = steps.join(",");
    let (name, text) = match shape {
        "json" => (format!("steps{n}.json"), format!(r#"{{ "run": [{steps}] }}"#)),
        "object" => (format!("steps{n}.js"), format!("module.exports = {{ run: [{steps}] }}")),
        "reads" => (
            format!("reads{n}.js"),
            format!("const fresh = require('fs').existsSync(__dirname + '/flag');\nmodule.exports = {{ run: [{steps}] }}"),
        ),
        _ => (
            format!("fn{n}.js"),
            format!("module.exports = async (kernel) => ({{ run: [{steps}] }})"),
        ),
    };
    let p = app.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// CPU time of this process so far (all threads), in ms: steadier than
/// wall time on a shared machine.
fn cpu_ms() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(u.ru_utime) + ms(u.ru_stime)
}

/// Runs `script` the way `pinokiocloud run` does: `Engine::start`, events
/// printed by another thread (to a sink here), wait for the end. Returns
/// (wall, cpu) milliseconds.
fn run_like_cli(engine: &Engine, script: &Path, n: usize) -> (f64, f64) {
    let (sink, mut rx) = engine::channel();
    let opts = RunOptions {
        args: json!({ "n": n }),
        events: sink,
        ..Default::default()
    };
    let (t, c) = (Instant::now(), cpu_ms());
    let h = engine.start(script, opts).unwrap();
    let printer = std::thread::spawn(move || {
        let mut out = std::io::sink();
        while let Some(ev) = rx.blocking_recv() {
            match ev {
                Event::Log { text, .. } => writeln!(out, "{text}").unwrap(),
                Event::StepStart {
                    index, total, step, ..
                } => {
                    let method = step.get("method").and_then(|m| m.as_str()).unwrap_or("?");
                    writeln!(out, "▶ [{}/{total}] {method}", index + 1).unwrap()
                }
                _ => {}
            }
        }
    });
    h.wait().unwrap();
    printer.join().unwrap();
    (t.elapsed().as_secs_f64() * 1e3, cpu_ms() - c)
}

fn step_overhead(engine: &Engine, app: &Path) {
    let one = steps_script(app, "json", 1);
    let picked: Vec<String> = std::env::args().skip(2).collect();
    for shape in ["json", "object", "function", "reads"] {
        if !picked.is_empty() && !picked.iter().any(|p| p == shape) {
            continue;
        }
        // A script evaluated again before every step costs O(steps) per
        // step (as in Pinokio): measured on fewer steps.
        let n = if shape == "reads" { 200 } else { STEPS };
        let many = steps_script(app, shape, n);
        let (mut wall, mut cpu, mut fixed) = (vec![], vec![], vec![]);
        let reps: usize = std::env::var("BENCH_REPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(7);
        for _ in 0..reps {
            let base = run_like_cli(engine, &one, 1);
            let total = run_like_cli(engine, &many, n);
            fixed.push(base.0);
            wall.push((total.0 - base.0) / (n - 1) as f64);
            cpu.push((total.1 - base.1) / (n - 1) as f64);
        }
        println!(
            "step overhead, {n} local.set/log steps ({shape} script, as `pinokiocloud run`): {:.4} ms/step wall, {:.4} ms/step CPU (medians of {reps}); one-step run {:.2} ms",
            median(wall),
            median(cpu),
            median(fixed)
        );
    }
    cli_overhead(app, &one);
}

/// The same through the real binary when one is named:
/// `PINOKIOCLOUD=target/release/pinokiocloud`.
fn cli_overhead(app: &Path, one: &Path) {
    let Ok(bin) = std::env::var("PINOKIOCLOUD") else {
        println!("(set PINOKIOCLOUD=<path to pinokiocloud> to time `pinokiocloud run` itself)");
        return;
    };
    let home = app.parent().and_then(Path::parent).unwrap().to_path_buf();
    let many = steps_script(app, "json", STEPS);
    let time = |script: &Path, n: usize| {
        let t = Instant::now();
        let st = std::process::Command::new(&bin)
            .args(["run", "--home"])
            .arg(&home)
            .arg(script)
            .args(["--args", &format!(r#"{{"n": {n}}}"#)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run pinokiocloud");
        assert!(st.success(), "pinokiocloud run failed");
        t.elapsed().as_secs_f64() * 1e3
    };
    let (mut per_step, mut ones, mut alls) = (vec![], vec![], vec![]);
    for _ in 0..7 {
        let base = time(one, 1);
        let total = time(&many, STEPS);
        ones.push(base);
        alls.push(total);
        per_step.push((total - base) / (STEPS - 1) as f64);
    }
    println!(
        "`pinokiocloud run`: {STEPS}-step JSON script {:.1} ms, one-step script {:.1} ms → {:.4} ms/step (median of 7)",
        median(alls),
        median(ones),
        median(per_step)
    );
}

fn template_latency(engine: &Engine, app: &Path) {
    let r = engine.renderer(app).unwrap();
    let value = json!({ "message": "python app.py --port {{port}} --name {{args.name}}", "venv": "{{local.venv}}", "n": "{{[1,2,3].map(x => x * 2).length}}" });
    let mem = json!({ "port": 42000, "args": { "name": "x" }, "local": { "venv": "env" } });
    for _ in 0..200 {
        r.render(&value, &mem).unwrap();
    }
    let n = 5000;
    let t = Instant::now();
    for _ in 0..n {
        r.render(&value, &mem).unwrap();
    }
    let us = t.elapsed().as_secs_f64() / n as f64 * 1e6;
    println!("template render (object with 3 templates, cached): {us:.1} µs");
}

fn plan_time(engine: &Engine, app: &Path) {
    std::fs::write(app.join("torch.js"), r#"module.exports = { run: [
      { when: "{{gpu === 'nvidia'}}", method: "shell.run", params: { venv: "{{args.venv}}", path: "{{args.path}}", message: "pip install torch --index-url https://download.pytorch.org/whl/cu128" }, next: null },
      { method: "shell.run", params: { venv: "{{args.venv}}", path: "{{args.path}}", message: "pip install torch" }, next: null } ] }"#).unwrap();
    let install = app.join("install.js");
    std::fs::write(&install, r#"module.exports = { run: [
      { method: "shell.run", params: { message: ["git clone https://github.com/example/app app"] } },
      { method: "script.start", params: { uri: "torch.js", params: { venv: "env", path: "app" } } },
      { method: "shell.run", params: { venv: "env", path: "app", message: ["uv pip install -r requirements.txt"] } },
      { method: "fs.link", params: { venv: "app/env" } },
      { method: "hf.download", params: { path: "app", "_": ["org/model"], "local-dir": "models" } },
      { method: "fs.write", params: { path: "app/config.json", json: { gpu: "{{gpu}}" } } },
      { method: "notify", params: { html: "Installed" } } ] }"#).unwrap();
    let mut times = vec![];
    for _ in 0..20 {
        let t = Instant::now();
        let p = engine.plan(&install, PlanOptions::default()).unwrap();
        assert_eq!(p.len(), 8);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "plan of a typical install script (8 steps incl. torch.js): {:.2} ms (median of 20)",
        median(times)
    );
}

fn url_to_handler(engine: &Engine, app: &Path) {
    let start = app.join("start.js");
    std::fs::write(&start, r#"module.exports = { daemon: true, run: [
      { method: "shell.run", params: { message: "python3 -c \"import time; t=time.time_ns(); print(f'\\033[32mRunning on http://127.0.0.1:7860/{t}\\033[0m', flush=True); time.sleep(100)\"",
        on: [{ event: "/http:\\/\\/\\S+/", done: true }] } } ] }"#).unwrap();
    let mut lat = vec![];
    for _ in 0..10 {
        let (sink, mut rx) = engine::channel();
        let h = engine
            .start(
                &start,
                RunOptions {
                    events: sink,
                    ..Default::default()
                },
            )
            .unwrap();
        while let Some(ev) = rx.blocking_recv() {
            if let Event::StepEnd {
                index: 0, result, ..
            } = &ev
            {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos();
                let url = result["event"][0].as_str().unwrap().to_string();
                let printed: u128 = url.rsplit('/').next().unwrap().parse().unwrap();
                lat.push((now - printed) as f64 / 1e6);
                break;
            }
        }
        h.stop();
        let _ = h.wait();
        std::thread::sleep(Duration::from_millis(20));
    }
    let max = lat.iter().cloned().fold(0.0, f64::max);
    println!("daemon prints URL → `on` handler fired (step end event): median {:.2} ms, max {:.2} ms (10 runs)", median(lat), max);
}
