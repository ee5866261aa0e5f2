//! What server functions need from the server, as a trait the server
//! implements: the UI crate stays free of SQL and process management.

use crate::api::{
    AppOrigin, AppPage, EnvVariable, HomeEnvironmentFile, InstallStatus, InstalledApp, PythonSetup,
    RunLogPage, RunningScript, ShareLink, SystemStatus,
};
use crate::auth::Role;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Errors are user-facing sentences (what failed and what to do).
pub trait Backend: Send + Sync + 'static {
    fn password_enabled(&self) -> bool;
    fn share_links(&self) -> BoxFuture<'_, Result<Vec<ShareLink>, String>>;
    /// Creates a link; returns its clear token (shown once).
    fn create_share_link(
        &self,
        role: Role,
        label: String,
        expires_at: Option<i64>,
    ) -> BoxFuture<'_, Result<String, String>>;
    fn revoke_share_link(&self, id: i64) -> BoxFuture<'_, Result<bool, String>>;
    /// Replaces the admin login token; returns the new clear token.
    fn rotate_admin_token(&self) -> BoxFuture<'_, Result<String, String>>;
    /// Platform, tunnel, GPUs and recent load.
    fn system_status(&self) -> BoxFuture<'_, Result<SystemStatus, String>>;

    fn installed_apps(&self) -> BoxFuture<'_, Result<Vec<InstalledApp>, String>>;
    fn app_page(&self, name: String) -> BoxFuture<'_, Result<AppPage, String>>;
    fn installs(&self) -> BoxFuture<'_, Result<Vec<InstallStatus>, String>>;
    /// Installs from a git URL or catalog id; returns the folder name.
    fn install(
        &self,
        source: String,
        folder: Option<String>,
    ) -> BoxFuture<'_, Result<String, String>>;
    fn uninstall(&self, name: String) -> BoxFuture<'_, Result<(), String>>;
    /// Renames an app's folder; refused while it runs or when `to` is taken.
    fn rename(&self, name: String, to: String) -> BoxFuture<'_, Result<(), String>>;
    /// A page of a run's log (plain text) ending at byte `before`.
    fn run_log(
        &self,
        run_id: i64,
        before: Option<u64>,
    ) -> BoxFuture<'_, Result<RunLogPage, String>>;
    /// Starts `script` (relative to the app, may carry `?query`); returns the run id.
    fn start(&self, app: String, script: String) -> BoxFuture<'_, Result<i64, String>>;
    fn stop(&self, run_id: i64) -> BoxFuture<'_, Result<(), String>>;
    fn answer(&self, form_id: String, values: Value) -> BoxFuture<'_, Result<(), String>>;
    fn running_scripts(&self) -> BoxFuture<'_, Result<Vec<RunningScript>, String>>;
    fn environment(&self, name: String) -> BoxFuture<'_, Result<Vec<EnvVariable>, String>>;
    fn set_environment(
        &self,
        name: String,
        key: String,
        value: String,
    ) -> BoxFuture<'_, Result<(), String>>;
    fn set_autostart(&self, name: String, on: bool) -> BoxFuture<'_, Result<(), String>>;
    /// The home ENVIRONMENT file (generated with defaults when missing).
    fn home_environment(&self) -> BoxFuture<'_, Result<HomeEnvironmentFile, String>>;
    /// Replaces the home ENVIRONMENT after validating every line.
    fn set_home_environment(&self, text: String) -> BoxFuture<'_, Result<(), String>>;

    fn python_settings(&self) -> BoxFuture<'_, Result<PythonSetup, String>>;
    fn set_python_settings(
        &self,
        acceleration: bool,
        reuse_platform_torch: bool,
    ) -> BoxFuture<'_, Result<(), String>>;
    /// `None`: the app follows the home-wide setting.
    fn set_app_acceleration(
        &self,
        name: String,
        on: Option<bool>,
    ) -> BoxFuture<'_, Result<(), String>>;

    /// Where running app `name` opens for a visitor at `base_url`
    /// (`None`: not running).
    fn app_origin(
        &self,
        name: String,
        base_url: String,
    ) -> BoxFuture<'_, Result<Option<AppOrigin>, String>> {
        let _ = (name, base_url);
        Box::pin(async { Err("per-app origins are not available here".to_string()) })
    }
    /// A share link for app `name` only; returns its clear token.
    fn share_app(
        &self,
        name: String,
        label: String,
        expires_at: Option<i64>,
    ) -> BoxFuture<'_, Result<String, String>> {
        let _ = (name, label, expires_at);
        Box::pin(async { Err("per-app share links are not available here".to_string()) })
    }

    // ---- Storage page (issue #10, item 2): sizes, dedup, freeing space ----

    /// Sizes from the last background scan, its progress, and dedup state.
    fn storage_overview(&self) -> BoxFuture<'_, Result<crate::api::StorageOverview, String>> {
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    /// Starts a rescan in the background.
    fn storage_rescan(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    /// Each of these returns a sentence saying what was freed.
    fn clear_app_caches(&self, name: String) -> BoxFuture<'_, Result<String, String>> {
        let _ = name;
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    fn clear_download_cache(&self) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    /// Refused while the app runs.
    fn remove_app_venvs(&self, name: String) -> BoxFuture<'_, Result<String, String>> {
        let _ = name;
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    /// Starts a dedup pass in the background.
    fn start_dedup(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    fn dedup_auto(&self) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    fn set_dedup_auto(&self, on: bool) -> BoxFuture<'_, Result<(), String>> {
        let _ = on;
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    /// Starts moving the shared models to `to` (`None`: back home).
    fn move_models(&self, to: Option<String>) -> BoxFuture<'_, Result<(), String>> {
        let _ = to;
        Box::pin(async { Err(STORAGE_MISSING.to_string()) })
    }
    // ---- end of Storage page ----

    // ---- Disk guard before installs (issue #10, item 3) ----

    /// Free space on the home's disk against what installing `source`
    /// typically takes, with what could be freed; asked before Install.
    fn install_space_check(
        &self,
        source: String,
    ) -> BoxFuture<'_, Result<crate::api::DiskCheck, String>> {
        let _ = source;
        Box::pin(async { Err("the free-space check is not available here".to_string()) })
    }
    // ---- end of disk guard ----
}

/// What the storage methods answer where the backend has no storage service.
const STORAGE_MISSING: &str = "storage management is not available here";

/// The backend as Leptos context.
#[derive(Clone)]
pub struct BackendHandle(pub Arc<dyn Backend>);
