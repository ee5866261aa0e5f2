//! Installed apps: listing, installing, launcher menus, runs and their forms.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One installed app (a folder under `<home>/api`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstalledApp {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub source_url: Option<String>,
    pub installed_at: Option<i64>,
    pub running: usize,
    /// Where its web UI opens through the dashboard (`/p/<app>/`), when up.
    pub open_path: Option<String>,
    /// Started with the dashboard.
    pub autostart: bool,
    /// A download one of its runs is busy with.
    #[serde(default)]
    pub progress: Option<DownloadProgress>,
    /// Where its icon (pinokio.json's `icon`) is served, when it has one.
    pub icon_url: Option<String>,
}

/// A download or extraction in flight, as the run's terminal shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadProgress {
    pub label: String,
    pub done: u64,
    pub total: Option<u64>,
    /// Bytes per second.
    pub rate: Option<u64>,
    /// Seconds left.
    pub eta: Option<u64>,
}

/// A script running now, anywhere on this machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunningScript {
    pub run: RunInfo,
    pub uptime_secs: i64,
}

/// One ENVIRONMENT variable of an app; secrets are never sent back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvVariable {
    pub key: String,
    /// `None` for secrets (tokens, keys, passwords): only "set" or "empty" shows.
    pub value: Option<String>,
    pub is_set: bool,
}

/// A launcher menu item, ready to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MenuEntry {
    pub text: String,
    /// A Font Awesome class list from the launcher (`fa-solid fa-plug`).
    pub icon: Option<String>,
    pub action: MenuAction,
    pub default: bool,
    pub confirm: Option<String>,
    pub children: Vec<MenuEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MenuAction {
    /// Run a script of the app (path relative to the app, with its query).
    Script { script: String, running: bool },
    /// Open a URL (app URLs are rewritten to go through the dashboard).
    Link { href: String, new_tab: bool },
    /// A heading or a group of nested items.
    None,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: i64,
    pub app: String,
    pub script: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub open_path: Option<String>,
    #[serde(default)]
    pub progress: Option<DownloadProgress>,
}

/// A question a running script asks (an `input` form or missing variables).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormRequest {
    pub id: String,
    pub run_id: i64,
    pub title: Option<String>,
    pub description: Option<String>,
    pub fields: Vec<FormField>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub key: String,
    pub title: String,
    /// `text`, `password`, `textarea`, `select`, `checkbox`, `number`.
    pub kind: String,
    pub default: Option<String>,
    pub options: Vec<String>,
    pub required: bool,
    /// For `file` fields: the largest upload taken, in bytes.
    pub max_size: Option<u64>,
}

/// A notification or URL a script surfaced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Unique and increasing: what toasts use to tell new notices from seen ones.
    pub id: i64,
    pub kind: String,
    pub text: String,
    pub href: Option<String>,
    pub at: i64,
}

/// Everything the app page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppPage {
    pub app: InstalledApp,
    pub menu: Vec<MenuEntry>,
    /// Why the launcher could not be rendered, if it could not.
    pub menu_error: Option<String>,
    pub running: Vec<RunInfo>,
    pub forms: Vec<FormRequest>,
    pub history: Vec<RunInfo>,
    pub notices: Vec<Notice>,
    /// How the torch its install would fetch fits this machine.
    #[serde(default)]
    pub torch: Option<TorchAdvice>,
    /// The app's own Python acceleration choice (`None`: the home's).
    #[serde(default)]
    pub python_acceleration: Option<bool>,
    /// The launcher's `pre` prerequisites, shown before installing.
    #[serde(default)]
    pub pre: Vec<PreEntry>,
    /// A warning about the launcher itself (e.g. it asks for a newer Pinokio).
    #[serde(default)]
    pub launcher_warning: Option<String>,
}

/// A launcher prerequisite: a link to other software, or an environment
/// variable the app needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreEntry {
    pub title: String,
    pub description: Option<String>,
    pub href: Option<String>,
    /// The variable to set in the app's ENVIRONMENT, for `env` items.
    pub env: Option<String>,
}

/// Whether the torch build an install script picks fits the GPU driver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TorchAdvice {
    /// The worst finding: `fits`, `caution` or `incompatible`.
    pub verdict: String,
    pub gpu: String,
    pub driver: Option<String>,
    /// Newest CUDA the driver runs.
    pub cuda: Option<String>,
    /// The wheel index that fits here (`cu128`, `cpu`, …).
    pub recommended: String,
    pub findings: Vec<TorchNote>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TorchNote {
    pub script: String,
    /// `cu121`, `cpu`, `rocm6.1`, or `pypi`.
    pub build: String,
    pub verdict: String,
    pub message: String,
}

/// A page of a past run's log, as plain text (terminal escapes removed):
/// bytes `start..end` of the log's `total`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunLogPage {
    pub run: RunInfo,
    pub start: u64,
    pub end: u64,
    pub total: u64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstallStatus {
    pub app: String,
    pub phase: String,
    pub stage: Option<String>,
    pub overall: u8,
    pub error: Option<String>,
}

#[cfg(feature = "ssr")]
use super::auth::ssr::guard;

#[server(endpoint = "view/installed_apps")]
pub async fn installed_apps() -> Result<Vec<InstalledApp>, ServerFnError> {
    guard(crate::auth::Role::Viewer)?
        .installed_apps()
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "view/app_page")]
pub async fn load_app_page(name: String) -> Result<AppPage, ServerFnError> {
    guard(crate::auth::Role::Viewer)?
        .app_page(name)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "view/installs")]
pub async fn installs() -> Result<Vec<InstallStatus>, ServerFnError> {
    guard(crate::auth::Role::Viewer)?
        .installs()
        .await
        .map_err(ServerFnError::new)
}

/// Installs from a git URL or a catalog id; returns the app's folder name.
#[server(endpoint = "admin/install_app")]
pub async fn install_app(source: String, folder: Option<String>) -> Result<String, ServerFnError> {
    let folder = folder.filter(|f| !f.trim().is_empty());
    guard(crate::auth::Role::Admin)?
        .install(source, folder)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "admin/uninstall_app")]
pub async fn uninstall_app(name: String) -> Result<(), ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .uninstall(name)
        .await
        .map_err(ServerFnError::new)
}

/// Renames an installed app's folder (refused while it runs); returns the new name.
#[server(endpoint = "admin/rename_app")]
pub async fn rename_app(name: String, to: String) -> Result<String, ServerFnError> {
    let to = to.trim().to_string();
    guard(crate::auth::Role::Admin)?
        .rename(name, to.clone())
        .await
        .map_err(ServerFnError::new)?;
    Ok(to)
}

/// A page of a run's log ending at byte `before` (the end of the log when `None`).
#[server(endpoint = "view/run_log")]
pub async fn load_run_log(run_id: i64, before: Option<u64>) -> Result<RunLogPage, ServerFnError> {
    guard(crate::auth::Role::Viewer)?
        .run_log(run_id, before)
        .await
        .map_err(ServerFnError::new)
}

/// Starts a script of an app; returns the run id.
#[server(endpoint = "op/start_script")]
pub async fn start_script(app: String, script: String) -> Result<i64, ServerFnError> {
    guard(crate::auth::Role::Operator)?
        .start(app, script)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "op/stop_run")]
pub async fn stop_run(run_id: i64) -> Result<(), ServerFnError> {
    guard(crate::auth::Role::Operator)?
        .stop(run_id)
        .await
        .map_err(ServerFnError::new)
}

/// Answers a form; `values` is a JSON object of field key → value.
#[server(endpoint = "op/answer_form")]
pub async fn answer_form(form_id: String, values: String) -> Result<(), ServerFnError> {
    let values: serde_json::Value = serde_json::from_str(&values)
        .map_err(|e| ServerFnError::new(format!("answers are not JSON: {e}")))?;
    guard(crate::auth::Role::Operator)?
        .answer(form_id, values)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "view/running_scripts")]
pub async fn running_scripts() -> Result<Vec<RunningScript>, ServerFnError> {
    guard(crate::auth::Role::Viewer)?
        .running_scripts()
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "admin/app_environment")]
pub async fn app_environment(name: String) -> Result<Vec<EnvVariable>, ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .environment(name)
        .await
        .map_err(ServerFnError::new)
}

/// Sets one ENVIRONMENT variable; an empty value for a secret keeps the old one.
#[server(endpoint = "admin/set_app_environment")]
pub async fn set_app_environment(
    name: String,
    key: String,
    value: String,
) -> Result<(), ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .set_environment(name, key, value)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "admin/set_autostart")]
pub async fn set_autostart(name: String, on: bool) -> Result<(), ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .set_autostart(name, on)
        .await
        .map_err(ServerFnError::new)
}
