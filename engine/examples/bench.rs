//! Engine benchmarks: `cargo run --release -p engine --example bench`.
//! Prints numbers; asserts nothing (speed goals are read, not tested).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use engine::{Engine, Event, PlanOptions, RunOptions, StopHandle};
use serde_json::json;

fn main() {
    let home = tempfile::tempdir().expect("tempdir");
    let app = home.path().join("api/bench");
    std::fs::create_dir_all(&app).unwrap();
    let engine = Engine::detect(home.path());
    step_overhead(&engine, &app);
    template_latency(&engine, &app);
    plan_time(&engine, &app);
    url_to_handler(&engine, &app);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn step_overhead(engine: &Engine, app: &std::path::Path) {
    let steps: Vec<String> = (0..200)
        .map(|i| {
            if i % 2 == 0 {
                format!(r#"{{ "method": "local.set", "params": {{ "k{i}": "{{{{current}}}}-{{{{local.k0 || 0}}}}" }} }}"#)
            } else {
                r#"{ "method": "log", "params": { "text": "step {{current}} of {{args.n}}" } }"#.to_string()
            }
        })
        .collect();
    let script = app.join("steps.json");
    std::fs::write(&script, format!(r#"{{ "run": [{}] }}"#, steps.join(","))).unwrap();
    let empty = app.join("empty.json");
    std::fs::write(&empty, r#"{ "run": [] }"#).unwrap();
    let mut per_step = vec![];
    let mut fixed = vec![];
    for _ in 0..7 {
        let t = Instant::now();
        engine
            .run(&empty, RunOptions::default(), StopHandle::new())
            .unwrap();
        let base = t.elapsed().as_secs_f64();
        let (sink, mut rx) = engine::channel();
        let opts = RunOptions {
            args: json!({ "n": 200 }),
            events: sink,
            ..Default::default()
        };
        let t = Instant::now();
        engine.run(&script, opts, StopHandle::new()).unwrap();
        let total = t.elapsed().as_secs_f64();
        while rx.try_recv().is_ok() {}
        fixed.push(base * 1e3);
        per_step.push((total - base) / 200.0 * 1e3);
    }
    println!("step overhead (200 local.set/log steps, events on): {:.4} ms/step (median of 7); per-run setup (JS runtime + load): {:.2} ms", median(per_step), median(fixed));
}

fn template_latency(engine: &Engine, app: &std::path::Path) {
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

fn plan_time(engine: &Engine, app: &std::path::Path) {
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

fn url_to_handler(engine: &Engine, app: &std::path::Path) {
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
