//! The server's side of `app::backend::Backend`: what server functions call.

mod apps;
mod origin;
// Storage page (issue #10, item 2).
pub mod storage;

use crate::apps::Apps;
use crate::auth::Auth;
use crate::system::SystemMonitor;
use app::api::{
    AppPage, EnvVariable, HomeEnvironmentFile, InstallStatus, InstalledApp, PythonSetup,
    RunLogPage, RunningScript, ShareLink, SystemStatus,
};
use app::auth::Role;
use app::backend::{Backend, BoxFuture};
use serde_json::Value;

pub struct ServerBackend {
    pub auth: Auth,
    pub system: std::sync::Arc<SystemMonitor>,
    pub apps: Apps,
    pub origins: crate::origin::AppOrigins,
    /// Storage page: background sizes, actions, dedup.
    pub storage: crate::storage::service::Storage,
}

/// Server functions show errors to the user: keep the whole cause chain.
fn user_error(err: anyhow::Error) -> String {
    format!("{err:#}")
}

impl Backend for ServerBackend {
    fn password_enabled(&self) -> bool {
        self.auth.password_hash.is_some()
    }

    fn share_links(&self) -> BoxFuture<'_, Result<Vec<ShareLink>, String>> {
        Box::pin(async move {
            let rows = self.auth.db.share_links().await.map_err(user_error)?;
            Ok(rows
                .into_iter()
                .filter_map(|row| {
                    Some(ShareLink {
                        id: row.id,
                        role: Role::parse(&row.role)?,
                        label: row.label,
                        created_at: row.created_at,
                        expires_at: row.expires_at,
                        revoked: row.revoked_at.is_some(),
                        last_used_at: row.last_used_at,
                    })
                })
                .collect())
        })
    }

    fn create_share_link(
        &self,
        role: Role,
        label: String,
        expires_at: Option<i64>,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            self.auth
                .create_share_link(role, &label, expires_at)
                .await
                .map_err(user_error)
        })
    }

    fn revoke_share_link(&self, id: i64) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move { self.auth.db.revoke_share_link(id).await.map_err(user_error) })
    }

    fn rotate_admin_token(&self) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move { self.auth.rotate_admin_token().await.map_err(user_error) })
    }

    fn system_status(&self) -> BoxFuture<'_, Result<SystemStatus, String>> {
        Box::pin(async move { Ok(self.system.status().await) })
    }

    fn installed_apps(&self) -> BoxFuture<'_, Result<Vec<InstalledApp>, String>> {
        Box::pin(apps::installed(&self.apps))
    }

    fn app_page(&self, name: String) -> BoxFuture<'_, Result<AppPage, String>> {
        Box::pin(async move { apps::page(&self.apps, &name).await })
    }

    fn installs(&self) -> BoxFuture<'_, Result<Vec<InstallStatus>, String>> {
        Box::pin(apps::installs(&self.apps))
    }

    fn install(
        &self,
        source: String,
        folder: Option<String>,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move { apps::install(&self.apps, &source, folder.as_deref()).await })
    }

    fn uninstall(&self, name: String) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.apps.uninstall(&name).await.map_err(|e| e.to_string()) })
    }

    fn rename(&self, name: String, to: String) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.apps
                .rename(&name, &to)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn run_log(
        &self,
        run_id: i64,
        before: Option<u64>,
    ) -> BoxFuture<'_, Result<RunLogPage, String>> {
        Box::pin(async move { apps::run_log(&self.apps, run_id, before).await })
    }

    fn start(&self, app: String, script: String) -> BoxFuture<'_, Result<i64, String>> {
        Box::pin(async move { apps::start(&self.apps, &app, &script).await })
    }

    fn stop(&self, run_id: i64) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.apps.stop(run_id).await.map_err(|e| e.to_string()) })
    }

    fn answer(&self, form_id: String, values: Value) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.apps
                .answer(&form_id, values)
                .map_err(|e| e.to_string())
        })
    }

    fn running_scripts(&self) -> BoxFuture<'_, Result<Vec<RunningScript>, String>> {
        Box::pin(async move { Ok(apps::running_scripts(&self.apps)) })
    }

    fn environment(&self, name: String) -> BoxFuture<'_, Result<Vec<EnvVariable>, String>> {
        Box::pin(async move { apps::environment(&self.apps, &name) })
    }

    fn set_environment(
        &self,
        name: String,
        key: String,
        value: String,
    ) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { apps::set_environment(&self.apps, &name, &key, &value) })
    }

    fn set_autostart(&self, name: String, on: bool) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.apps
                .set_autostart(&name, on)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn home_environment(&self) -> BoxFuture<'_, Result<HomeEnvironmentFile, String>> {
        Box::pin(async move {
            let file = self.apps.home_environment().map_err(|e| e.to_string())?;
            Ok(HomeEnvironmentFile {
                path: file.path.display().to_string(),
                text: file.text,
            })
        })
    }

    fn set_home_environment(&self, text: String) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.apps
                .set_home_environment(&text)
                .map_err(|e| e.to_string())
        })
    }

    fn python_settings(&self) -> BoxFuture<'_, Result<PythonSetup, String>> {
        Box::pin(async move {
            let s = self
                .apps
                .python_settings()
                .await
                .map_err(|e| e.to_string())?;
            let home = self.apps.home();
            Ok(PythonSetup {
                acceleration: s.acceleration,
                reuse_platform_torch: s.reuse_platform_torch,
                uv: engine::python::locate_uv(home).map(|p| p.display().to_string()),
                cache_dir: engine::python::Layout::new(home)
                    .uv_cache()
                    .display()
                    .to_string(),
            })
        })
    }

    fn set_python_settings(
        &self,
        acceleration: bool,
        reuse_platform_torch: bool,
    ) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let settings = crate::apps::PythonSettings {
                acceleration,
                reuse_platform_torch,
            };
            self.apps
                .set_python_settings(settings)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn set_app_acceleration(
        &self,
        name: String,
        on: Option<bool>,
    ) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.apps
                .set_app_acceleration(&name, on)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn app_origin(
        &self,
        name: String,
        base_url: String,
    ) -> BoxFuture<'_, Result<Option<app::api::AppOrigin>, String>> {
        Box::pin(async move { Ok(origin::app_origin(&self.origins, &name, &base_url)) })
    }

    fn share_app(
        &self,
        name: String,
        label: String,
        expires_at: Option<i64>,
    ) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(origin::share_app(&self.origins, name, label, expires_at))
    }

    // ---- Storage page (issue #10, item 2): see backend/storage.rs ----

    fn storage_overview(&self) -> BoxFuture<'_, Result<app::api::StorageOverview, String>> {
        Box::pin(storage::overview(&self.storage, &self.apps))
    }

    fn storage_rescan(&self) -> BoxFuture<'_, Result<(), String>> {
        self.storage.rescan();
        Box::pin(async { Ok(()) })
    }

    fn clear_app_caches(&self, name: String) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let done = self.storage.clear_app_caches(&name).await;
            done.map_err(user_error)
        })
    }

    fn clear_download_cache(&self) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let done = self.storage.clear_download_cache().await;
            done.map_err(user_error)
        })
    }

    fn remove_app_venvs(&self, name: String) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let done = self.storage.remove_venvs(&name).await;
            done.map_err(user_error)
        })
    }

    fn start_dedup(&self) -> BoxFuture<'_, Result<(), String>> {
        let started = self.storage.start_dedup().map_err(user_error);
        Box::pin(async move { started })
    }

    fn move_models(&self, to: Option<String>) -> BoxFuture<'_, Result<(), String>> {
        let running = storage::active_apps(&self.apps);
        let started = self
            .storage
            .start_move_models(to.map(Into::into), running)
            .map_err(user_error);
        Box::pin(async move { started })
    }

    fn dedup_auto(&self) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            let store = self.storage.store();
            crate::storage::dedup::auto_enabled(store)
                .await
                .map_err(user_error)
        })
    }

    fn set_dedup_auto(&self, on: bool) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let store = self.storage.store();
            crate::storage::dedup::set_auto(store, on)
                .await
                .map_err(user_error)
        })
    }
    // ---- end of Storage page ----

    // ---- Disk guard before installs (issue #10, item 3) ----

    fn install_space_check(
        &self,
        source: String,
    ) -> BoxFuture<'_, Result<app::api::DiskCheck, String>> {
        // Every install is measured against the same estimate for now.
        let _ = source;
        Box::pin(async move {
            let home = self.apps.home();
            let space = crate::storage::guard::install_space(home, self.storage.store())
                .await
                .map_err(user_error)?;
            Ok(app::api::DiskCheck {
                warning: space.warning(),
                mount: space.mount,
                free: space.free,
                estimate: space.estimate,
                needed: space.needed,
                cache_bytes: space.cache_bytes,
                duplicate_bytes: space.duplicate_bytes,
            })
        })
    }
    // ---- end of disk guard ----
}
