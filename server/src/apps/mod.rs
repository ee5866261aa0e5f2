//! The app supervisor: installs Pinokio apps from git, runs their scripts
//! through one [`engine::Engine`] per home, keeps every run's terminal
//! (scrollback + live broadcast + log file), asks people what scripts ask
//! (forms), exposes running web UIs through the proxy, and cleans up after a
//! crash of the dashboard.
//!
//! [`Apps`] is the public face: cheap to clone, every type it hands out is
//! serde-serialisable so the UI can take it as is. While an [`Apps`] is open
//! it holds an exclusive lock on `<home>/apps.lock`: a second dashboard (or
//! a CLI without the dashboard) on the same home is refused instead of
//! killing the first one's runs as "orphans".

mod drive;
pub mod error;
pub mod files;
mod home_env;
pub mod http;
mod install;
mod interact;
mod log_view;
pub mod menu_command;
mod python;
mod reconcile;
pub mod store;
mod supervisor;
mod torch;
pub mod upload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::SqlitePool;
use tokio::sync::{broadcast, watch};

use crate::proxy::ProxyTargets;
/// Terminal output chunks ([`Apps::attach`]).
pub use bytes::Bytes;
pub use error::{AppsError, Result};
pub use home_env::HomeEnvironment;
pub use install::{InstallPhase, InstallProgress};
pub use interact::{EnvEntry, FormKind, PendingForm};
pub use log_view::{strip_ansi, LogChunk};
pub use python::PythonSettings;
pub use store::{AppEventRecord, AppRow, RunId, RunRecord};

use interact::Forms;
use store::AppStore;
use supervisor::RunState;

/// Scrollback kept in memory per run.
pub const SCROLLBACK_BYTES: usize = 1024 * 1024;
/// A run's log file is rotated to `<id>.log.1` past this size.
pub const LOG_CAP_BYTES: u64 = 16 * 1024 * 1024;

/// One installed app as the UI lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppSummary {
    /// The folder under `<home>/api` (also the app's id and proxy name).
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub source_url: Option<String>,
    pub installed_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub autostart: bool,
    /// Runs of this app in progress.
    pub running: Vec<RunId>,
    /// Local URL of its web UI while one is known.
    pub url: Option<String>,
    /// A download one of its runs is busy with.
    #[serde(default)]
    pub progress: Option<engine::Progress>,
}

/// A run in progress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunningRun {
    pub run_id: RunId,
    pub app: String,
    pub script: String,
    pub started_at: i64,
    /// The app's local URL (what it listens on), once it reported one.
    pub url: Option<String>,
    /// Where people open it through the dashboard (`/p/<app>/`).
    pub proxy_path: Option<String>,
    /// The download it is busy with, read off its terminal in the last
    /// few seconds.
    #[serde(default)]
    pub progress: Option<engine::Progress>,
}

/// What changed; the UI re-renders on these.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    InstallStarted {
        app: String,
        source: String,
    },
    Installed {
        app: String,
    },
    InstallFailed {
        app: String,
        message: String,
    },
    Uninstalled {
        app: String,
    },
    Renamed {
        from: String,
        to: String,
    },
    /// Anything that may change the app's menu or settings.
    Changed {
        app: String,
    },
    RunStarted {
        run_id: RunId,
        app: String,
        script: String,
    },
    /// A daemon finished its steps and keeps running (e.g. a web UI is up).
    RunReady {
        run_id: RunId,
        app: String,
    },
    RunEnded {
        run_id: RunId,
        app: String,
        outcome: String,
        reason: String,
    },
    /// The app's web UI is reachable (through `/p/<app>/`).
    Url {
        run_id: RunId,
        app: String,
        url: String,
        proxy_path: String,
    },
    Notify {
        run_id: RunId,
        app: String,
        params: Value,
    },
    Open {
        run_id: RunId,
        app: String,
        url: String,
    },
    Error {
        run_id: RunId,
        app: String,
        message: String,
    },
    /// A script asks something; answer with [`Apps::answer`].
    Form {
        form: PendingForm,
    },
    /// A question was answered or cancelled.
    FormClosed {
        form_id: String,
        app: String,
    },
}

/// The shared state behind [`Apps`]; background tasks hold this (not the
/// home lock), so dropping every `Apps` releases the home.
pub(crate) struct Shared {
    pub home: PathBuf,
    pub engine: engine::Engine,
    pub store: AppStore,
    pub targets: Arc<ProxyTargets>,
    pub events: broadcast::Sender<AppEvent>,
    pub runs: Mutex<BTreeMap<RunId, Arc<RunState>>>,
    pub installs: Mutex<BTreeMap<String, watch::Sender<InstallProgress>>>,
    pub forms: Forms,
    pub rt: tokio::runtime::Handle,
    /// Set when the last [`Apps`] is dropped (the home lock is released):
    /// runs still going on stop recording, the next supervisor reconciles.
    pub closed: std::sync::atomic::AtomicBool,
    pub torch_checks: torch::CheckCache,
    /// Events emitted so far (see [`Apps::emitted`]).
    pub emitted: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub fn emit(&self, e: AppEvent) {
        // Counted before anyone can hear it: whoever learns of the event
        // (or asks after it) sees the new count.
        self.emitted
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = self.events.send(e);
    }

    pub fn api_dir(&self) -> PathBuf {
        self.home.join("api")
    }

    pub fn app_dir(&self, app: &str) -> PathBuf {
        self.api_dir().join(app)
    }

    pub fn logs_dir(&self, app: &str) -> PathBuf {
        self.home.join("logs").join(app)
    }

    /// The folder of an installed app, or [`AppsError::NoSuchApp`].
    pub fn existing_app(&self, app: &str) -> Result<PathBuf> {
        check_name(app)?;
        let dir = self.app_dir(app);
        if dir.is_dir() {
            Ok(dir)
        } else {
            Err(AppsError::NoSuchApp(app.to_string()))
        }
    }
}

struct Inner {
    shared: Arc<Shared>,
    _lock: std::fs::File,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The app supervisor of one home. Clone freely.
#[derive(Clone)]
pub struct Apps {
    inner: Arc<Inner>,
}

/// Folder names: one safe path segment and proxy name (the same charset
/// the proxy accepts for `/p/<app>/`).
pub fn check_name(name: &str) -> Result<()> {
    let charset_ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if charset_ok && !name.is_empty() && name.len() <= 128 && !name.starts_with('.') {
        Ok(())
    } else {
        Err(AppsError::BadName(name.to_string()))
    }
}

impl Apps {
    /// Opens the supervisor of `home`: takes the home lock, cleans up runs
    /// a previous dashboard left behind (see `reconcile`), then starts the
    /// apps marked autostart. Needs a tokio runtime.
    pub async fn open(
        home: impl Into<PathBuf>,
        pool: SqlitePool,
        targets: Arc<ProxyTargets>,
    ) -> Result<Apps> {
        let home: PathBuf = home.into();
        std::fs::create_dir_all(home.join("api")).map_err(AppsError::io(format!(
            "creating {}",
            home.join("api").display()
        )))?;
        let lock = lock_home(&home)?;
        home_env::ensure(&home)?;
        let (events, _) = broadcast::channel(1024);
        let engine = engine::Engine::new(&home, machine().await);
        let shared = Arc::new(Shared {
            engine,
            home,
            store: AppStore::new(pool),
            targets,
            events,
            runs: Mutex::new(BTreeMap::new()),
            installs: Mutex::new(BTreeMap::new()),
            forms: Forms::default(),
            rt: tokio::runtime::Handle::current(),
            closed: Default::default(),
            torch_checks: Default::default(),
            emitted: Default::default(),
        });
        let apps = Apps {
            inner: Arc::new(Inner {
                shared,
                _lock: lock,
            }),
        };
        python::apply_saved(&apps.inner.shared).await?;
        reconcile::reconcile(&apps.inner.shared).await?;
        apps.autostart().await;
        Ok(apps)
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    pub fn home(&self) -> &Path {
        &self.shared().home
    }

    pub fn engine(&self) -> &engine::Engine {
        &self.shared().engine
    }

    /// State changes, notifications, URLs and questions, as they happen.
    pub fn events(&self) -> broadcast::Receiver<AppEvent> {
        self.shared().events.subscribe()
    }

    /// How many events were emitted so far: it moves, before the event is
    /// sent, whenever something an app shows may have changed. Pages kept
    /// rendered (`crate::page_cache`) are valid while it stands still.
    pub fn emitted(&self) -> u64 {
        self.shared()
            .emitted
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Installed apps: every folder under `<home>/api` (also ones put there
    /// by hand), with what the database knows of them.
    pub async fn list(&self) -> Result<Vec<AppSummary>> {
        let s = self.shared();
        let mut rows: BTreeMap<String, AppRow> = s
            .store
            .apps()
            .await?
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect();
        let mut names: Vec<String> = std::fs::read_dir(s.api_dir())
            .map_err(AppsError::io(format!("reading {}", s.api_dir().display())))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.') && check_name(n).is_ok())
            .collect();
        names.sort();
        let running = self.running();
        Ok(names
            .into_iter()
            .map(|name| {
                let row = rows.remove(&name);
                let mine: Vec<&RunningRun> = running.iter().filter(|r| r.app == name).collect();
                AppSummary {
                    title: row
                        .as_ref()
                        .and_then(|r| r.title.clone())
                        .unwrap_or_else(|| name.clone()),
                    description: row.as_ref().and_then(|r| r.description.clone()),
                    icon: row.as_ref().and_then(|r| r.icon.clone()),
                    source_url: row.as_ref().and_then(|r| r.source_url.clone()),
                    installed_at: row.as_ref().map(|r| r.installed_at),
                    last_used_at: row.as_ref().and_then(|r| r.last_used_at),
                    autostart: row.as_ref().is_some_and(|r| r.autostart),
                    running: mine.iter().map(|r| r.run_id).collect(),
                    url: mine.iter().find_map(|r| r.url.clone()),
                    progress: mine.iter().find_map(|r| r.progress.clone()),
                    name,
                }
            })
            .collect())
    }

    /// The app's launcher menu as it renders now (what runs, what exists).
    pub async fn menu(&self, app: &str) -> Result<engine::Menu> {
        let dir = self.shared().existing_app(app)?;
        let engine = self.shared().engine.clone();
        let name = app.to_string();
        tokio::task::spawn_blocking(move || engine.menu(&dir))
            .await
            .map_err(|e| AppsError::Io {
                context: format!("rendering the menu of {name}"),
                source: std::io::Error::other(e.to_string()),
            })?
            .map_err(|source| AppsError::Engine {
                app: app.to_string(),
                source: Box::new(source),
            })
    }

    /// Runs of an app, newest first.
    pub async fn history(&self, app: &str) -> Result<Vec<RunRecord>> {
        check_name(app)?;
        self.shared().store.runs_of(app).await
    }

    pub async fn run_record(&self, run_id: RunId) -> Result<RunRecord> {
        self.shared()
            .store
            .run(run_id)
            .await?
            .ok_or(AppsError::NoSuchRun(run_id))
    }

    /// Notifications, URLs opened and errors of an app, newest first.
    pub async fn app_events(&self, app: &str, limit: i64) -> Result<Vec<AppEventRecord>> {
        self.shared().store.events_of(app, limit).await
    }

    pub async fn set_autostart(&self, app: &str, on: bool) -> Result<()> {
        self.shared().existing_app(app)?;
        self.shared().store.set_autostart(app, on).await?;
        self.shared().emit(AppEvent::Changed {
            app: app.to_string(),
        });
        Ok(())
    }

    async fn autostart(&self) {
        let rows = match self.shared().store.apps().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read apps to autostart");
                return;
            }
        };
        for row in rows.into_iter().filter(|r| r.autostart) {
            let started = match self.default_script(&row.name).await {
                Ok(script) => self
                    .start(&row.name, &script, Value::Null)
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = started {
                tracing::warn!(app = row.name, error = %e, "autostart failed");
                let _ = self
                    .shared()
                    .store
                    .add_event(
                        &row.name,
                        None,
                        "error",
                        &serde_json::json!({ "message": format!("autostart failed: {e}") }),
                    )
                    .await;
            }
        }
    }
}

/// `<home>/apps.lock`, held exclusively while the supervisor is open (and
/// while a snapshot is restored into the home).
pub fn lock_home(home: &Path) -> Result<std::fs::File> {
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsRawFd;
    let path = home.join("apps.lock");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(AppsError::io(format!("opening {}", path.display())))?;
    // SAFETY: flock on a file descriptor we own.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = match holder.trim() {
            "" => "another process".to_string(),
            pid => format!("process {pid}"),
        };
        return Err(AppsError::HomeLocked {
            home: home.to_path_buf(),
            holder,
        });
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    Ok(file)
}

/// What scripts see as `gpu`, `gpus`, `ram`...: the cloud layer's reading
/// (NVML first, `nvidia-smi` otherwise) over the engine's own detection of
/// platform, architecture and CPUs.
async fn machine() -> engine::SystemInfo {
    let mut system = engine::SystemInfo::detect();
    let values = crate::cloud::gpu::engine_values_now().await;
    system.gpu_driver = values.gpu_driver.or(system.gpu_driver);
    system.cuda = values.cuda.or(system.cuda);
    system.gpu = values.gpu;
    system.gpus = values
        .gpus
        .into_iter()
        .map(|g| engine::Gpu {
            vendor: g.vendor,
            model: g.model,
            vram: g.vram,
        })
        .collect();
    if values.ram > 0 {
        system.ram = values.ram;
    }
    system
}
