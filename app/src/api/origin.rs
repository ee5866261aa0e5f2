//! Where a running app opens (its own origin, and why), and share links
//! limited to one app.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How a running app is reached from the address the person used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppOrigin {
    /// `subdomain`, `port`, `tunnel` or `prefix`.
    pub mode: String,
    /// Why this mode, in words.
    pub reason: String,
    /// Where the app lives (`/p/<app>/` in prefix mode).
    pub origin: String,
    /// Its own tunnel, once asked for: e.g. `cloudflared: installing`.
    pub tunnel: Option<String>,
    /// The tunnel's progress, or why it failed and what to do.
    pub tunnel_detail: Option<String>,
}

#[cfg(feature = "ssr")]
use super::auth::ssr;

/// The origin `name` opens at for this visitor (`None` when it is not running).
#[server(endpoint = "view/app_origin")]
pub async fn load_app_origin(name: String) -> Result<Option<AppOrigin>, ServerFnError> {
    ssr::guard(crate::auth::Role::Viewer)?
        .app_origin(name, ssr::base_url())
        .await
        .map_err(ServerFnError::new)
}

/// A share link that opens `name` only (operator on that app, nothing of
/// the dashboard); returns the full URL to send.
#[server(endpoint = "admin/share_app")]
pub async fn share_app(
    name: String,
    label: String,
    expires_in_hours: Option<u32>,
) -> Result<String, ServerFnError> {
    let label = label.trim().to_string();
    if label.chars().count() > 80 {
        return Err(ServerFnError::new(
            "the label is too long; keep it under 80 characters",
        ));
    }
    let expires_at = expires_in_hours.map(|h| ssr::now() + i64::from(h) * 3600);
    let token = ssr::guard(crate::auth::Role::Admin)?
        .share_app(name, label, expires_at)
        .await
        .map_err(ServerFnError::new)?;
    Ok(format!("{}/?token={token}", ssr::base_url()))
}
