//! The home ENVIRONMENT file: variables every app's processes get.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the home ENVIRONMENT lives and what it says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HomeEnvironmentFile {
    pub path: String,
    pub text: String,
}

#[server(endpoint = "admin/home_environment")]
pub async fn home_environment() -> Result<HomeEnvironmentFile, ServerFnError> {
    super::auth::ssr::require(crate::auth::Role::Admin)?;
    super::auth::ssr::backend()?
        .0
        .home_environment()
        .await
        .map_err(ServerFnError::new)
}

/// Replaces the file with `text`; refused (nothing written) when a line is
/// not valid, with every bad line named.
#[server(endpoint = "admin/save_home_environment")]
pub async fn save_home_environment(text: String) -> Result<(), ServerFnError> {
    super::auth::ssr::require(crate::auth::Role::Admin)?;
    super::auth::ssr::backend()?
        .0
        .set_home_environment(text)
        .await
        .map_err(ServerFnError::new)
}
