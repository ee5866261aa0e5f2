//! Errors of the app supervisor. Each names the app, path or command it is
//! about and, where there is one, what to do.

use std::path::PathBuf;

pub type Result<T, E = AppsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppsError {
    #[error("no app named {0:?} is installed; `pinokiocloud ls` lists the installed apps")]
    NoSuchApp(String),
    #[error("{app}: no script {script:?} in {dir}; pick one from the app's menu", dir = .dir.display())]
    NoSuchScript {
        app: String,
        script: String,
        dir: PathBuf,
    },
    #[error("app name {0:?} is not allowed: use letters, digits, '.', '_' or '-' (at most 128)")]
    BadName(String),
    #[error("the folder {folder:?} already exists in {dir}: two installs into the same folder are refused; choose another folder name or uninstall {folder:?} first", dir = .dir.display())]
    FolderTaken { folder: String, dir: PathBuf },
    #[error("cannot install {url}: {message}")]
    Install { url: String, message: String },
    #[error("{app} is not a Pinokio app: it has none of {wanted} at its top level (cloned from {url}); the clone was removed")]
    NotPinokioApp {
        app: String,
        url: String,
        wanted: String,
    },
    #[error("{app}: {what} while it runs (run {run_id}); stop it first")]
    Busy {
        app: String,
        run_id: i64,
        what: String,
    },
    #[error("no run {0}; `pinokiocloud ls` shows the running ones")]
    NoSuchRun(i64),
    #[error("run {run_id} of {app} has ended; start the script again")]
    RunEnded { run_id: i64, app: String },
    #[error("{app}: {script} is already running as run {run_id}; stop it first or attach to it")]
    AlreadyRunning {
        app: String,
        script: String,
        run_id: i64,
    },
    #[error("run {run_id}: {message}")]
    Terminal { run_id: i64, message: String },
    #[error("no pending question {0}; it was answered or its run ended")]
    NoSuchForm(String),
    #[error("{0}")]
    InvalidAnswer(String),
    #[error("{app}: {message}")]
    Environment { app: String, message: String },
    #[error("another PinokioCloud is already managing apps in {home} ({holder}); use it (the CLI talks to a running dashboard) or stop it first", home = .home.display())]
    HomeLocked { home: PathBuf, holder: String },
    #[error("{app}: {path:?} is not a file inside the app's folder ({why}); use a relative path without `..`")]
    BadPath {
        app: String,
        path: String,
        why: String,
    },
    #[error("{app} has no icon to show ({why}); set `icon` in its pinokio.json to an image file in its folder")]
    NoIcon { app: String, why: String },
    #[error("the upload is too large: more than {limit} bytes (the limit for this field); pick a smaller file")]
    TooLarge { limit: u64 },
    #[error("cannot upload: {0}")]
    Upload(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the app database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{app}: {source}")]
    Engine {
        app: String,
        #[source]
        source: Box<engine::EngineError>,
    },
}

impl AppsError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> AppsError {
        let context = context.into();
        move |source| AppsError::Io { context, source }
    }

    /// Whether this is the caller's mistake (HTTP 4xx) rather than ours.
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            AppsError::Io { .. } | AppsError::Db(_) | AppsError::Engine { .. }
        )
    }

    /// Whether the thing asked for does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            AppsError::NoSuchApp(_)
                | AppsError::NoSuchRun(_)
                | AppsError::NoSuchForm(_)
                | AppsError::NoSuchScript { .. }
                | AppsError::NoIcon { .. }
        )
    }
}
