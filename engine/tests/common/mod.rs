//! Shared fixtures: a temporary Pinokio home with apps written from strings.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::{AutoHost, Engine, Event, Gpu, RunOptions, SystemInfo};
use serde_json::Value;

pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Self {
        Home {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `<home>/api/<app>`, created.
    pub fn app(&self, name: &str) -> PathBuf {
        let d = self.path().join("api").join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Writes `rel` under app `name` and returns its path.
    pub fn write(&self, app: &str, rel: &str, text: &str) -> PathBuf {
        let p = self.app(app).join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn engine(&self) -> Engine {
        Engine::new(self.path(), linux_box("none"))
    }
}

pub fn linux_box(gpu: &str) -> SystemInfo {
    let gpus = if gpu == "nvidia" {
        vec![Gpu {
            vendor: "nvidia".into(),
            model: "NVIDIA GeForce RTX 5090".into(),
            vram: 32607,
        }]
    } else {
        vec![]
    };
    SystemInfo {
        platform: "linux".into(),
        arch: "x64".into(),
        gpu: gpu.into(),
        gpus,
        ram: 64,
        cpus: 8,
        gpu_driver: (gpu == "nvidia").then(|| "570.86.10".into()),
        cuda: (gpu == "nvidia").then(|| "12.8".into()),
        gpu_target: (gpu == "nvidia").then(|| "sm_120".into()),
    }
}

/// Runs a script to its end, collecting all events.
pub fn run(
    engine: &Engine,
    script: &Path,
    args: Value,
    answers: Value,
) -> (Result<Value, engine::EngineError>, Vec<Event>) {
    run_with_host(engine, script, args, Arc::new(AutoHost::new(answers)))
}

/// [`run`] with `host` answering the script's questions (a recorder, say).
pub fn run_with_host(
    engine: &Engine,
    script: &Path,
    args: Value,
    host: Arc<dyn engine::Host>,
) -> (Result<Value, engine::EngineError>, Vec<Event>) {
    let (sink, mut rx) = engine::channel();
    let opts = RunOptions {
        args,
        host,
        events: sink,
    };
    let h = engine.start(script, opts).expect("start");
    let r = h.wait();
    let mut events = vec![];
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (r, events)
}

pub fn logs(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Log { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

pub fn output(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Output { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
            _ => None,
        })
        .collect()
}

/// [`output`] without terminal escapes (colours, cursor moves), for tools
/// that draw when they see a terminal (uv through the pip shim).
pub fn plain_output(events: &[Event]) -> String {
    engine::ansi::strip(output(events).as_bytes())
}

pub fn wait_until(mut f: impl FnMut() -> bool, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Writes a minimal pure-Python wheel (a zip with METADATA/WHEEL/RECORD).
/// Returns the wheel's file name.
pub fn make_wheel(dir: &Path) -> &'static str {
    let py = r#"
import zipfile, sys
p = sys.argv[1] + "/tinypkg-0.1-py3-none-any.whl"
with zipfile.ZipFile(p, "w") as z:
    z.writestr("tinypkg/__init__.py", "def hello():\n    return 'hello from tinypkg'\n")
    z.writestr("tinypkg-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinypkg\nVersion: 0.1\n")
    z.writestr("tinypkg-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("tinypkg-0.1.dist-info/RECORD", "")
"#;
    std::fs::create_dir_all(dir).unwrap();
    let st = std::process::Command::new("python3")
        .args(["-c", py, &dir.to_string_lossy()])
        .status()
        .unwrap();
    assert!(st.success());
    "tinypkg-0.1-py3-none-any.whl"
}

/// Makes `dir` a git repository whose `origin` is `url` (what Pinokio's
/// git-URI paths are resolved against), without any network.
pub fn git_repo_with_origin(dir: &Path, url: &str) {
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(st.status.success(), "{st:?}");
    };
    git(&["init", "-q"]);
    git(&["remote", "add", "origin", url]);
}

/// Starts `script` with default options and hands back its event stream,
/// for tests that watch a run while it goes on.
pub fn start_with_events(
    engine: &Engine,
    script: &Path,
) -> (
    engine::RunHandle,
    tokio::sync::mpsc::UnboundedReceiver<Event>,
) {
    let (sink, rx) = engine::channel();
    let run = engine
        .start(
            script,
            RunOptions {
                events: sink,
                ..Default::default()
            },
        )
        .unwrap();
    (run, rx)
}
