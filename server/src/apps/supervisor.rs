//! Runs: each script runs on the engine's thread; one tokio task per run
//! pumps its events into the scrollback ring, the live broadcast, the log
//! file and the database, and records how it ended.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use engine::{Event, RunOptions, StopHandle};
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};

use super::error::{AppsError, Result};
use super::interact::RunHost;
use super::store::{now, RunId, RunRecord};
use super::{AppEvent, Apps, RunningRun, Shared, LOG_CAP_BYTES, SCROLLBACK_BYTES};

/// Finished runs kept in memory (for late attaches) besides running ones.
const KEEP_FINISHED: usize = 16;

/// One run, shared by the supervisor, its pump task and its host.
/// A download reading older than this is no longer shown (the tool moved
/// on to work that prints no bar).
const PROGRESS_STALE: Duration = Duration::from_secs(15);

pub(crate) struct RunState {
    pub id: RunId,
    pub app: String,
    pub script: String,
    pub script_path: PathBuf,
    pub started_at: i64,
    pub stopper: OnceLock<StopHandle>,
    term: Mutex<VecDeque<u8>>,
    output: broadcast::Sender<Bytes>,
    pub url: Mutex<Option<String>>,
    pub stop_reason: Mutex<Option<String>>,
    pub ended: watch::Sender<Option<RunRecord>>,
    /// The newest download reading and when it came.
    progress: Mutex<Option<(Instant, engine::Progress)>>,
}

impl RunState {
    /// Appends to the scrollback and tells every viewer, atomically with
    /// respect to [`RunState::attach`] so no viewer misses or doubles bytes.
    fn push(&self, data: &[u8]) {
        let mut ring = self.term.lock().expect("scrollback lock");
        ring.extend(data);
        let over = ring.len().saturating_sub(SCROLLBACK_BYTES);
        ring.drain(..over);
        let _ = self.output.send(Bytes::copy_from_slice(data));
    }

    fn attach(&self) -> (Vec<u8>, broadcast::Receiver<Bytes>) {
        let ring = self.term.lock().expect("scrollback lock");
        (ring.iter().copied().collect(), self.output.subscribe())
    }

    pub fn is_ended(&self) -> bool {
        self.ended.borrow().is_some()
    }

    /// The download in flight: a reading newer than [`PROGRESS_STALE`] that
    /// has not finished (a finished bar stays until the next one starts).
    fn current_progress(&self) -> Option<engine::Progress> {
        let p = self.progress.lock().expect("progress lock");
        p.as_ref()
            .filter(|(at, _)| at.elapsed() < PROGRESS_STALE)
            .map(|(_, p)| p.clone())
    }

    fn running(&self) -> RunningRun {
        let url = self.url.lock().expect("url lock").clone();
        RunningRun {
            progress: self.current_progress(),
            run_id: self.id,
            app: self.app.clone(),
            script: self.script.clone(),
            started_at: self.started_at,
            proxy_path: url
                .as_ref()
                .map(|_| format!("{}/", crate::proxy::prefix(&self.app))),
            url,
        }
    }
}

/// A log file capped at [`LOG_CAP_BYTES`], then rotated to `.1`.
struct LogFile {
    path: PathBuf,
    file: Option<std::fs::File>,
    written: u64,
}

impl LogFile {
    fn open(path: PathBuf) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| tracing::warn!(path = %path.display(), error = %e, "cannot write run log"))
            .ok();
        LogFile {
            path,
            file,
            written: 0,
        }
    }

    fn write(&mut self, data: &[u8]) {
        if self.written + data.len() as u64 > LOG_CAP_BYTES && self.written > 0 {
            let mut old = self.path.clone().into_os_string();
            old.push(".1");
            let _ = std::fs::rename(&self.path, &old);
            *self = LogFile::open(self.path.clone());
        }
        if let Some(f) = &mut self.file {
            let _ = f.write_all(data);
        }
        self.written += data.len() as u64;
    }
}

/// `start.js`, `sub/x.json?mode=a`: a relative path inside the app, and the
/// query as args.
fn split_script(script: &str) -> Result<(String, Option<Value>)> {
    let (file, query) = match script.split_once('?') {
        Some((f, q)) => (f, Some(q)),
        None => (script, None),
    };
    let mut file = file;
    while let Some(rest) = file.strip_prefix("./") {
        file = rest;
    }
    let p = Path::new(file);
    let ok = !file.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        return Err(AppsError::InvalidAnswer(format!(
            "script {script:?} must be a path inside the app folder, like start.js"
        )));
    }
    // Values are text and percent-decoded, as Pinokio passes menu `params`.
    let args = query.map(|q| Value::Object(engine::launcher::query_args(q)));
    Ok((file.to_string(), args))
}

/// `http://0.0.0.0:7860/` → `http://127.0.0.1:7860/`: what the app binds
/// to is not what we connect to.
fn local_url(url: &str) -> Option<String> {
    let url = url.trim();
    if !url.starts_with("http://") {
        return None;
    }
    Some(
        url.replacen("://0.0.0.0", "://127.0.0.1", 1)
            .replacen("://[::]", "://[::1]", 1),
    )
}

impl Shared {
    /// Registers the app's web UI with the proxy (loopback HTTP only).
    pub fn register_url(&self, run: &RunState, url: &str) -> bool {
        let Some(url) = local_url(url) else {
            return false;
        };
        if self.targets.set(&run.app, &url).is_err() {
            return false;
        }
        let mut cur = run.url.lock().expect("url lock");
        if cur.as_deref() == Some(url.as_str()) {
            return true;
        }
        *cur = Some(url.clone());
        drop(cur);
        self.emit(AppEvent::Url {
            run_id: run.id,
            app: run.app.clone(),
            url,
            proxy_path: format!("{}/", crate::proxy::prefix(&run.app)),
        });
        true
    }

    fn run_state(&self, run_id: RunId) -> Result<Arc<RunState>> {
        self.runs
            .lock()
            .expect("runs lock")
            .get(&run_id)
            .cloned()
            .ok_or(AppsError::NoSuchRun(run_id))
    }

    fn live_run(&self, run_id: RunId) -> Result<Arc<RunState>> {
        let run = self.run_state(run_id)?;
        if run.is_ended() {
            return Err(AppsError::RunEnded {
                run_id,
                app: run.app.clone(),
            });
        }
        Ok(run)
    }
}

impl Apps {
    /// Starts `script` (relative to the app folder; `?k=v` becomes args) on
    /// its own thread. Returns at once with the run's id.
    pub async fn start(&self, app: &str, script: &str, args: Value) -> Result<RunId> {
        let s = self.shared().clone();
        let dir = s.existing_app(app)?;
        let (rel, query_args) = split_script(script)?;
        let path = dir.join(&rel);
        if !path.is_file() {
            return Err(AppsError::NoSuchScript {
                app: app.to_string(),
                script: rel,
                dir,
            });
        }
        let args = match (args, query_args) {
            (Value::Null, Some(q)) => q,
            (Value::Null, None) => json!({}),
            (a, _) => a,
        };
        if let Some(r) = s
            .runs
            .lock()
            .expect("runs lock")
            .values()
            .find(|r| r.script_path == path && !r.is_ended())
        {
            return Err(AppsError::AlreadyRunning {
                app: app.to_string(),
                script: rel,
                run_id: r.id,
            });
        }
        let logs = s.logs_dir(app);
        std::fs::create_dir_all(&logs).map_err(AppsError::io(format!(
            "creating the log folder {}",
            logs.display()
        )))?;
        s.store.touch_app(app).await?;
        let (id, log_path) = s.store.insert_run(app, &rel, &args, &logs).await?;
        let (output, _) = broadcast::channel(1024);
        let run = Arc::new(RunState {
            id,
            app: app.to_string(),
            script: rel.clone(),
            script_path: path.clone(),
            started_at: now(),
            stopper: OnceLock::new(),
            term: Mutex::new(VecDeque::new()),
            output,
            url: Mutex::new(None),
            stop_reason: Mutex::new(None),
            ended: watch::channel(None).0,
            progress: Mutex::new(None),
        });
        s.runs.lock().expect("runs lock").insert(id, run.clone());
        s.engine.set_app_env(app, crate::proxy::launch_env(app));
        let (sink, rx) = engine::channel();
        let host = Arc::new(RunHost {
            shared: s.clone(),
            run: run.clone(),
        });
        let opts = RunOptions {
            args,
            host,
            events: sink,
        };
        let handle = match s.engine.start(&path, opts) {
            Ok(h) => h,
            Err(e) => {
                s.runs.lock().expect("runs lock").remove(&id);
                let _ = s.store.delete_run(id).await;
                return Err(AppsError::Engine {
                    app: app.to_string(),
                    source: Box::new(e),
                });
            }
        };
        let _ = run.stopper.set(handle.stopper());
        s.emit(AppEvent::RunStarted {
            run_id: id,
            app: app.to_string(),
            script: rel,
        });
        let log = LogFile::open(PathBuf::from(log_path));
        tokio::spawn(pump(s, run, rx, handle, log));
        Ok(id)
    }

    /// Stops a run: kills its whole process tree; it ends with reason "stopped".
    pub async fn stop(&self, run_id: RunId) -> Result<()> {
        let s = self.shared().clone();
        let run = s.live_run(run_id)?;
        stop_run(&s, &run, "stopped").await;
        Ok(())
    }

    /// Stops every run of an app and waits for them to end.
    pub async fn stop_app(&self, app: &str) -> Result<Vec<RunId>> {
        Ok(self.stop_where(|r| r.app == app, "stopped").await)
    }

    /// Stops everything (the dashboard is shutting down) and waits.
    pub async fn shutdown(&self) {
        self.stop_where(|_| true, "dashboard stopped").await;
    }

    /// Stops the live runs that `pick` selects, with `reason`, and waits for
    /// them to be recorded as ended; returns their ids.
    async fn stop_where(&self, pick: impl Fn(&RunState) -> bool, reason: &str) -> Vec<RunId> {
        let s = self.shared().clone();
        let runs: Vec<Arc<RunState>> = s
            .runs
            .lock()
            .expect("runs lock")
            .values()
            .filter(|r| !r.is_ended() && pick(r))
            .cloned()
            .collect();
        for r in &runs {
            stop_run(&s, r, reason).await;
        }
        for r in &runs {
            let _ = self.wait(r.id).await;
        }
        runs.iter().map(|r| r.id).collect()
    }

    /// Kills every run's processes at once, without waiting for the runs to
    /// be recorded as ended (for exit paths that cannot await).
    pub fn kill_all_now(&self) {
        let runs: Vec<Arc<RunState>> = self
            .shared()
            .runs
            .lock()
            .expect("runs lock")
            .values()
            .filter(|r| !r.is_ended())
            .cloned()
            .collect();
        for r in runs {
            r.stop_reason
                .lock()
                .expect("stop lock")
                .get_or_insert_with(|| "dashboard stopped".into());
            if let Some(stopper) = r.stopper.get() {
                stopper.stop();
            }
        }
    }

    /// Waits until a run has ended and returns its record.
    pub async fn wait(&self, run_id: RunId) -> Result<RunRecord> {
        let run = self.shared().run_state(run_id);
        if let Ok(run) = run {
            let mut rx = run.ended.subscribe();
            loop {
                if let Some(rec) = rx.borrow_and_update().clone() {
                    return Ok(rec);
                }
                if rx.changed().await.is_err() {
                    break;
                }
            }
        }
        self.run_record(run_id).await
    }

    /// Runs in progress, oldest first.
    pub fn running(&self) -> Vec<RunningRun> {
        self.shared()
            .runs
            .lock()
            .expect("runs lock")
            .values()
            .filter(|r| !r.is_ended())
            .map(|r| r.running())
            .collect()
    }

    /// The run's terminal so far (up to 1 MiB) and a receiver of what comes
    /// next. Works for recently ended runs too (the receiver then closes).
    pub fn attach(&self, run_id: RunId) -> Result<(Vec<u8>, broadcast::Receiver<Bytes>)> {
        Ok(self.shared().run_state(run_id)?.attach())
    }

    /// Becomes `Some` when the run ends (its output has all been sent to
    /// viewers by then), so a terminal can say so and close.
    pub fn ended(&self, run_id: RunId) -> Result<watch::Receiver<Option<RunRecord>>> {
        Ok(self.shared().run_state(run_id)?.ended.subscribe())
    }

    /// Types into the run's current terminal (keys, pasted text, Ctrl-C as `\x03`).
    pub fn send_input(&self, run_id: RunId, bytes: &[u8]) -> Result<()> {
        let run = self.shared().live_run(run_id)?;
        let stopper = run.stopper.get().ok_or(AppsError::Terminal {
            run_id,
            message: "the run is still starting; try again".into(),
        })?;
        stopper.write_input(bytes).map_err(|e| AppsError::Terminal {
            run_id,
            message: e.to_string(),
        })
    }

    /// Resizes the run's terminals.
    pub fn resize(&self, run_id: RunId, cols: u16, rows: u16) -> Result<()> {
        let run = self.shared().live_run(run_id)?;
        let stopper = run.stopper.get().ok_or(AppsError::Terminal {
            run_id,
            message: "the run is still starting; try again".into(),
        })?;
        stopper.resize(cols, rows).map_err(|e| AppsError::Terminal {
            run_id,
            message: e.to_string(),
        })
    }

    /// The run's full log (rotated part first), as text.
    pub async fn log(&self, run_id: RunId) -> Result<String> {
        let rec = self.run_record(run_id).await?;
        let mut out = Vec::new();
        let old = format!("{}.1", rec.log_path);
        for p in [old.as_str(), rec.log_path.as_str()] {
            match tokio::fs::read(p).await {
                Ok(b) => out.extend(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(AppsError::io(format!("reading the log {p}"))(e)),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The script `start` runs by default: `start.js`/`start.json`, else
    /// the launcher's default item, else its first script item.
    pub async fn default_script(&self, app: &str) -> Result<String> {
        let dir = self.shared().existing_app(app)?;
        for f in ["start.js", "start.json"] {
            if dir.join(f).is_file() {
                return Ok(f.to_string());
            }
        }
        let menu = self.menu(app).await?;
        let items: Vec<&engine::MenuItem> = menu.items.iter().collect();
        let pick = items
            .iter()
            .filter(|i| i.default == Some(true))
            .chain(items.iter())
            .find_map(|i| i.script(&menu.dir));
        match pick {
            Some((path, query)) => {
                let rel = path
                    .strip_prefix(&dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                Ok(match query {
                    Some(q) => format!("{rel}?{q}"),
                    None => rel,
                })
            }
            None => Err(AppsError::NoSuchScript {
                app: app.to_string(),
                script: "start.js".into(),
                dir,
            }),
        }
    }
}

async fn stop_run(s: &Arc<Shared>, run: &Arc<RunState>, reason: &str) {
    {
        let mut r = run.stop_reason.lock().expect("stop lock");
        if r.is_none() {
            *r = Some(reason.to_string());
        }
    }
    s.forms.cancel_run(s, run.id);
    if let Some(stopper) = run.stopper.get().cloned() {
        let _ = tokio::task::spawn_blocking(move || stopper.stop()).await;
    }
}

/// Follows a run from start to end.
async fn pump(
    s: Arc<Shared>,
    run: Arc<RunState>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Event>,
    handle: engine::RunHandle,
    mut log: LogFile,
) {
    let stopper = handle.stopper();
    let mut waiter = tokio::task::spawn_blocking(move || handle.wait());
    let mut known_groups = 0usize;
    let result = loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => {
                    record_warning(&s, &run, &ev).await;
                    handle_event(&s, &run, ev, &mut log)
                }
                None => break (&mut waiter).await,
            },
            r = &mut waiter => break r,
        }
        let groups = stopper.groups();
        if groups.len() != known_groups {
            known_groups = groups.len();
            record_groups(&s, run.id, &groups).await;
        }
    };
    // What the run emitted before its thread ended.
    while let Ok(ev) = rx.try_recv() {
        record_warning(&s, &run, &ev).await;
        handle_event(&s, &run, ev, &mut log);
    }
    let result = result.unwrap_or_else(|e| {
        Err(engine::EngineError::Internal(format!(
            "the run thread failed: {e}"
        )))
    });
    let stop_reason = run.stop_reason.lock().expect("stop lock").clone();
    let (outcome, reason) = match (&result, stop_reason) {
        (_, Some(reason)) => ("stopped", reason),
        (Ok(_), None) => ("ok", "finished".to_string()),
        (Err(e), None) if e.is_stopped() => ("stopped", "stopped".to_string()),
        (Err(e), None) => ("error", e.to_string()),
    };
    let closed = s.closed.load(std::sync::atomic::Ordering::SeqCst);
    if outcome == "error" && !closed {
        let line = format!("\r\n\x1b[31m{}\x1b[0m\r\n", reason.replace('\n', "\r\n"));
        run.push(line.as_bytes());
        log.write(line.as_bytes());
        let _ = s
            .store
            .add_event(
                &run.app,
                Some(run.id),
                "error",
                &json!({ "message": reason }),
            )
            .await;
        s.emit(AppEvent::Error {
            run_id: run.id,
            app: run.app.clone(),
            message: reason.clone(),
        });
    }
    // A closed supervisor no longer owns the home: the next one records it.
    if !closed {
        if let Err(e) = s.store.end_run(run.id, outcome, &reason).await {
            tracing::warn!(run = run.id, error = %e, "cannot record the end of a run");
        }
    }
    s.forms.cancel_run(&s, run.id);
    let had_url = run.url.lock().expect("url lock").take().is_some();
    if had_url {
        let other =
            s.runs.lock().expect("runs lock").values().any(|r| {
                r.id != run.id && r.app == run.app && r.url.lock().expect("url").is_some()
            });
        if !other {
            s.targets.remove(&run.app);
        }
    }
    let record = s.store.run(run.id).await.ok().flatten();
    run.ended
        .send_replace(Some(record.unwrap_or_else(|| RunRecord {
            id: run.id,
            app: run.app.clone(),
            script: run.script.clone(),
            args: Value::Null,
            started_at: run.started_at,
            ended_at: Some(now()),
            outcome: Some(outcome.into()),
            reason: Some(reason.clone()),
            log_path: log.path.display().to_string(),
            pid: None,
            pgid: None,
        })));
    s.emit(AppEvent::RunEnded {
        run_id: run.id,
        app: run.app.clone(),
        outcome: outcome.into(),
        reason,
    });
    s.emit(AppEvent::Changed {
        app: run.app.clone(),
    });
    prune(&s);
}

/// Stores an engine warning (a non-zero exit Pinokio passes over) with the
/// run, as a `warning` app event: the app page lists it among its notices.
/// The terminal already shows it as a line of output.
async fn record_warning(s: &Shared, run: &RunState, ev: &Event) {
    let Event::Warning {
        script,
        index,
        message,
    } = ev
    else {
        return;
    };
    let name = script
        .strip_prefix(s.app_dir(&run.app))
        .unwrap_or(script)
        .display()
        .to_string();
    let payload = json!({
        "message": format!("{name} step {index}: {message}"),
        "script": name,
        "index": index,
    });
    if let Err(e) = s
        .store
        .add_event(&run.app, Some(run.id), "warning", &payload)
        .await
    {
        tracing::warn!(run = run.id, error = %e, "cannot record a run warning");
    }
}

async fn record_groups(s: &Shared, id: RunId, groups: &[i32]) {
    let with_start: Vec<(i32, u64)> = groups
        .iter()
        .map(|&g| (g, super::reconcile::start_time(g).unwrap_or(0)))
        .collect();
    if let Err(e) = s.store.set_groups(id, &with_start).await {
        tracing::warn!(run = id, error = %e, "cannot record a run's processes");
    }
}

fn prune(s: &Shared) {
    let mut runs = s.runs.lock().expect("runs lock");
    let ended: Vec<RunId> = runs
        .values()
        .filter(|r| r.is_ended())
        .map(|r| r.id)
        .collect();
    for id in ended.iter().take(ended.len().saturating_sub(KEEP_FINISHED)) {
        runs.remove(id);
    }
}

fn handle_event(s: &Shared, run: &RunState, ev: Event, log: &mut LogFile) {
    let mut out = |bytes: &[u8]| {
        run.push(bytes);
        log.write(bytes);
    };
    match ev {
        Event::Output { data, .. } => out(&data),
        Event::Progress { progress, .. } => {
            *run.progress.lock().expect("progress lock") = Some((Instant::now(), progress));
        }
        Event::Log { text, .. } => out(format!("{}\r\n", text.replace('\n', "\r\n")).as_bytes()),
        Event::StepStart {
            script,
            index,
            total,
            step,
        } => {
            let method = step.get("method").and_then(Value::as_str).unwrap_or("?");
            let name = script
                .strip_prefix(s.app_dir(&run.app))
                .unwrap_or(&script)
                .display()
                .to_string();
            out(format!("\x1b[2m[{name} {}/{total}] {method}\x1b[0m\r\n", index + 1).as_bytes());
        }
        Event::StepEnd { script, .. } => {
            let local = s.engine.local(&script);
            if let Some(url) = local.get("url").and_then(Value::as_str) {
                s.register_url(run, url);
            }
        }
        Event::DaemonReady { script } if script == run.script_path => {
            s.emit(AppEvent::RunReady {
                run_id: run.id,
                app: run.app.clone(),
            });
            s.emit(AppEvent::Changed {
                app: run.app.clone(),
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_stay_inside_the_app_and_queries_become_args() {
        assert_eq!(split_script("start.js").unwrap(), ("start.js".into(), None));
        let (f, a) = split_script("sub/run.json?mode=fast&x=1").unwrap();
        assert_eq!(f, "sub/run.json");
        assert_eq!(a.unwrap(), json!({"mode": "fast", "x": "1"}));
        assert_eq!(split_script("./x.js").unwrap().0, "x.js");
        for bad in ["", "../x.js", "/etc/passwd", "a/../../b.js", "a/../b.js"] {
            assert!(split_script(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcard_binds_become_loopback_urls() {
        assert_eq!(
            local_url("http://0.0.0.0:7860").as_deref(),
            Some("http://127.0.0.1:7860")
        );
        assert_eq!(local_url("https://x").as_deref(), None);
    }

    #[test]
    fn log_files_rotate_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.log");
        let mut log = LogFile::open(path.clone());
        let chunk = vec![b'x'; (LOG_CAP_BYTES / 2) as usize + 1];
        log.write(&chunk);
        log.write(&chunk);
        log.write(b"tail");
        assert_eq!(std::fs::read(&path).unwrap().len(), chunk.len() + 4);
        assert_eq!(
            std::fs::metadata(dir.path().join("1.log.1")).unwrap().len(),
            chunk.len() as u64
        );
    }
}
