//! The app reverse proxy: every running app's local web UI, reachable
//! through the one authenticated front door at `/p/<app>/…`.
//!
//! Pinokio apps listen on `127.0.0.1:<port>`; a cloud box exposes only the
//! dashboard's port. This module maps `/p/<app>/rest` onto the app's local
//! base URL, streaming bodies both ways and tunnelling WebSockets, and fixes
//! up the few headers (`Location`, `Set-Cookie`, `Origin`) that would
//! otherwise point the browser, or the app's CSRF checks, at the wrong place.
//!
//! Authentication is not done here: the caller wraps [`router`] in its auth
//! middleware. Merge the router (`Router::merge`), do not `nest` it: the
//! routes are absolute so that the raw request path can be forwarded as is.
//! For `X-Forwarded-For`, serve with
//! `into_make_service_with_connect_info::<SocketAddr>()`.

mod error;
mod forward;
mod headers;
mod rewrite;
mod targets;
mod upgrade;

pub use error::ProxyError;
pub use forward::Proxy;
pub use targets::{check_app_name, ProxyTargets};

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::sync::Arc;

/// Where every app is mounted; `/p/<app>/…`.
pub const MOUNT: &str = "/p";

/// How the proxy treats requests beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// Cookie names never forwarded to apps: the dashboard's own session
    /// cookie belongs here, since every app shares the dashboard's origin
    /// and would otherwise receive it on each request.
    pub hidden_cookies: Vec<String>,
    /// Drop `Authorization: Bearer` (the dashboard's own login tokens).
    pub strip_authorization: bool,
}

/// The proxy routes with default options. State-less for the caller
/// (`Router<()>`): the registry is captured, so it can be merged next to
/// the dashboard routes.
pub fn router(targets: Arc<ProxyTargets>) -> Router {
    router_with(targets, ProxyOptions::default())
}

/// [`router`] with [`ProxyOptions`].
pub fn router_with(targets: Arc<ProxyTargets>, options: ProxyOptions) -> Router {
    Router::new()
        .route("/p/{app}", any(redirect_to_slash))
        .route("/p/{app}/", any(proxy))
        .route("/p/{app}/{*rest}", any(proxy))
        .with_state(forward::Proxy::new(targets, options))
}

/// The public prefix of one app, e.g. `/p/comfyui`.
pub fn prefix(app: &str) -> String {
    format!("{MOUNT}/{app}")
}

/// Env vars that make common frameworks generate URLs under `/p/<app>` while
/// still serving at their own root (the proxy strips the prefix).
///
/// - `GRADIO_ROOT_PATH`: read by Gradio as the default `root_path`
///   (`gradio/blocks.py`: `self.root_path = os.environ.get("GRADIO_ROOT_PATH", "")`);
///   Gradio ≥ 4.20 combines it with `X-Forwarded-Host`, which the proxy sets.
///
/// Deliberately absent:
/// - Streamlit's `STREAMLIT_SERVER_BASE_URL_PATH` (`--server.baseUrlPath`)
///   makes Streamlit *serve* its routes under the prefix
///   (`make_url_path_regex(base, …)` in `streamlit/web/server/server.py`),
///   which breaks behind a prefix-stripping proxy. (Whether a Streamlit
///   app works under the prefix without it has not been tried.)
/// - ComfyUI has no such setting and uses relative URLs.
///
/// Also `GRADIO_SERVER_NAME=127.0.0.1`: Gradio binds to it unless the script
/// passes a `server_name`, and cloud images often set it to `0.0.0.0`, which
/// would expose the app beside the authenticated front door.
pub fn launch_env(app: &str) -> Vec<(String, String)> {
    vec![
        ("GRADIO_ROOT_PATH".to_string(), prefix(app)),
        ("GRADIO_SERVER_NAME".to_string(), "127.0.0.1".to_string()),
    ]
}

/// `/p/<app>` → `/p/<app>/`: apps use relative asset URLs, which only
/// resolve under the app when the base URL ends in a slash. 307 keeps the
/// method and body, and unlike 301/308 is not cached forever by browsers.
async fn redirect_to_slash(Path(app): Path<String>, req: Request) -> Response {
    if let Err(err) = targets::check_app_name(&app) {
        return ProxyError::from(err).into_response();
    }
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let location = format!("{}/{query}", prefix(&app));
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

/// Every method on `/p/<app>/…`: look the app up and forward, or tunnel
/// when the client asks for a protocol upgrade (WebSocket).
async fn proxy(
    State(proxy): State<forward::Proxy>,
    Path(params): Path<Vec<(String, String)>>,
    req: Request,
) -> Response {
    let app = params
        .into_iter()
        .find(|(k, _)| k == "app")
        .map(|(_, v)| v)
        .unwrap_or_default();
    match proxy.handle(&app, req).await {
        Ok(resp) => resp,
        Err(err) => {
            tracing::debug!(app, error = %err, "proxy request failed");
            err.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_env_sets_gradio_root_path_and_loopback_binding() {
        assert_eq!(
            launch_env("sd"),
            vec![
                ("GRADIO_ROOT_PATH".to_string(), "/p/sd".to_string()),
                ("GRADIO_SERVER_NAME".to_string(), "127.0.0.1".to_string()),
            ]
        );
    }
}
