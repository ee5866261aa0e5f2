//! Which role each route needs: the single table the gate enforces.
//!
//! Server functions carry their role in their path (`/api/public/…`,
//! `/api/view/…`, `/api/op/…`, `/api/admin/…`); anything else under `/api/` is admin-only,
//! so a server function added without a role prefix fails closed.

use app::auth::Role;
use axum::http::Method;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No session needed: the login page and assets it needs, health.
    Public,
    /// A session with at least this role.
    Role(Role),
}

/// Static files anyone may fetch: they hold no user data.
const PUBLIC_PREFIXES: [&str; 1] = ["/pkg/"];
const PUBLIC_PATHS: [&str; 4] = ["/login", "/auth/login", "/healthz", "/favicon.svg"];

pub fn required(method: &Method, path: &str) -> Access {
    if PUBLIC_PATHS.contains(&path) || PUBLIC_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return Access::Public;
    }
    if let Some(rest) = path.strip_prefix("/api/") {
        return Access::Role(match rest.split('/').next() {
            Some("public") => return Access::Public,
            Some("view") => Role::Viewer,
            Some("op") => Role::Operator,
            _ => Role::Admin,
        });
    }
    // Admin pages: the Storage page deletes caches, venvs and apps.
    if ["/settings", "/storage"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
    {
        return Access::Role(Role::Admin);
    }
    // Opening an app signs in to its own origin, where using it needs operator.
    if path.starts_with("/open/") {
        return Access::Role(Role::Operator);
    }
    // Pages, terminals (/ws/), app UIs (/p/): what a viewer is for. Writes to
    // app UIs are the app's business; our own writes go through /api/.
    let _ = method;
    Access::Role(Role::Viewer)
}

/// Requests that change state and so need the same-origin check.
pub fn is_mutating(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_roles_come_from_the_path_and_fail_closed() {
        let post = Method::POST;
        assert_eq!(
            required(&post, "/api/view/whoami"),
            Access::Role(Role::Viewer)
        );
        assert_eq!(
            required(&post, "/api/op/start"),
            Access::Role(Role::Operator)
        );
        assert_eq!(
            required(&post, "/api/admin/share_links"),
            Access::Role(Role::Admin)
        );
        assert_eq!(
            required(&post, "/api/forgot_a_prefix"),
            Access::Role(Role::Admin)
        );
    }

    #[test]
    fn only_login_assets_and_health_are_public() {
        let get = Method::GET;
        for path in [
            "/login",
            "/healthz",
            "/pkg/pinokiocloud.wasm",
            "/favicon.svg",
            "/api/public/login_options",
        ] {
            assert_eq!(required(&get, path), Access::Public, "{path}");
        }
        for path in ["/", "/apps/x", "/p/app/", "/ws/run/1", "/pkgx", "/login/x"] {
            assert_ne!(required(&get, path), Access::Public, "{path}");
        }
        assert_eq!(required(&get, "/settings"), Access::Role(Role::Admin));
        assert_eq!(required(&get, "/storage"), Access::Role(Role::Admin));
    }
}
