//! Who am I, login options, share links and the admin token.

use crate::auth::{Role, Viewer};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A share link as listed in Settings (the token itself is never stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    pub id: i64,
    pub role: Role,
    pub label: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked: bool,
    pub last_used_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginConfig {
    pub password_enabled: bool,
}

#[server(endpoint = "view/whoami")]
pub async fn whoami() -> Result<Option<Viewer>, ServerFnError> {
    Ok(ssr::viewer())
}

#[server(endpoint = "public/login_options")]
pub async fn login_options() -> Result<LoginConfig, ServerFnError> {
    Ok(LoginConfig {
        password_enabled: ssr::backend()?.0.password_enabled(),
    })
}

#[server(endpoint = "admin/share_links")]
pub async fn share_links() -> Result<Vec<ShareLink>, ServerFnError> {
    ssr::require(Role::Admin)?;
    ssr::backend()?
        .0
        .share_links()
        .await
        .map_err(ServerFnError::new)
}

/// Creates a share link; returns the full URL to send to the collaborator.
#[server(endpoint = "admin/create_share_link")]
pub async fn create_share_link(
    role: Role,
    label: String,
    expires_in_hours: Option<u32>,
) -> Result<String, ServerFnError> {
    ssr::require(Role::Admin)?;
    let label = label.trim().to_string();
    if label.chars().count() > 80 {
        return Err(ServerFnError::new(
            "the label is too long; keep it under 80 characters",
        ));
    }
    let expires_at = expires_in_hours.map(|h| ssr::now() + i64::from(h) * 3600);
    let token = ssr::backend()?
        .0
        .create_share_link(role, label, expires_at)
        .await
        .map_err(ServerFnError::new)?;
    Ok(format!("{}/?token={token}", ssr::base_url()))
}

#[server(endpoint = "admin/revoke_share_link")]
pub async fn revoke_share_link(id: i64) -> Result<bool, ServerFnError> {
    ssr::require(Role::Admin)?;
    ssr::backend()?
        .0
        .revoke_share_link(id)
        .await
        .map_err(ServerFnError::new)
}

/// Replaces the admin login link; returns the new one. Open sessions stay.
#[server(endpoint = "admin/rotate_admin_token")]
pub async fn rotate_admin_token() -> Result<String, ServerFnError> {
    ssr::require(Role::Admin)?;
    let token = ssr::backend()?
        .0
        .rotate_admin_token()
        .await
        .map_err(ServerFnError::new)?;
    Ok(format!("{}/?token={token}", ssr::base_url()))
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    //! Request-side helpers shared by all server functions.
    use crate::auth::{Role, Viewer};
    use crate::backend::BackendHandle;
    use leptos::prelude::*;

    fn parts() -> Option<http::request::Parts> {
        use_context::<http::request::Parts>()
    }

    /// The viewer the auth gate attached to this request.
    pub fn viewer() -> Option<Viewer> {
        parts()?.extensions.get::<Viewer>().cloned()
    }

    pub fn require(role: Role) -> Result<Viewer, ServerFnError> {
        match viewer() {
            Some(v) if v.role.allows(role) => Ok(v),
            Some(v) => Err(ServerFnError::new(format!(
                "this needs the {role} role; you are signed in as {}",
                v.role
            ))),
            None => Err(ServerFnError::new("sign in first")),
        }
    }

    /// The backend, once the caller is known to have `role`.
    pub fn guard(role: Role) -> Result<std::sync::Arc<dyn crate::backend::Backend>, ServerFnError> {
        require(role)?;
        Ok(backend()?.0)
    }

    pub fn backend() -> Result<BackendHandle, ServerFnError> {
        use_context::<BackendHandle>()
            .ok_or_else(|| ServerFnError::new("server misconfigured: no backend"))
    }

    pub fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    /// The address the browser used, so links work through proxies and tunnels.
    pub fn base_url() -> String {
        let Some(parts) = parts() else {
            return String::new();
        };
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let host = header("x-forwarded-host")
            .or_else(|| header("host"))
            .unwrap_or_default();
        let scheme = header("x-forwarded-proto").unwrap_or_else(|| "http".into());
        format!("{scheme}://{host}")
    }
}
