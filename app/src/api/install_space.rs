//! The disk guard before an install (issue #10, item 3): whether the home's
//! disk has room for what installs typically take, asked before Install.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Free space against the install estimate, with what could be freed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiskCheck {
    /// Where the home's filesystem is mounted.
    pub mount: String,
    pub free: u64,
    /// What installs typically take (a torch venv plus code).
    pub estimate: u64,
    /// The estimate plus the margin kept free.
    pub needed: u64,
    /// Download caches (`<home>/cache`) deleting would give back.
    pub cache_bytes: u64,
    /// Duplicate files dedup found and has not linked yet.
    pub duplicate_bytes: u64,
    /// The sentence to show before installing; `None` when it fits.
    pub warning: Option<String>,
}

#[cfg(feature = "ssr")]
use super::auth::ssr::guard;

/// Checks free space before installing `source` (a git URL or catalog id).
#[server(endpoint = "admin/install_space_check")]
pub async fn install_space_check(source: String) -> Result<DiskCheck, ServerFnError> {
    guard(crate::auth::Role::Admin)?
        .install_space_check(source)
        .await
        .map_err(ServerFnError::new)
}
