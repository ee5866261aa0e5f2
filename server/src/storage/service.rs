//! The Storage page's server side: sizes scanned in the background and
//! kept in memory, so request handlers only ever read the last result.
//!
//! A scan runs at start, on demand, after every action here and after apps
//! are installed, uninstalled, renamed or finish a run (installs and
//! downloads are runs). Requests that arrive while a scan runs are merged
//! into one more scan after it. Dedup passes started from the page run in
//! the background too, and rescan when done.

use super::dedup::{self, Options, Trigger};
use super::usage::filesystems::Hints;
use super::usage::walk::Progress;
use super::{actions, usage};
use crate::apps::AppEvent;
use crate::store::Store;
use anyhow::Context;
use app::api::{
    human_bytes, DedupStatus, ModelsPlacement, ScanStatus, StorageOverview, StorageUsage,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch, Notify};

/// Why an app cannot lose its venv now (`Some(sentence)`), e.g. it runs.
pub type BusyCheck = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Cheap to clone; every clone shares one state and one scanner.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    home: PathBuf,
    store: Store,
    hints: Hints,
    busy: BusyCheck,
    state: Mutex<State>,
    wake: Notify,
    /// The number of the last scan request a finished scan covers.
    finished: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    usage: Option<StorageUsage>,
    /// Scan requests so far; a scan covers every request made before it began.
    requested: u64,
    started: u64,
    scanning: bool,
    progress: Arc<Progress>,
    error: Option<String>,
    dedup: DedupRun,
    models: ModelsMove,
}

/// A move of the shared models started from the page.
#[derive(Default)]
struct ModelsMove {
    running: bool,
    copied: u64,
    total: u64,
    last_result: Option<String>,
    error: Option<String>,
}

#[derive(Default)]
struct DedupRun {
    running: bool,
    progress: Option<String>,
    last_result: Option<String>,
    error: Option<String>,
}

impl Storage {
    /// Starts the scanner (and a first scan). Needs a tokio runtime.
    pub fn start(home: &Path, store: Store, hints: Hints, busy: BusyCheck) -> Storage {
        let storage = Storage {
            inner: Arc::new(Inner {
                home: home.to_path_buf(),
                store,
                hints,
                busy,
                state: Mutex::new(State::default()),
                wake: Notify::new(),
                finished: watch::channel(0).0,
            }),
        };
        tokio::spawn(scanner(storage.inner.clone()));
        storage.rescan();
        storage
    }

    /// The database dedup keeps its index and settings in.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Rescans after app events that change what is on disk.
    pub fn follow(&self, mut events: broadcast::Receiver<AppEvent>) {
        let storage = self.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(e) if changes_disk(&e) => {
                        storage.rescan();
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        storage.rescan();
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }

    /// Asks for a scan; returns its request number (see [`Self::wait_for`]).
    pub fn rescan(&self) -> u64 {
        let id = {
            let mut state = self.lock();
            state.requested += 1;
            state.requested
        };
        self.inner.wake.notify_one();
        id
    }

    /// Waits until a scan covering request `id` has finished.
    pub async fn wait_for(&self, id: u64) {
        let mut rx = self.inner.finished.subscribe();
        let _ = rx.wait_for(|done| *done >= id).await;
    }

    /// Scans now and returns the result (tests, the CLI's shape).
    pub async fn scan_now(&self) -> anyhow::Result<StorageUsage> {
        let id = self.rescan();
        self.wait_for(id).await;
        let state = self.lock();
        match (&state.error, &state.usage) {
            (Some(err), _) => anyhow::bail!("{err}"),
            (None, Some(usage)) => Ok(usage.clone()),
            (None, None) => anyhow::bail!("the scan produced nothing"),
        }
    }

    /// What the page shows: memory only, plus dedup's summary from SQLite.
    pub async fn overview(&self) -> anyhow::Result<StorageOverview> {
        let summary = dedup::summary(&self.inner.store).await?;
        let (home, hints) = (self.inner.home.clone(), self.inner.hints.persistent.clone());
        let placed = blocking(move || Ok(super::placement::describe(&home, &hints))).await?;
        let state = self.lock();
        let moving = &state.models;
        let models = ModelsPlacement {
            folder: placed.folder.display().to_string(),
            moved: placed.moved,
            suggested: placed.suggested.map(|p| p.display().to_string()),
            moving: moving.running,
            copied: moving.copied,
            total: moving.total,
            last_result: moving.last_result.clone(),
            error: moving.error.clone(),
        };
        let run = &state.dedup;
        Ok(StorageOverview {
            usage: state.usage.clone(),
            scan: ScanStatus {
                running: state.scanning || state.requested > state.started,
                files: state.progress.files(),
                bytes: state.progress.bytes(),
                error: state.error.clone(),
            },
            dedup: DedupStatus {
                auto: summary.auto,
                last_pass_at: summary.last_pass_at,
                files_linked: summary.files_linked,
                bytes_saved: summary.bytes_saved,
                pending_files: summary.pending_files,
                pending_bytes: summary.pending_bytes,
                changed: summary.changed.into_iter().map(|c| c.path).collect(),
                running: run.running,
                progress: run.progress.clone(),
                last_result: run.last_result.clone(),
                error: run.error.clone(),
            },
            models,
        })
    }

    /// Starts moving the shared models to `to` (`None`: back under the
    /// home's drive) in the background. `running` are the apps that run or
    /// install now: the move is refused unless there are none.
    pub fn start_move_models(
        &self,
        to: Option<PathBuf>,
        running: Vec<String>,
    ) -> anyhow::Result<()> {
        {
            let mut state = self.lock();
            if state.models.running {
                anyhow::bail!("the shared models are being moved already; wait for it to finish");
            }
            state.models = ModelsMove {
                running: true,
                ..ModelsMove::default()
            };
        }
        let storage = self.clone();
        tokio::spawn(async move { storage.move_models(to, running).await });
        Ok(())
    }

    async fn move_models(&self, to: Option<PathBuf>, running: Vec<String>) {
        let inner = self.inner.clone();
        let progress = move |copied, total| {
            let mut state = inner.state.lock().expect("storage state");
            (state.models.copied, state.models.total) = (copied, total);
        };
        let moved = super::placement::move_models(&self.inner.home, to, running, progress).await;
        {
            let mut state = self.lock();
            state.models.running = false;
            match moved {
                Ok(p) => {
                    state.models.last_result = Some(format!(
                        "The shared models are now in {}.",
                        p.folder.display()
                    ))
                }
                Err(err) => state.models.error = Some(format!("{err:#}")),
            }
        }
        self.rescan();
    }

    pub async fn clear_app_caches(&self, app: &str) -> anyhow::Result<String> {
        let (home, name) = (self.inner.home.clone(), app.to_string());
        let freed = blocking(move || actions::clear_app_caches(&home, &name)).await?;
        self.rescan();
        Ok(match freed.folders {
            0 => format!("{app} has no caches to clear."),
            n => format!(
                "Cleared {n} cache folder(s) of {app}: {} freed.",
                human_bytes(freed.bytes)
            ),
        })
    }

    pub async fn clear_download_cache(&self) -> anyhow::Result<String> {
        let home = self.inner.home.clone();
        let freed = blocking(move || actions::clear_download_cache(&home)).await?;
        self.rescan();
        Ok(format!(
            "Cleared the download caches: {} freed. Apps download what they need again.",
            human_bytes(freed.bytes)
        ))
    }

    /// Refused while the app runs or installs.
    pub async fn remove_venvs(&self, app: &str) -> anyhow::Result<String> {
        if let Some(why) = (self.inner.busy)(app) {
            anyhow::bail!(
                "{app}'s venv cannot be removed now: {why}. Stop it first, then try again"
            );
        }
        let (home, name) = (self.inner.home.clone(), app.to_string());
        let freed = blocking(move || actions::remove_venvs(&home, &name)).await?;
        self.rescan();
        Ok(format!(
            "Removed {} venv(s) of {app}: {} freed. Run its Install again to bring them back.",
            freed.folders,
            human_bytes(freed.bytes)
        ))
    }

    /// Starts a dedup pass in the background; refused while one runs.
    pub fn start_dedup(&self) -> anyhow::Result<()> {
        {
            let mut state = self.lock();
            if state.dedup.running {
                anyhow::bail!("a dedup pass is already running; wait for it to finish");
            }
            state.dedup = DedupRun {
                running: true,
                ..DedupRun::default()
            };
        }
        let storage = self.clone();
        tokio::spawn(async move { storage.dedup_pass().await });
        Ok(())
    }

    async fn dedup_pass(&self) {
        let inner = self.inner.clone();
        let progress = move |line: &str| {
            inner.state.lock().expect("storage state").dedup.progress = Some(line.to_string());
        };
        let options = Options::new(Trigger::Button);
        let result = dedup::run(&self.inner.home, &self.inner.store, options, &progress).await;
        {
            let mut state = self.lock();
            state.dedup.running = false;
            match result {
                Ok(report) => {
                    state.dedup.last_result = Some(format!(
                        "Linked {} duplicate file(s): {} freed.",
                        report.files_linked,
                        human_bytes(report.bytes_saved)
                    ))
                }
                Err(err) => state.dedup.error = Some(format!("Deduplication failed: {err:#}.")),
            }
        }
        self.rescan();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().expect("storage state")
    }
}

/// Scans whenever asked, one at a time, on a blocking thread.
async fn scanner(inner: Arc<Inner>) {
    loop {
        inner.wake.notified().await;
        loop {
            let (target, progress) = {
                let mut state = inner.state.lock().expect("storage state");
                if state.requested <= state.started {
                    break;
                }
                state.started = state.requested;
                state.scanning = true;
                state.progress = Arc::default();
                (state.started, state.progress.clone())
            };
            let (home, hints) = (inner.home.clone(), inner.hints.clone());
            let result = blocking(move || usage::scan(&home, &hints, progress)).await;
            {
                let mut state = inner.state.lock().expect("storage state");
                state.scanning = false;
                match result {
                    Ok(usage) => {
                        state.usage = Some(usage);
                        state.error = None;
                    }
                    Err(err) => state.error = Some(format!("{err:#}")),
                }
            }
            inner.finished.send_replace(target);
        }
    }
}

fn changes_disk(event: &AppEvent) -> bool {
    matches!(
        event,
        AppEvent::Installed { .. }
            | AppEvent::InstallFailed { .. }
            | AppEvent::Uninstalled { .. }
            | AppEvent::Renamed { .. }
            | AppEvent::RunEnded { .. }
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .context("the storage task stopped unexpectedly")?
}
