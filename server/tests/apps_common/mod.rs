//! Shared fixtures for the apps tests: a temporary home with its database,
//! Pinokio apps as real local git repositories, and event helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use server::apps::{AppEvent, Apps};
use server::proxy::ProxyTargets;
use server::store::Store;
use tokio::sync::broadcast;

/// No test waits forever: a stuck wait fails with what it waited for.
pub const PATIENCE: Duration = Duration::from_secs(90);

pub struct Fixture {
    pub home: tempfile::TempDir,
    pub store: Store,
    pub targets: Arc<ProxyTargets>,
    pub apps: Apps,
    crashed: bool,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).await.unwrap();
        let targets = Arc::new(ProxyTargets::new());
        let apps = Apps::open(home.path(), store.pool().clone(), targets.clone())
            .await
            .unwrap();
        Fixture {
            home,
            store,
            targets,
            apps,
            crashed: false,
        }
    }

    /// The dashboard dies: its supervisor goes away without stopping any
    /// run (their threads and processes go on). Returns what survives.
    ///
    /// The last element holds the dead supervisor's run threads: a daemon
    /// run stays "running" after its processes exit (as in Pinokio), so the
    /// test keeps it (`_ghost`) and its drop stops them at the test's end,
    /// where a real crash would have ended the threads with the process.
    pub fn crash(mut self) -> (tempfile::TempDir, Store, Arc<ProxyTargets>, Ghost) {
        self.crashed = true;
        let home = std::mem::replace(&mut self.home, tempfile::tempdir().unwrap());
        let ghost = Ghost(self.apps.engine().clone());
        (home, self.store.clone(), self.targets.clone(), ghost)
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }

    /// Writes an app straight into `<home>/api/<name>` (no install).
    pub fn put_app(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.path().join("api").join(name);
        write_files(&dir, files);
        dir
    }
}

/// A crashed supervisor's leftover run threads (see [`Fixture::crash`]).
pub struct Ghost(engine::Engine);

impl Drop for Ghost {
    fn drop(&mut self) {
        for script in self.0.running() {
            self.0.stop(&script);
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Never leave processes behind, whatever the test did.
        if !self.crashed {
            self.apps.kill_all_now();
        }
    }
}

pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
}

/// A git repository holding `files`, and its `file://` URL.
pub fn git_repo(name: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    write_files(&dir, files);
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "fixture"]);
    let url = format!("file://{}", dir.display());
    (root, url)
}

pub const PINOKIO_JS: &str = r#"module.exports = {
  title: "Fixture App",
  description: "A test app",
  menu: async (kernel, info) => [
    { text: "Install", href: "install.json" },
    { default: true, text: "Start", href: "start.json" }
  ]
}"#;

/// A JSON script of `shell.run` steps.
pub fn shell_script(lines: &[&str]) -> String {
    let steps: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::json!({ "method": "shell.run", "params": { "message": l } }))
        .collect();
    serde_json::json!({ "run": steps }).to_string()
}

/// Waits for the first event matching `pick`.
pub async fn next_event<T>(
    rx: &mut broadcast::Receiver<AppEvent>,
    what: &str,
    mut pick: impl FnMut(&AppEvent) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(PATIENCE, async {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if let Some(t) = pick(&e) {
                        return t;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(e) => panic!("event stream ended while waiting for {what}: {e}"),
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no event: {what}"))
}

/// Reads a run's terminal until `needle` shows up; returns all text seen.
pub async fn wait_output(apps: &Apps, run_id: i64, needle: &str) -> String {
    let (scroll, mut rx) = apps.attach(run_id).unwrap();
    let mut text = String::from_utf8_lossy(&scroll).into_owned();
    let r = tokio::time::timeout(PATIENCE, async {
        while !text.contains(needle) {
            match rx.recv().await {
                Ok(b) => text.push_str(&String::from_utf8_lossy(&b)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => break,
            }
        }
    })
    .await;
    assert!(
        r.is_ok() && text.contains(needle),
        "no {needle:?} in the terminal:\n{text}"
    );
    text
}

/// Whether a process exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|t| t.rsplit_once(") ").map(|(_, r)| !r.starts_with('Z')))
        .unwrap_or(false)
}

/// Pids whose environment holds `marker` (how tests find their processes).
pub fn pids_with_env(marker: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|b| *b == 0).any(|kv| kv == marker.as_bytes()))
                .unwrap_or(false)
        })
        .filter(|pid| alive(*pid))
        .collect()
}

/// `Apps::open` on a home whose supervisor was just dropped (a restart in
/// the same test process). Tests run in parallel threads: one that forks a
/// child at that moment holds a copy of the home lock's descriptor until its
/// exec, so the lock can still look taken for a few milliseconds. A real
/// restart is a new process and never meets this.
pub async fn reopen(home: &Path, store: &Store, targets: &Arc<ProxyTargets>) -> Apps {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match Apps::open(home, store.pool().clone(), targets.clone()).await {
            Ok(apps) => return apps,
            Err(server::apps::AppsError::HomeLocked { .. })
                if std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(err) => panic!("reopening {}: {err}", home.display()),
        }
    }
}
