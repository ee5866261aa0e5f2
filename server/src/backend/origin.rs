//! The app page's view of per-app origins.

use crate::origin::AppOrigins;
use app::api::AppOrigin;

/// `None` when `name` is not running.
pub fn app_origin(origins: &AppOrigins, name: &str, base_url: &str) -> Option<AppOrigin> {
    if !origins.running_apps().iter().any(|a| a == name) {
        return None;
    }
    let (scheme, host) = base_url.split_once("://").unwrap_or(("http", base_url));
    let host = Some(host).filter(|h| !h.is_empty());
    let info = origins.origin_for(name, host, scheme == "https");
    Some(AppOrigin {
        mode: info.mode,
        reason: info.reason,
        origin: info.origin,
        tunnel: info
            .tunnel
            .as_ref()
            .map(|t| format!("{}: {}", t.provider, t.state)),
        tunnel_detail: info.tunnel.and_then(|t| t.detail),
    })
}

pub async fn share_app(
    origins: &AppOrigins,
    name: String,
    label: String,
    expires_at: Option<i64>,
) -> Result<String, String> {
    crate::proxy::check_app_name(&name).map_err(|e| e.to_string())?;
    let label = match label.as_str() {
        "" => format!("{name} only"),
        given => format!("{name} only · {given}"),
    };
    origins
        .db()
        .create_app_share(&name, &label, expires_at)
        .await
        .map_err(|e| format!("{e:#}"))
}
