//! Python environment settings: uv acceleration and torch reuse.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The home-wide Python settings and where their files live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PythonSetup {
    /// venvs by `uv venv`, `pip install` forwarded to `uv pip`.
    pub acceleration: bool,
    /// New venvs get the platform Python's torch hardlinked in.
    pub reuse_platform_torch: bool,
    /// The uv binary in use, once one is installed.
    pub uv: Option<String>,
    /// The package cache every app shares.
    pub cache_dir: String,
}

#[server(endpoint = "admin/python_settings")]
pub async fn python_settings() -> Result<PythonSetup, ServerFnError> {
    super::auth::ssr::require(crate::auth::Role::Admin)?;
    super::auth::ssr::backend()?
        .0
        .python_settings()
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "admin/save_python_settings")]
pub async fn save_python_settings(
    acceleration: bool,
    reuse_platform_torch: bool,
) -> Result<(), ServerFnError> {
    super::auth::ssr::require(crate::auth::Role::Admin)?;
    super::auth::ssr::backend()?
        .0
        .set_python_settings(acceleration, reuse_platform_torch)
        .await
        .map_err(ServerFnError::new)
}

/// `on`: `None` follows the home-wide setting.
#[server(endpoint = "admin/set_app_acceleration")]
pub async fn set_app_acceleration(name: String, on: Option<bool>) -> Result<(), ServerFnError> {
    super::auth::ssr::require(crate::auth::Role::Admin)?;
    super::auth::ssr::backend()?
        .0
        .set_app_acceleration(name, on)
        .await
        .map_err(ServerFnError::new)
}
